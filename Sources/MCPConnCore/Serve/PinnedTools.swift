import Foundation

/// `serve`'s policy: which tools of each connector a client may see and call (``PinGate``). A tool outside the
/// connector's allow-list (issue 26) is left out of listings and a call to it refused, by name, without a warning
/// (it is policy, not an alarm). A connector in pinned mode (issue 25, its own or the store's) then offers its
/// tools only in the form a person approved: a changed or new tool is left out of listings, a call to it is refused
/// with a JSON-RPC error that says why, and each withheld form is warned about once (stderr). The gates are read
/// from the store at the first listing and again whenever the store changes
/// (``Gateway/watchStoredTools(every:_:)``), which tells clients when what is offered changed.
final class PinnedTools: Sendable {
    private struct State {
        /// Each connector's gate, by id; nil until read.
        var gates: [Int64: PinGate]?
        /// Per connector (by upstream index), each tool of its last listing and whether it is offered; pinned
        /// connectors only. Forgotten when the gates change, so a call lists again.
        var listed: [Int: [String: PinStatus]] = [:]
        /// Withheld forms already warned about.
        var warned: Set<String> = []
    }

    private let state = Locked(State())
    private let connectors: [Connector]
    private let storage: ConnectorStorage
    private let warn: @Sendable (String) -> Void

    init(connectors: [Connector], storage: ConnectorStorage, warn: @escaping @Sendable (String) -> Void) {
        self.connectors = connectors
        self.storage = storage
        self.warn = warn
    }

    /// The names of connector `i`'s `tools` (as its server listed them now) that are withheld; empty when the
    /// connector has no allow-list and is not pinned.
    func withheld(_ tools: [JSONValue], of i: Int) -> Set<String> {
        let gate = self.gate(i)
        let filtered =
            gate.filter.isEmpty
            ? [] : Set(tools.compactMap { $0["name"]?.stringValue }.filter { !gate.filter.passes($0) })
        guard gate.isPinned else {
            state.withLock { $0.listed[i] = nil }
            return filtered
        }
        // Nothing passes, for a reason said once when the gate was read (and in each call's refusal).
        if gate.closedBecause != nil { return Set(tools.compactMap { $0["name"]?.stringValue }) }
        var statuses: [String: PinStatus] = [:]
        var warnings: [String] = []
        for tool in tools {
            guard let name = tool["name"]?.stringValue, !filtered.contains(name) else { continue }
            let status = gate.status(of: tool)
            // A name listed twice is offered only if every form of it is approved.
            if statuses[name] == nil || status != .approved { statuses[name] = status }
            if status == .approved { continue }
            let key = "\(i)\u{0}\(name)\u{0}\(status)\u{0}\(PinnedForm(of: tool, .tools).hash)"
            let first = state.withLock { $0.warned.insert(key).inserted }
            if first {
                warnings.append("withheld: " + PinGate.reason(status, tool: name, connector: connectors[i].name))
            }
        }
        state.withLock { $0.listed[i] = statuses }
        warnings.forEach(warn)
        return filtered.union(statuses.filter { $0.value != .approved }.keys)
    }

    /// Whether a call to connector `i`'s tool `name` may go on.
    enum Verdict {
        case allowed
        case refused(JSONRPCError)
        /// Pinned, and the tool is not in the connector's last listing (or none was made): list, then ask again.
        case unlisted
    }

    /// Whether a call may go on; `listed` when the caller already listed the connector's tools for it, so an
    /// unlisted tool is refused rather than listed for again.
    func verdict(_ name: String, of i: Int, listed: Bool) -> Verdict {
        let gate = self.gate(i)
        if let reason = gate.filterRefusal(name, connector: connectors[i].name) {
            let data: JSONObject = ["tool": .string(name), "connector": .string(connectors[i].name), "filtered": true]
            return .refused(JSONRPCError(code: JSONRPCError.invalidParams, message: reason, data: .object(data)))
        }
        guard gate.isPinned else { return .allowed }
        if let reason = gate.closedBecause {
            return .refused(Self.refusal(reason, tool: name, connector: connectors[i].name, status: nil))
        }
        guard let status = state.withLock({ $0.listed[i]?[name] }) else {
            guard listed else { return .unlisted }
            return .refused(
                Self.refusal(
                    "tool '\(name)' is not in the tool list of connector '\(connectors[i].name)' (pinned mode)",
                    tool: name, connector: connectors[i].name, status: nil))
        }
        guard status != .approved else { return .allowed }
        return .refused(
            Self.refusal(
                PinGate.reason(status, tool: name, connector: connectors[i].name), tool: name,
                connector: connectors[i].name, status: status))
    }

    /// The refusal of a withheld tool's call: -32602, the spec's code for an unknown tool, with what withheld it.
    static func refusal(_ message: String, tool: String, connector: String, status: PinStatus?) -> JSONRPCError {
        var data: JSONObject = ["tool": .string(tool), "connector": .string(connector), "pinned": .bool(true)]
        data["status"] = status.map { .string($0.rawValue) } ?? .null
        return JSONRPCError(code: JSONRPCError.invalidParams, message: message, data: .object(data))
    }

    /// Reads the gates again; true when they changed (what is offered may have: clients are told).
    func reload() -> Bool {
        guard let fresh = read() else { return false }
        return state.withLock { s in
            guard s.gates != fresh else { return false }
            s.gates = fresh
            s.listed = [:]
            return true
        }
    }

    private func gate(_ i: Int) -> PinGate {
        let id = connectors[i].id ?? 0
        if let gates = state.withLock({ $0.gates }) { return gates[id] ?? .closed(Self.unreadable) }
        guard let fresh = read() else { return .closed(Self.unreadable) }
        state.withLock { s in if s.gates == nil { s.gates = fresh } }
        return fresh[id] ?? .closed(Self.unreadable)
    }

    static let unreadable = "mcpconn serve could not read the approvals (pinned mode) from the store"

    /// The gates from the store; nil (and a warning) when it cannot be read: then every tool is withheld until
    /// it can, since whether a connector is pinned is not known.
    private func read() -> [Int64: PinGate]? {
        do {
            let found = try storage.pinGates(connectors.compactMap(\.id))
            for w in found.warnings where state.withLock({ $0.warned.insert(w).inserted }) { warn(w) }
            return found.gates
        } catch {
            if state.withLock({ $0.warned.insert("store").inserted }) {
                warn("could not read the approvals (pinned mode), withholding every tool: \(error.message)")
            }
            return nil
        }
    }
}
