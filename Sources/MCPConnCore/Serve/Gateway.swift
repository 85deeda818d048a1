import Foundation

/// mcpconn as an MCP server in front of connectors (`serve`): a client sees one server whose tools are its
/// connectors' tools (named as they are for one connector, `<connector>__<tool>` for several), and never a
/// credential. Speaks the handshake era to clients (`initialize`); a 2026-07-28 client's `server/discover` is
/// refused as the spec lets a server of that era do, and the client falls back to the handshake.
public final class Gateway: Sendable {
    private let upstreams: [Upstream]
    private let prefixed: Bool
    private let routes: RouteTable
    private let log: (@Sendable (String) -> Void)?

    /// Tool names clients may use: letters, digits, `_`, `-`, `.`; at most 128 characters (the MCP spec's rule).
    static let maxToolName = 128

    public init(
        manager: ConnectorManager, connectors: [Connector], settings: NetworkSettings,
        log: (@Sendable (String) -> Void)? = nil
    ) {
        upstreams = connectors.map { Upstream($0, manager: manager, settings: settings) }
        prefixed = connectors.count > 1
        routes = RouteTable()
        self.log = log
    }

    /// Answers one message from the client; nil for notifications and answers, which need none.
    public func handle(_ message: JSONRPCMessage) async -> JSONValue? {
        guard case .request(let id, let method, let params) = message else { return nil }
        switch method {
        case "initialize": return Self.result(id, initializeResult(params))
        case "ping": return Self.result(id, .object([:]))
        case "tools/list": return Self.result(id, .object(["tools": .array(await listTools())]))
        case "tools/call": return Self.result(id, await callTool(params))
        default: return Self.error(id, JSONRPCError.methodNotFound, "method '\(method)' is not offered by mcpconn serve")
        }
    }

    /// Ends every upstream session (local servers' processes with them).
    public func close() async {
        await withTaskGroup(of: Void.self) { group in
            for u in upstreams { group.addTask { await u.close() } }
        }
    }

    private func initializeResult(_ params: JSONValue?) -> JSONValue {
        let asked = params?["protocolVersion"]?.stringValue ?? ""
        let version = MCPClient.handshakeVersions.contains(asked) ? asked : MCPClient.handshakeVersions[0]
        return .object([
            "protocolVersion": .string(version),
            "capabilities": .object(["tools": .object(["listChanged": .bool(false)])]),
            "serverInfo": .object(["name": "mcpconn", "version": .string(MCPConnVersion.string)]),
        ])
    }

    /// Every connector's tools, listed concurrently; one that fails is left out (and logged), never the others.
    private func listTools() async -> [JSONValue] {
        let lists = await withTaskGroup(of: (Int, [JSONValue]).self) { group in
            for (i, u) in upstreams.enumerated() {
                group.addTask {
                    switch await u.listTools() {
                    case .success(let tools): return (i, tools)
                    case .failure(let e):
                        self.log?("serve: \(e.message)")
                        return (i, [])
                    }
                }
            }
            var out = [[JSONValue]](repeating: [], count: upstreams.count)
            for await (i, tools) in group { out[i] = tools }
            return out
        }
        var listed: [JSONValue] = []
        var table: [String: RouteTable.Route] = [:]
        for (i, tools) in lists.enumerated() {
            for tool in tools {
                guard let name = tool["name"]?.stringValue, var object = tool.objectValue else { continue }
                let exposed = uniqueName(prefixed ? Self.prefixedName(upstreams[i].name, name) : name, in: table)
                table[exposed] = .init(upstream: i, tool: name)
                object["name"] = .string(exposed)
                listed.append(.object(object))
            }
        }
        routes.replace(table)
        return listed
    }

    private func callTool(_ params: JSONValue?) async -> JSONValue {
        guard let name = params?["name"]?.stringValue else { return Self.toolError("tools/call needs a tool name") }
        let arguments = params?["arguments"]?.objectValue ?? JSONObject()
        if routes.isEmpty { _ = await listTools() }  // a client may call without listing first
        guard let route = routes[name] else { return Self.toolError("no tool '\(name)' behind mcpconn serve") }
        let u = upstreams[route.upstream]
        let start = ContinuousClock.now
        let outcome = await u.call(route.tool, arguments: arguments)
        let ms = ConnectorManager.milliseconds(since: start)
        switch outcome {
        case .success(let result):
            let failed = result["isError"]?.boolValue == true
            log?("serve: \(u.name) \(route.tool): \(failed ? "isError" : "ok") in \(ms) ms")
            return result
        case .failure(let e):
            log?("serve: \(u.name) \(route.tool): failed in \(ms) ms: \(e.message)")
            return Self.toolError(e.message)
        }
    }

    /// `<connector>__<tool>` with characters outside the allowed set replaced by `_`, cut to the limit.
    static func prefixedName(_ connector: String, _ tool: String) -> String {
        let safe = (connector + "__" + tool).unicodeScalars.map { s -> Character in
            let ok = s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "_-.".unicodeScalars.contains(s))
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

    static func result(_ id: JSONValue, _ result: JSONValue) -> JSONValue {
        .object(["jsonrpc": "2.0", "id": id, "result": result])
    }

    static func error(_ id: JSONValue, _ code: Int, _ message: String) -> JSONValue {
        .object(["jsonrpc": "2.0", "id": id, "error": .object(["code": .int(Int64(code)), "message": .string(message)])])
    }

    /// A failure the model can read: a tool result with `isError`, carrying the CLI's one-line message.
    static func toolError(_ text: String) -> JSONValue {
        .object(["content": .array([.object(["type": "text", "text": .string(text)])]), "isError": .bool(true)])
    }
}

/// Which connector and tool an exposed name leads to, replaced whole at each `tools/list`.
final class RouteTable: @unchecked Sendable {
    // Safe to share: `table` is touched only under `lock`.
    struct Route: Sendable {
        var upstream: Int
        var tool: String
    }

    private let lock = NSLock()
    private var table: [String: Route] = [:]

    var isEmpty: Bool { lock.withLock { table.isEmpty } }
    subscript(name: String) -> Route? { lock.withLock { table[name] } }
    func replace(_ t: [String: Route]) { lock.withLock { table = t } }
}
