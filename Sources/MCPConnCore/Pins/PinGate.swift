/// What one connector lets through: its own tool allow-list (issue 26, ``ToolFilter``) by name, then pinned mode
/// (issue 25): a tool is offered only in the form a person approved. `serve` filters its listings and refuses calls
/// with it, `call` refuses with it, `agents` exports through it. A connector without a filter and not in pinned
/// mode has an open gate.
public struct PinGate: Sendable, Equatable {
    /// The approved tools' hashes by name (as the store keeps names); nil when the connector is not pinned.
    private let approved: [[UInt8]: String]?
    /// The connector's tool allow-list, applied before pinned mode.
    public private(set) var filter = ToolFilter()
    /// Why nothing passes at all (the row changed outside mcpconn, gone, the store unreadable); nil otherwise.
    public private(set) var closedBecause: String?

    /// The gate of a connector not in pinned mode: everything passes.
    public static let open = PinGate(approved: nil)

    private init(approved: [[UInt8]: String]?) { self.approved = approved }

    /// The gate of a pinned connector whose intact pins are `pins` (a pin changed outside mcpconn is no approval).
    init(pins: [Pin]) {
        var hashes: [[UInt8]: String] = [:]
        for pin in pins where pin.kind == .tools { hashes[Array(pin.name.utf8)] = pin.form.hash }
        approved = hashes
    }

    /// A gate that lets nothing through, saying why once for every tool.
    public static func closed(_ reason: String) -> PinGate {
        var gate = PinGate(pins: [])
        gate.closedBecause = reason
        return gate
    }

    /// This gate with `filter` applied first.
    public func filtered(by filter: ToolFilter) -> PinGate {
        var gate = self
        gate.filter = filter
        return gate
    }

    public var isPinned: Bool { approved != nil }

    /// Why the tool allow-list refuses a tool of this name (the server's text: escaped); nil when it passes.
    public func filterRefusal(_ tool: String, connector: String) -> String? {
        filter.isEmpty ? nil : filter.refusal(tool: tool, connector: connector)
    }

    /// Whether a tool, as a server lists it (or the store keeps it), may reach a client: its name passes the
    /// allow-list and, in pinned mode, it is in its approved form.
    public func offers(_ tool: JSONValue) -> Bool {
        guard filter.isEmpty || filter.passes(tool["name"]?.stringValue ?? "") else { return false }
        return status(of: tool) == .approved
    }

    /// Whether a tool, as a server lists it now, may reach a client: `.approved` when it may (or the gate is
    /// open), else `.changed` (approved in another form) or `.new` (never approved).
    public func status(of tool: JSONValue) -> PinStatus {
        guard let approved else { return .approved }
        guard let name = tool["name"]?.stringValue, let hash = approved[Array(StoredText.of(name).utf8)] else {
            return .new
        }
        return PinnedForm(of: tool, .tools).hash == hash ? .approved : .changed
    }

    /// Why a tool is withheld, for a JSON-RPC error, a warning line or an exit line: what happened and what
    /// approves it. The tool's name is the server's text: escaped.
    public static func reason(_ status: PinStatus, tool: String, connector: String) -> String {
        let what =
            status == .changed
            ? "changed since it was approved" : "was never approved"
        return
            "tool '\(TerminalText.escape(tool))' of connector '\(connector)' \(what) (pinned mode): see `mcpconn pins \(connector)`, then `mcpconn approve \(connector) \(TerminalText.escape(tool))`"
    }
}

/// The store-wide pinned mode (`mcpconn policy --pinned`): every connector of the store, of every user, in pinned
/// mode, besides those pinned one by one (`update REF --pinned`). Kept in `meta` under a seal: a value changed
/// outside mcpconn counts as pinned (and is reported), a value removed as not set (docs/security.md).
public struct PinPolicy: Sendable, Equatable {
    /// Whether every connector is pinned.
    public var pinned: Bool
    /// The stored setting's seal does not check: it is enforced as pinned until set again.
    public var changedOutside: Bool = false

    static let metaKey = "pin_policy"

    /// The stored text: the mode, a space, its seal.
    static func text(pinned: Bool, _ seal: RecordSeal) -> String {
        let mode = pinned ? "pinned" : "open"
        return mode + " " + seal.seal(kind: "meta", id: 0, fields(mode))
    }

    /// The policy a stored text says; not set (nil) reads as open.
    static func read(_ text: String?, _ seal: RecordSeal) -> PinPolicy {
        guard let text else { return PinPolicy(pinned: false) }
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == "pinned" || parts[0] == "open",
            seal.changedFields(parts[1], kind: "meta", id: 0, fields(parts[0])).isEmpty
        else { return PinPolicy(pinned: true, changedOutside: true) }
        return PinPolicy(pinned: parts[0] == "pinned")
    }

    private static func fields(_ mode: String) -> [RecordSeal.Field] {
        [RecordSeal.Field(name: metaKey, value: Array(mode.utf8))]
    }

    /// `policy --json`'s object.
    public var json: JSONValue {
        ["pinned": .bool(pinned), "changed_outside": .bool(changedOutside)]
    }
}
