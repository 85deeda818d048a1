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
    /// How requests are framed: one self-contained POST each (modern) or after `initialize` (handshake).
    public var era: ProtocolEra

    public init(
        name: String?, version: String?, protocolVersion: String, instructions: String?, capabilities: JSONValue?,
        transport: String, era: ProtocolEra
    ) {
        self.name = name
        self.version = version
        self.protocolVersion = protocolVersion
        self.instructions = instructions
        self.capabilities = capabilities
        self.transport = transport
        self.era = era
    }
}

extension ServerIdentity {
    /// The fields the store keeps (capabilities are not stored).
    package var stored: ServerIdentity {
        var s = self
        s.capabilities = nil
        return s
    }
}

/// The two eras of MCP: the `initialize` handshake (up to 2025-11-25) and per-request envelopes (2026-07-28).
public enum ProtocolEra: String, Sendable, Codable {
    case handshake
    case modern
}

/// What a caller wants to hear from the server about one request while it is in flight, and where it goes.
public struct RequestNotifications: Sendable {
    /// Asks the server for `notifications/progress`: the request carries a progressToken of the client's own in
    /// `_meta`, which the notifications received carry too.
    public var progress: Bool
    /// Asks a 2026-07-28 server for `notifications/message` at this level and above (its per-request opt-in);
    /// handshake-era servers send theirs unasked. Nil asks for none.
    public var logLevel: String?
    /// Gets the request's progress, and the log messages that come while it is in flight (on a stream several
    /// requests share, the oldest listening one gets them), as the server sent them. Called on a transport's thread,
    /// before the answer is returned: it must return at once.
    public var receive: @Sendable (_ method: String, _ params: JSONValue?) -> Void

    public init(
        progress: Bool, logLevel: String?, receive: @escaping @Sendable (_ method: String, _ params: JSONValue?) -> Void
    ) {
        self.progress = progress
        self.logLevel = logLevel
        self.receive = receive
    }
}

/// An MCP client session with one server: connect, list tools, call tools, ping, close. Over HTTP it picks
/// its transports as the server's era requires (streamable HTTP, legacy HTTP+SSE); a stream transport (a
/// local server's pipes) is given to it, and the same negotiation runs over that one channel.
///
/// Not shared between tasks: one connector operation owns one client.
// @unchecked Sendable: it may move between tasks (a `serve` upstream hands it from request to request), but is
// used by one at a time: the operation that owns it, or `Upstream`, which holds it in turns.
public final class MCPClient: @unchecked Sendable {
    public struct Options: Sendable {
        /// The whole operation's deadline.
        public var deadline: ContinuousClock.Instant
        /// Cap on any single answer's size.
        public var maxBytes: Int
        /// Headers carrying the credential and any other sealed headers, sent only to the server's origin.
        public var credentialHeaders: [(name: String, value: String)]
        public var log: ProtocolLog?
        /// CA bundle, client certificate, pinned keys (nil: the environment's CA bundle, if any).
        public var tls: TLSSettings?
        /// How the client answers the server's own requests; the capabilities it declares come from them.
        package var handlers = ServerRequestHandlers.unattended

        public init(
            deadline: ContinuousClock.Instant, maxBytes: Int = 32 * 1024 * 1024,
            credentialHeaders: [(name: String, value: String)] = [], log: ProtocolLog? = nil, tls: TLSSettings? = nil
        ) {
            self.deadline = deadline
            self.maxBytes = maxBytes
            self.credentialHeaders = credentialHeaders
            self.log = log
            self.tls = tls
        }
    }

    /// The server's URL, or the command line of a local server.
    public let url: String
    private(set) var options: Options
    /// Makes the stream channel of a non-HTTP server (given the operation's settings); nil for HTTP.
    private let makeStream: ((TransportSettings) -> StreamChannel)?
    /// Owns ids, pending requests, routing and the answers to the server's requests, for every channel tried.
    private let session: MCPSession
    /// The channel in use (the session's).
    private var transport: (any MessageChannel)? {
        get { session.channel }
        set { session.use(newValue) }
    }
    public private(set) var identity: ServerIdentity?
    /// The modern protocol version in use, when requests carry the per-request envelope.
    private var modernVersion: String?
    /// True when a remembered era was refused and the client negotiated afresh (the caller should store it).
    public private(set) var renegotiated = false
    /// What the caller remembered about this server, used to skip negotiation.
    private var hint: ServerIdentity?
    /// A notification still on its way; requests wait for it so the server sees messages in order.
    private var pendingNotification: Task<Void, Never>?
    /// Counts HTTP requests that carried MCP messages, for tests and traces.
    public private(set) var exchanges = 0

    public init(url: String, options: Options) {
        self.url = url
        self.options = options
        makeStream = nil
        session = MCPSession(handlers: options.handlers)
    }

    /// A client over a stream channel (injected: the process channel, or a pipe in tests).
    init(label: String, options: Options, stream: @escaping (TransportSettings) -> StreamChannel) {
        url = label
        self.options = options
        makeStream = stream
        session = MCPSession(handlers: options.handlers)
    }

    /// The settings of a new channel, which delivers what it reads to the session.
    private func newSettings() -> TransportSettings {
        TransportSettings(
            credentialHeaders: options.credentialHeaders, maxBytes: options.maxBytes,
            log: options.log, tls: options.tls, inbound: session.inbound())
    }

    /// Connects. With a remembered modern era, nothing is sent until the first request (one POST per call).
    /// Otherwise: `/sse` URLs use the legacy transport; others probe `server/discover` at the newest version
    /// and fall back to the `initialize` handshake (and from there to legacy HTTP+SSE) when refused.
    public func connect(hint: ServerIdentity? = nil) async throws(MCPClientError) -> ServerIdentity {
        self.hint = hint
        if let makeStream { return try await connectStream(makeStream(newSettings()), hint: hint) }
        if let hint, hint.era == .modern, MCPVocabulary.modernVersions.contains(hint.protocolVersion) {
            adoptModern(version: hint.protocolVersion, identity: hint)
            return hint
        }
        if let hint, hint.era == .handshake {
            do {
                return try await connectHandshake(legacyFirst: hint.transport == "sse")
            } catch let e where Self.isEraRefusal(e) {
                options.log?.note("the remembered handshake era was refused: negotiating again")
                renegotiated = true
            }
        }
        return try await negotiate()
    }

    /// Over a stream: opens it, then the remembered era, else `server/discover` and, when refused, `initialize`,
    /// all on the same channel (a server that refuses the probe keeps running and takes the handshake).
    private func connectStream(_ t: StreamChannel, hint: ServerIdentity?) async throws(MCPClientError)
        -> ServerIdentity
    {
        transport = t
        try await t.open(deadline: options.deadline)
        if let hint, hint.era == .modern, MCPVocabulary.modernVersions.contains(hint.protocolVersion) {
            modernVersion = hint.protocolVersion
            identity = hint
            return hint
        }
        if let hint, hint.era == .handshake {
            do {
                return try await initialize(over: t, transportName: t.name)
            } catch let e where Self.isEraRefusal(e) {
                options.log?.note("the remembered handshake era was refused: negotiating again")
                renegotiated = true
            }
        }
        if let modern = try await probeModern(over: t, transportName: t.name) { return modern }
        return try await initialize(over: t, transportName: t.name)
    }

    /// True when the URL's path ends in /sse: the legacy HTTP+SSE transport's usual endpoint.
    private var urlNamesSSE: Bool {
        let path = URLComponents(string: url)?.path ?? ""
        return path.hasSuffix("/sse") || path.hasSuffix("/sse/")
    }

    /// Probes the modern era, else runs the handshake.
    private func negotiate() async throws(MCPClientError) -> ServerIdentity {
        if urlNamesSSE {
            return try await connectLegacy()
        }
        if let modern = try await probeModern() { return modern }
        return try await connectHandshake(legacyFirst: false)
    }

    /// True for answers that say "not this era" (as opposed to outages or refused credentials).
    static func isEraRefusal(_ e: MCPClientError) -> Bool {
        switch e {
        case .rpc: return true
        case .http(let status, _): return (400..<500).contains(status) && status != 401 && status != 403
        case .notMCP, .sessionExpired: return true
        case .transport, .badRedirect: return false
        }
    }

    /// Sends `server/discover` at the newest modern version; nil when the server belongs to the handshake era.
    /// Over HTTP it gets a transport of its own; a stream is kept whatever the answer.
    private func probeModern(over stream: StreamChannel? = nil, transportName: String = "streamable-http")
        async throws(MCPClientError) -> ServerIdentity?
    {
        let version = MCPVocabulary.modernVersions[0]
        let t: any MessageChannel = stream ?? modernTransport(version: version)
        transport = t
        modernVersion = version
        let result: JSONValue
        do {
            result = try await send("server/discover", nil, over: t)
        } catch {
            modernVersion = nil
            transport = stream
            if case .rpc(let e) = error, e.code == JSONRPCError.unsupportedProtocolVersion {
                let supported = (e.data?["supported"]?.arrayValue ?? []).compactMap(\.stringValue)
                if !supported.isEmpty, !supported.contains(where: MCPVocabulary.handshakeVersions.contains) {
                    throw .notMCP(
                        "the server supports only protocol versions \(supported.joined(separator: ", ")), which mcpconn does not"
                    )
                }
            }
            guard Self.isEraRefusal(error) else { throw error }
            options.log?.note("server/discover refused: using the initialize handshake")
            return nil
        }
        let supported = (result["supportedVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
        guard supported.contains(version) else {
            modernVersion = nil
            transport = stream
            return nil
        }
        let info = result["_meta"]?[MCPVocabulary.Meta.serverInfo]
        let id = ServerIdentity(
            name: info?["name"]?.stringValue, version: info?["version"]?.stringValue, protocolVersion: version,
            instructions: result["instructions"]?.stringValue, capabilities: result["capabilities"],
            transport: transportName, era: .modern)
        identity = id
        return id
    }

    private func modernTransport(version: String) -> StreamableHTTPTransport {
        let t = StreamableHTTPTransport(url: url, settings: newSettings()) { message in
            MCPVocabulary.modernHeaders(for: message)
        }
        t.setProtocolVersion(version)
        return t
    }

    private func adoptModern(version: String, identity: ServerIdentity) {
        transport = modernTransport(version: version)
        modernVersion = version
        self.identity = identity
    }

    /// The handshake era: streamable HTTP, or legacy HTTP+SSE when the URL says so or the POST is refused.
    private func connectHandshake(legacyFirst: Bool) async throws(MCPClientError) -> ServerIdentity {
        if legacyFirst || urlNamesSSE {
            return try await connectLegacy()
        }
        let t = StreamableHTTPTransport(url: url, settings: newSettings())
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
        let t = LegacySSETransport(url: url, settings: newSettings())
        transport = t
        try await t.connect(deadline: options.deadline)
        return try await initialize(over: t, transportName: "sse")
    }

    private func initialize(over t: any MessageChannel, transportName: String) async throws(MCPClientError)
        -> ServerIdentity
    {
        var offer = MCPVocabulary.handshakeVersions[0]
        for attempt in 0..<2 {
            let params: JSONValue = .object([
                "protocolVersion": .string(offer),
                "capabilities": .object(session.capabilities),
                "clientInfo": .object(["name": "mcpconn", "version": .string(MCPConnVersion.string)]),
            ])
            let result: JSONValue
            do {
                result = try await send("initialize", params, over: t)
            } catch .rpc(let e) where attempt == 0 {
                // A server may name the versions it supports; retry once with the newest we share.
                let supported = (e.data?["supported"]?.arrayValue ?? []).compactMap(\.stringValue)
                guard let shared = MCPVocabulary.handshakeVersions.first(where: supported.contains), shared != offer
                else {
                    throw .rpc(e)
                }
                offer = shared
                continue
            }
            guard let version = result["protocolVersion"]?.stringValue else {
                throw .notMCP("the initialize result has no protocolVersion")
            }
            guard MCPVocabulary.handshakeVersions.contains(version) else {
                throw .notMCP("the server wants protocol version \(version), which mcpconn does not support")
            }
            t.setProtocolVersion(version)
            // The initialized notification has no answer to wait for: it goes out in the background, and the
            // next request (if any) waits for it, so the server still sees them in order. A health check,
            // which needs no next request, saves that round trip. Alongside it goes the GET stream on which
            // a streamable HTTP server sends requests of its own, open before the next request starts.
            let deadline = options.deadline
            pendingNotification = Task {
                async let listened: Void = t.listen(deadline: deadline)
                try? await t.send(
                    JSONRPC.notification(method: "notifications/initialized"), requestID: nil, deadline: deadline)
                await listened
            }
            let info = result["serverInfo"]
            let id = ServerIdentity(
                name: info?["name"]?.stringValue, version: info?["version"]?.stringValue, protocolVersion: version,
                instructions: result["instructions"]?.stringValue, capabilities: result["capabilities"],
                transport: transportName, era: .handshake)
            identity = id
            return id
        }
        throw .notMCP("initialize failed")
    }

    /// Sends one request and returns its result; what the server says about it meanwhile goes to
    /// `notifications`, when given. An expired session is re-initialized once; a remembered modern era the server
    /// now refuses is negotiated afresh once.
    public func request(_ method: String, _ params: JSONValue?, notifications: RequestNotifications? = nil)
        async throws(MCPClientError) -> JSONValue
    {
        guard let t = transport else { throw .notMCP("not connected") }
        do {
            return try await send(method, params, over: t, notifications: notifications)
        } catch .sessionExpired {
            options.log?.note("the session expired: initializing again")
            t.resetSession()
            _ = try await initialize(over: t, transportName: identity?.transport ?? "streamable-http")
            return try await send(method, params, over: t, notifications: notifications)
        } catch let e where modernVersion != nil && hint?.era == .modern && !renegotiated && Self.isStaleModern(e) {
            options.log?.note("the remembered modern era was refused: negotiating again")
            renegotiated = true
            modernVersion = nil
            if makeStream != nil {
                _ = try await initialize(over: t, transportName: identity?.transport ?? "stdio")
            } else {
                _ = try await negotiate()
            }
            guard let t2 = transport else { throw e }
            return try await send(method, params, over: t2, notifications: notifications)
        }
    }

    /// Answers that mean a remembered modern version no longer holds (not a tool's own error).
    static func isStaleModern(_ e: MCPClientError) -> Bool {
        switch e {
        case .rpc(let r):
            return r.code == JSONRPCError.unsupportedProtocolVersion || r.code == JSONRPCError.headerMismatch
        case .http(let status, _): return [400, 404, 405, 406, 415].contains(status)
        default: return false
        }
    }

    private func send(
        _ method: String, _ params: JSONValue?, over t: any MessageChannel, notifications: RequestNotifications? = nil
    ) async throws(MCPClientError) -> JSONValue {
        if let p = pendingNotification {
            pendingNotification = nil
            await p.value
        }
        let id = session.allocateID()
        exchanges += 1
        var params = params
        var route: NotificationRoute?
        if let notifications {
            // A token of our own, unique in the session (the request id's), whatever the caller's params held.
            var token: JSONValue?
            if notifications.progress { token = .string("mcpconn-\(id)") }
            // A log level is a 2026-07-28 opt-in; handshake-era servers send log messages unasked.
            let level = modernVersion == nil ? nil : notifications.logLevel
            params = Self.askingForNotifications(params, progressToken: token, logLevel: level)
            route = NotificationRoute(progressToken: token, receive: notifications.receive)
        }
        if let v = modernVersion { params = Self.envelope(params, version: v, capabilities: session.capabilities) }
        let answer = try await session.request(
            JSONRPC.request(id: id, method: method, params: params), id: .int(id), route: route,
            deadline: options.deadline)
        switch answer {
        case .response(_, let result): return result
        case .errorResponse(_, let e): throw .rpc(e)
        default: throw .notMCP("unexpected message")
        }
    }

    /// Adds to `params._meta` what asks the server for notifications about the request: a progressToken, a log level.
    static func askingForNotifications(_ params: JSONValue?, progressToken: JSONValue?, logLevel: String?)
        -> JSONValue?
    {
        guard progressToken != nil || logLevel != nil else { return params }
        var p = params?.objectValue ?? JSONObject()
        var meta = p["_meta"]?.objectValue ?? JSONObject()
        if let progressToken { meta["progressToken"] = progressToken }
        if let logLevel { meta[MCPVocabulary.Meta.logLevel] = .string(logLevel) }
        p["_meta"] = .object(meta)
        return .object(p)
    }

    /// Adds the 2026-07-28 per-request envelope to `params._meta`.
    static func envelope(_ params: JSONValue?, version: String, capabilities: JSONObject = [:]) -> JSONValue {
        var p = params?.objectValue ?? JSONObject()
        var meta = p["_meta"]?.objectValue ?? JSONObject()
        meta[MCPVocabulary.Meta.protocolVersion] = .string(version)
        meta[MCPVocabulary.Meta.clientCapabilities] = .object(capabilities)
        meta[MCPVocabulary.Meta.clientInfo] = .object(["name": "mcpconn", "version": .string(MCPConnVersion.string)])
        p["_meta"] = .object(meta)
        return .object(p)
    }

    /// Lists every tool, following `nextCursor` (bounded, so a looping server cannot keep us forever).
    public func listTools() async throws(MCPClientError) -> [JSONValue] {
        try await listAll("tools/list", key: "tools")
    }

    /// Every item of a paged list (`tools/list`, `prompts/list`, `resources/list`…), following `nextCursor`
    /// (bounded, so a looping server cannot keep us forever).
    public func listAll(_ method: String, key: String) async throws(MCPClientError) -> [JSONValue] {
        var items: [JSONValue] = []
        var cursor: String?
        var seen: Set<String> = []
        for _ in 0..<1000 {
            let params: JSONValue? = cursor.map { .object(["cursor": .string($0)]) }
            let result = try await request(method, params)
            guard let page = result[key]?.arrayValue else {
                throw .notMCP("the \(method) result has no \(key) array")
            }
            items += page
            guard let next = result["nextCursor"]?.stringValue, !next.isEmpty else { return items }
            if !seen.insert(next).inserted { throw .notMCP("\(method) repeats cursor '\(next)'") }
            cursor = next
        }
        throw .notMCP("\(method) did not end after 1000 pages")
    }

    /// Calls a tool and returns the CallToolResult as the server sent it; what the server says about the call
    /// meanwhile goes to `notifications`, when given.
    public func callTool(_ name: String, arguments: JSONObject, notifications: RequestNotifications? = nil)
        async throws(MCPClientError) -> JSONValue
    {
        let result = try await request(
            "tools/call", .object(["name": .string(name), "arguments": .object(arguments)]),
            notifications: notifications)
        guard result.objectValue != nil else { throw .notMCP("the tools/call result is not an object") }
        return result
    }

    /// Checks the server answers: `ping` in the handshake era; `server/discover` in the modern era, which has no ping.
    public func ping() async throws(MCPClientError) {
        if modernVersion != nil {
            let r = try await request("server/discover", nil)
            if let info = r["_meta"]?[MCPVocabulary.Meta.serverInfo], var id = identity {
                id.name = info["name"]?.stringValue ?? id.name
                id.version = info["version"]?.stringValue ?? id.version
                id.instructions = r["instructions"]?.stringValue ?? id.instructions
                identity = id
            }
        } else {
            _ = try await request("ping", nil)
        }
    }

    /// Sets the deadline of what follows: a session kept open across requests (`serve`) gives each its own.
    public func setDeadline(_ deadline: ContinuousClock.Instant) { options.deadline = deadline }

    /// The streamable HTTP transport, when that is the one in use.
    var streamable: StreamableHTTPTransport? { transport as? StreamableHTTPTransport }

    /// The current session id (streamable HTTP), for tests and traces.
    var sessionID: String? { streamable?.currentSessionID }

    /// Ends the session (DELETE for streamable HTTP; closing the stream for legacy SSE). Never fails.
    public func close() async {
        guard let t = transport else { return }
        transport = nil
        // A local server's channel may take its grace past the operation's deadline: no process may outlive the
        // command.
        let grace = t.closeGrace
        await t.close(deadline: makeStream != nil ? .now + grace : min(options.deadline, .now + grace))
    }
}
