import Foundation

/// mcpconn as an MCP server in front of connectors (`serve`): a client sees one server whose tools and prompts
/// are its connectors' (named as they are for one connector, `<connector>__<name>` for several), whose resources
/// are theirs under their own URIs, and never a credential. Speaks both eras to clients: `initialize`, or
/// 2026-07-28's `server/discover` and per-request envelopes (stdio carries no headers, so nothing else differs).
public final class Gateway: Sendable {
    private let upstreams: [Upstream]
    private let manager: ConnectorManager
    private let routes: [String: RouteTable]
    private let log: (@Sendable (String) -> Void)?

    /// Tool names clients may use: letters, digits, `_`, `-`, `.`; at most 128 characters (the MCP spec's rule).
    static let maxToolName = 128

    public init(
        manager: ConnectorManager, connectors: [Connector], settings: NetworkSettings,
        log: (@Sendable (String) -> Void)? = nil
    ) {
        upstreams = connectors.map { Upstream($0, sessions: manager.sessions, settings: settings) }
        self.manager = manager
        routes = Dictionary(uniqueKeysWithValues: Catalog.all.map { ($0.key, RouteTable()) })
        self.log = log
    }

    private var several: Bool { upstreams.count > 1 }

    /// Sends the client a notification about its request (a line on stdout, an event on the request's stream).
    public typealias Notify = @Sendable (JSONValue) -> Void

    /// Answers one message from the client; nil for notifications and answers, which need none. A request in
    /// the 2026-07-28 envelope gets its result in that era's shape. While a forwarded request runs, what its
    /// connector says about it goes to `notify`, all before this returns: progress when the request asked for it
    /// (`_meta.progressToken`, which the relayed progress carries), and log messages (see `NotificationRelay`).
    public func handle(_ message: JSONRPCMessage, notify: Notify? = nil) async -> JSONValue? {
        guard case .request(_, let method, let params) = message else { return nil }
        let answer = await answer(message, notify: notify)
        let version = params?["_meta"]?[MCPVocabulary.Meta.protocolVersion]?.stringValue
        let modern = version.map(MCPVocabulary.modernVersions.contains)
        guard var object = answer?.objectValue, let result = object["result"]?.objectValue else { return answer }
        object["result"] = .object(
            modern == true
                ? Self.modern(result, listing: Catalog.all.contains { $0.list == method }, serverInfo: serverInfo)
                : Self.handshake(result))
        return .object(object)
    }

    /// A result as 2026-07-28 requires: `resultType` on every one, on lists their caching terms (none kept: what
    /// a connector offers can change with any refresh), and the identity of the server the client talks to,
    /// mcpconn (not the connector's, which an upstream of that era put there).
    static func modern(_ result: JSONObject, listing: Bool, serverInfo: JSONValue) -> JSONObject {
        var r = result
        if r["resultType"] == nil { r["resultType"] = "complete" }
        if listing {
            r["cacheScope"] = "private"
            r["ttlMs"] = .int(0)
        }
        var meta = r["_meta"]?.objectValue ?? JSONObject()
        meta[MCPVocabulary.Meta.serverInfo] = serverInfo
        r["_meta"] = .object(meta)
        return r
    }

    /// A result for a handshake-era client: without what a 2026-07-28 connector added for its own era.
    static func handshake(_ result: JSONObject) -> JSONObject {
        var r = result
        for key in ["resultType", "cacheScope", "ttlMs"] { r[key] = nil }
        if var meta = r["_meta"]?.objectValue {
            meta[MCPVocabulary.Meta.serverInfo] = nil
            r["_meta"] = meta.isEmpty ? nil : .object(meta)
        }
        return r
    }

    private func answer(_ message: JSONRPCMessage, notify: Notify?) async -> JSONValue? {
        guard case .request(let id, let method, let params) = message else { return nil }
        if let catalog = Catalog.all.first(where: { $0.list == method }) {
            return JSONRPC.result(id: id, .object([catalog.key: .array(await list(catalog))]))
        }
        switch method {
        case "initialize": return JSONRPC.result(id: id, initializeResult(params))
        case "server/discover": return discoverResult(id, params)
        case "ping": return JSONRPC.result(id: id, .object([:]))
        // Accepted, not kept: a connector's log messages reach a handshake-era client from info up.
        case "logging/setLevel": return JSONRPC.result(id: id, .object([:]))
        case "tools/call": return JSONRPC.result(id: id, await callTool(params, notify))
        case "prompts/get": return await forward(id, method, params, by: .prompts, at: ["name"], notify)
        case "resources/read": return await forward(id, method, params, by: .resources, at: ["uri"], notify)
        case "completion/complete":
            switch params?["ref"]?["type"]?.stringValue {
            case "ref/prompt": return await forward(id, method, params, by: .prompts, at: ["ref", "name"], notify)
            case "ref/resource":
                return await forward(id, method, params, by: .resources, at: ["ref", "uri"], notify)
            default:
                return JSONRPC.error(
                    id: id, code: JSONRPCError.invalidParams,
                    message: "completion/complete needs a prompt or resource ref")
            }
        default:
            return JSONRPC.error(
                id: id, code: JSONRPCError.methodNotFound,
                message: "method '\(method)' is not offered by mcpconn serve")
        }
    }

    /// Calls `changed` each time a connector's stored tool list changes (a `refresh` or `verify` in another
    /// process found new tools), until cancelled. Checks the store's change token every `interval` (see
    /// ``Store/changeToken(userID:)``) and reads the tool lists only when it moved.
    public func watchStoredTools(every interval: Duration = .seconds(1), _ changed: @Sendable () -> Void) async {
        let ids = upstreams.compactMap(\.connector.id)
        var version = try? manager.storage.storeVersion()
        var known = (try? manager.storage.storedTools(ids)) ?? [:]
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard let now = try? manager.storage.storeVersion(), now != version else { continue }
            version = now
            guard let tools = try? manager.storage.storedTools(ids), tools != known else { continue }
            known = tools
            log?("serve: a connector's stored tools changed: telling the client (notifications/tools/list_changed)")
            changed()
        }
    }

    /// Ends every upstream session (local servers' processes with them).
    public func close() async {
        await withTaskGroup(of: Void.self) { group in
            for u in upstreams { group.addTask { await u.close() } }
        }
    }

    /// The 2026-07-28 era: `server/discover` at a version mcpconn speaks names its versions and capabilities;
    /// the client's requests then carry their envelope in `_meta`, which `serve` needs nothing from. Asked at
    /// a version it does not speak, the answer is the spec's -32022 with the versions it does.
    private func discoverResult(_ id: JSONValue, _ params: JSONValue?) -> JSONValue {
        let asked = params?["_meta"]?[MCPVocabulary.Meta.protocolVersion]?.stringValue
        guard let asked, MCPVocabulary.modernVersions.contains(asked) else {
            let versions = MCPVocabulary.modernVersions + MCPVocabulary.handshakeVersions
            let supported = JSONValue.array(versions.map { .string($0) })
            return JSONRPC.error(
                id: id, code: JSONRPCError.unsupportedProtocolVersion, message: "unsupported protocol version",
                data: .object(["supported": supported]))
        }
        return JSONRPC.result(
            id: id,
            .object([
                "supportedVersions": .array(MCPVocabulary.modernVersions.map { .string($0) }),
                "capabilities": capabilities,
                "resultType": "complete", "cacheScope": "private", "ttlMs": .int(0),
                "_meta": .object([MCPVocabulary.Meta.serverInfo: serverInfo]),
            ]))
    }

    private var serverInfo: JSONValue { .object(["name": "mcpconn", "version": .string(MCPConnVersion.string)]) }

    private var capabilities: JSONValue {
        .object([
            "tools": .object(["listChanged": .bool(true)]), "prompts": .object(["listChanged": .bool(false)]),
            "resources": .object(["listChanged": .bool(false), "subscribe": .bool(false)]),
            "completions": .object([:]), "logging": .object([:]),
        ])
    }

    private func initializeResult(_ params: JSONValue?) -> JSONValue {
        let asked = params?["protocolVersion"]?.stringValue ?? ""
        let version = MCPVocabulary.handshakeVersions.contains(asked) ? asked : MCPVocabulary.handshakeVersions[0]
        return .object(["protocolVersion": .string(version), "capabilities": capabilities, "serverInfo": serverInfo])
    }

    /// Every connector's items of a catalog, listed concurrently. A connector that fails is left out (and
    /// logged), never the others; one that does not offer the catalog (method not found) adds nothing.
    private func list(_ catalog: Catalog) async -> [JSONValue] {
        let lists = await withTaskGroup(of: (Int, [JSONValue]).self) { group in
            for (i, u) in upstreams.enumerated() {
                group.addTask {
                    switch await u.list(catalog.list, key: catalog.key) {
                    case .success(let items): return (i, items)
                    case .failure(let e):
                        self.log?("serve: \(e.message)")
                        return (i, [])
                    }
                }
            }
            var out = [[JSONValue]](repeating: [], count: upstreams.count)
            for await (i, items) in group { out[i] = items }
            return out
        }
        var listed: [JSONValue] = []
        var table: [String: RouteTable.Route] = [:]
        for (i, items) in lists.enumerated() {
            for item in items {
                guard let name = item[catalog.nameKey]?.stringValue, var object = item.objectValue else { continue }
                guard catalog.prefixed else {
                    if table[name] == nil { table[name] = .init(upstream: i, name: name) }  // a URI: the first wins
                    listed.append(item)
                    continue
                }
                let exposed = uniqueName(several ? Self.prefixedName(upstreams[i].name, name) : name, in: table)
                table[exposed] = .init(upstream: i, name: name)
                object[catalog.nameKey] = .string(exposed)
                listed.append(.object(object))
            }
        }
        routes[catalog.key]?.replace(table)
        return listed
    }

    /// The connector and its own name behind an exposed name; with one connector, any name goes to it.
    private func route(_ name: String, in catalog: Catalog) async -> RouteTable.Route? {
        guard let table = routes[catalog.key] else { return nil }
        if table.isEmpty { _ = await list(catalog) }  // a client may call without listing first
        if let r = table[name] { return r }
        return several ? nil : .init(upstream: 0, name: name)
    }

    private func callTool(_ params: JSONValue?, _ notify: Notify?) async -> JSONValue {
        guard let name = params?["name"]?.stringValue else { return Self.toolError("tools/call needs a tool name") }
        let arguments = params?["arguments"]?.objectValue ?? JSONObject()
        guard let route = await route(name, in: .tools) else {
            return Self.toolError("no tool '\(name)' behind mcpconn serve")
        }
        let u = upstreams[route.upstream]
        let start = ContinuousClock.now
        let outcome = await relaying(params, to: notify) {
            await u.call(route.name, arguments: arguments, notifications: $0)
        }
        let ms = ConnectorSessions.milliseconds(since: start)
        switch outcome {
        case .success(let result):
            if let asked = CallResultText.inputRequired(result) {
                log?("serve: \(u.name) \(route.name): asked for input in \(ms) ms: \(asked)")
                return Self.toolError(Self.inputNotRelayed(u.name, asked))
            }
            let failed = result["isError"]?.boolValue == true
            log?("serve: \(u.name) \(route.name): \(failed ? "isError" : "ok") in \(ms) ms")
            return result
        case .failure(let e):
            log?("serve: \(u.name) \(route.name): failed in \(ms) ms: \(e.message)")
            return Self.toolError(e.message)
        }
    }

    /// A request routed by the name found at `path` in its params (rewritten to the connector's own name; its
    /// `_meta` is the client's, not sent on); the connector's answer as it is, or its failure as a JSON-RPC error
    /// with the CLI's one-line text.
    private func forward(
        _ id: JSONValue, _ method: String, _ params: JSONValue?, by catalog: Catalog, at path: [String],
        _ notify: Notify?
    ) async -> JSONValue {
        let name = path.reduce(params) { $0?[$1] }?.stringValue ?? ""
        guard let route = await route(name, in: catalog) else {
            return JSONRPC.error(
                id: id, code: JSONRPCError.invalidParams, message: "no \(catalog.noun) '\(name)' behind mcpconn serve")
        }
        let u = upstreams[route.upstream]
        var rewritten = Self.replacing(params ?? .object([:]), at: path, with: .string(route.name)).objectValue
        rewritten?["_meta"] = nil
        let start = ContinuousClock.now
        let outcome = await relaying(params, to: notify) {
            await u.request(method, rewritten.map(JSONValue.object), notifications: $0)
        }
        let ms = ConnectorSessions.milliseconds(since: start)
        log?("serve: \(u.name) \(method) \(route.name): \(outcome.isSuccess ? "ok" : "failed") in \(ms) ms")
        switch outcome {
        case .success(let result):
            if let asked = CallResultText.inputRequired(result) {
                return JSONRPC.error(
                    id: id, code: JSONRPCError.internalError, message: Self.inputNotRelayed(u.name, asked))
            }
            return JSONRPC.result(id: id, result)
        case .failure(let e): return JSONRPC.error(id: id, code: JSONRPCError.internalError, message: e.message)
        }
    }

    /// Runs a forwarded request with what its connector says about it relayed to the client, as far as the
    /// client's request asked (its `_meta`) and there is a `notify` to relay to.
    private func relaying<T: Sendable>(
        _ params: JSONValue?, to notify: Notify?, _ body: (RequestNotifications?) async -> T
    ) async -> T {
        let relay = NotificationRelay(params)
        guard let notify, relay.wantsAny else { return await body(nil) }
        return await relay.run(to: notify) { await body($0) }
    }

    static func replacing(_ value: JSONValue, at path: [String], with new: JSONValue) -> JSONValue {
        guard let key = path.first, var object = value.objectValue else { return value }
        let inner = object[key] ?? .object([:])
        object[key] = path.count == 1 ? new : replacing(inner, at: Array(path.dropFirst()), with: new)
        return .object(object)
    }

    /// `<connector>__<tool>` with characters outside the allowed set replaced by `_`, cut to the limit.
    static func prefixedName(_ connector: String, _ tool: String) -> String {
        let safe = (connector + "__" + tool).unicodeScalars.map { s -> Character in
            let ok =
                s.isASCII
                && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "_-.".unicodeScalars.contains(s))
            return ok ? Character(s) : "_"
        }
        return String(String(safe).prefix(maxToolName))
    }

    /// A name no earlier tool took: `name`, else `name_2`, `name_3`… (kept within the limit).
    private func uniqueName(_ name: String, in table: [String: RouteTable.Route]) -> String {
        guard table[name] != nil else { return name }
        var n = 2
        while true {
            let suffix = "_\(n)"
            let candidate = String(name.prefix(Self.maxToolName - suffix.count)) + suffix
            if table[candidate] == nil { return candidate }
            n += 1
        }
    }

    /// Why a connector's `input_required` answer (2026-07-28) reaches the client as a failure: serve would have to
    /// relay the questions and pass the client's answers and the connector's `requestState` back, which it does
    /// not do yet. Passed on as it is, a handshake-era client would read it as an empty success, and a
    /// 2026-07-28 one would answer in vain.
    static func inputNotRelayed(_ connector: String, _ asked: String) -> String {
        "connector '\(connector)' asked for input, which mcpconn serve does not relay yet: \(asked)"
    }

    /// A failure the model can read: a tool result with `isError`, carrying the CLI's one-line message.
    static func toolError(_ text: String) -> JSONValue {
        .object(["content": .array([.object(["type": "text", "text": .string(text)])]), "isError": .bool(true)])
    }
}

/// What a client lists, then reaches by name: tools, prompts, resources (by URI), resource templates.
struct Catalog: Sendable {
    let list: String
    let key: String
    let nameKey: String
    /// Names get `<connector>__` when there are several connectors; URIs stay as they are.
    let prefixed: Bool
    let noun: String

    static let tools = Catalog(list: "tools/list", key: "tools", nameKey: "name", prefixed: true, noun: "tool")
    static let prompts = Catalog(list: "prompts/list", key: "prompts", nameKey: "name", prefixed: true, noun: "prompt")
    static let resources = Catalog(
        list: "resources/list", key: "resources", nameKey: "uri", prefixed: false, noun: "resource")
    static let templates = Catalog(
        list: "resources/templates/list", key: "resourceTemplates", nameKey: "uriTemplate", prefixed: false,
        noun: "resource template")
    static let all = [tools, prompts, resources, templates]
}

/// Which connector and own name an exposed name leads to, replaced whole at each listing.
final class RouteTable: @unchecked Sendable {
    // Safe to share: `table` is touched only under `lock`.
    struct Route: Sendable {
        var upstream: Int
        var name: String
    }

    private let lock = NSLock()
    private var table: [String: Route] = [:]

    var isEmpty: Bool { lock.withLock { table.isEmpty } }
    subscript(name: String) -> Route? { lock.withLock { table[name] } }
    func replace(_ t: [String: Route]) { lock.withLock { table = t } }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
