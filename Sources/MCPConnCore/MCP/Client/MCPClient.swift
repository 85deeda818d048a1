import Foundation

/// What the server said about itself at connection time.
public struct ServerIdentity: Sendable, Equatable {
    public var name: String?
    public var version: String?
    public var protocolVersion: String
    public var instructions: String?
    public var capabilities: JSONValue?
    /// `streamable-http` or `sse` (the legacy HTTP+SSE transport).
    public var transport: String
}

/// An MCP client session with one server over HTTP: connect, list tools, call tools, ping, close.
///
/// Not shared between tasks: one connector operation owns one client.
public final class MCPClient {
    /// Protocol versions of the handshake era this client speaks, newest first.
    public static let handshakeVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

    public struct Options: Sendable {
        /// The whole operation's deadline.
        public var deadline: ContinuousClock.Instant
        /// Cap on any single answer's size.
        public var maxBytes: Int
        /// Header carrying the credential, if any.
        public var credentialHeader: (name: String, value: String)?
        public var log: ProtocolLog?

        public init(
            deadline: ContinuousClock.Instant, maxBytes: Int = 32 * 1024 * 1024,
            credentialHeader: (name: String, value: String)? = nil, log: ProtocolLog? = nil
        ) {
            self.deadline = deadline
            self.maxBytes = maxBytes
            self.credentialHeader = credentialHeader
            self.log = log
        }
    }

    public let url: String
    let options: Options
    private var transport: MCPTransport?
    private var nextID = 1
    public private(set) var identity: ServerIdentity?

    public init(url: String, options: Options) {
        self.url = url
        self.options = options
    }

    private var settings: TransportSettings {
        TransportSettings(
            credentialHeaders: options.credentialHeader.map { [$0] } ?? [], maxBytes: options.maxBytes,
            log: options.log)
    }

    /// Connects: streamable HTTP first, the legacy SSE transport when the URL ends in /sse or the POST is refused.
    public func connect() async throws(MCPClientError) -> ServerIdentity {
        let path = URLComponents(string: url)?.path ?? ""
        if path.hasSuffix("/sse") || path.hasSuffix("/sse/") {
            return try await connectLegacy()
        }
        let t = StreamableHTTPTransport(url: url, settings: settings)
        transport = t
        do {
            return try await initialize(over: t, transportName: "streamable-http")
        } catch .http(let status, let detail) where [400, 404, 405].contains(status) {
            options.log?.note("POST initialize answered HTTP \(status): trying the legacy HTTP+SSE transport")
            do {
                return try await connectLegacy()
            } catch .notMCP {
                throw .http(status: status, detail: detail)
            }
        }
    }

    private func connectLegacy() async throws(MCPClientError) -> ServerIdentity {
        let t = LegacySSETransport(url: url, settings: settings)
        transport = t
        try await t.connect(deadline: options.deadline)
        return try await initialize(over: t, transportName: "sse")
    }

    private func initialize(over t: MCPTransport, transportName: String) async throws(MCPClientError)
        -> ServerIdentity
    {
        var offer = Self.handshakeVersions[0]
        for attempt in 0..<2 {
            let params: JSONValue = .object([
                "protocolVersion": .string(offer),
                "capabilities": .object([:]),
                "clientInfo": .object(["name": "mcpconn", "version": .string(MCPConnVersion.string)]),
            ])
            let result: JSONValue
            do {
                result = try await send("initialize", params, over: t)
            } catch .rpc(let e) where attempt == 0 {
                // A server may name the versions it supports; retry once with the newest we share.
                let supported = (e.data?["supported"]?.arrayValue ?? []).compactMap(\.stringValue)
                guard let shared = Self.handshakeVersions.first(where: supported.contains), shared != offer else {
                    throw .rpc(e)
                }
                offer = shared
                continue
            }
            guard let version = result["protocolVersion"]?.stringValue else {
                throw .notMCP("the initialize result has no protocolVersion")
            }
            guard Self.handshakeVersions.contains(version) else {
                throw .notMCP("the server wants protocol version \(version), which mcpconn does not support")
            }
            t.setProtocolVersion(version)
            try await t.notify(JSONRPC.notification(method: "notifications/initialized"), deadline: options.deadline)
            let info = result["serverInfo"]
            let id = ServerIdentity(
                name: info?["name"]?.stringValue, version: info?["version"]?.stringValue, protocolVersion: version,
                instructions: result["instructions"]?.stringValue, capabilities: result["capabilities"],
                transport: transportName)
            identity = id
            return id
        }
        throw .notMCP("initialize failed")
    }

    /// Sends one request and returns its result; an expired session is re-initialized once.
    public func request(_ method: String, _ params: JSONValue?) async throws(MCPClientError) -> JSONValue {
        guard let t = transport else { throw .notMCP("not connected") }
        do {
            return try await send(method, params, over: t)
        } catch .sessionExpired {
            options.log?.note("the session expired: initializing again")
            if let s = t as? StreamableHTTPTransport { s.resetSession() }
            _ = try await initialize(over: t, transportName: identity?.transport ?? "streamable-http")
            return try await send(method, params, over: t)
        }
    }

    private func send(_ method: String, _ params: JSONValue?, over t: MCPTransport) async throws(MCPClientError)
        -> JSONValue
    {
        let id = nextID
        nextID += 1
        let answer = try await t.request(
            JSONRPC.request(id: id, method: method, params: params), id: .int(id), deadline: options.deadline)
        switch answer {
        case .response(_, let result): return result
        case .errorResponse(_, let e): throw .rpc(e)
        default: throw .notMCP("unexpected message")
        }
    }

    /// Lists every tool, following `nextCursor` (bounded, so a looping server cannot keep us forever).
    public func listTools() async throws(MCPClientError) -> [JSONValue] {
        var tools: [JSONValue] = []
        var cursor: String?
        var seen: Set<String> = []
        for _ in 0..<1000 {
            let params: JSONValue? = cursor.map { .object(["cursor": .string($0)]) }
            let result = try await request("tools/list", params)
            guard let page = result["tools"]?.arrayValue else {
                throw .notMCP("the tools/list result has no tools array")
            }
            tools += page
            guard let next = result["nextCursor"]?.stringValue, !next.isEmpty else { return tools }
            if !seen.insert(next).inserted { throw .notMCP("tools/list repeats cursor '\(next)'") }
            cursor = next
        }
        throw .notMCP("tools/list did not end after 1000 pages")
    }

    /// Calls a tool and returns the CallToolResult as the server sent it.
    public func callTool(_ name: String, arguments: JSONObject) async throws(MCPClientError) -> JSONValue {
        let result = try await request(
            "tools/call", .object(["name": .string(name), "arguments": .object(arguments)]))
        guard result.objectValue != nil else { throw .notMCP("the tools/call result is not an object") }
        return result
    }

    /// Pings the server.
    public func ping() async throws(MCPClientError) {
        _ = try await request("ping", nil)
    }

    /// Ends the session (DELETE for streamable HTTP; closing the stream for legacy SSE). Never fails.
    public func close() async {
        guard let t = transport else { return }
        transport = nil
        await t.close(deadline: min(options.deadline, .now + .seconds(2)))
    }
}
