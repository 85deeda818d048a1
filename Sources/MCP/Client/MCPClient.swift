import Foundation

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
        /// When the streams that outlive requests end (streamable HTTP's GET, the legacy transport's stream):
        /// nil for the operation's deadline (the legacy stream an hour past it); a watch sets it far ahead.
        package var streamDeadline: ContinuousClock.Instant?

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
    var options: Options
    /// Makes the stream channel of a non-HTTP server (given the operation's settings); nil for HTTP.
    let makeStream: ((TransportSettings) -> StreamChannel)?
    /// The stream channel, once made: every era goes over it.
    var stream: StreamChannel?
    /// Owns ids, pending requests, routing and the answers to the server's requests, for every channel tried.
    let session: MCPSession
    /// The channel in use (the session's).
    var transport: (any MessageChannel)? {
        get { session.channel }
        set { session.use(newValue) }
    }
    public internal(set) var identity: ServerIdentity?
    /// The modern protocol version in use, when requests carry the per-request envelope.
    var modernVersion: String?
    /// True when a remembered era was refused and the client negotiated afresh (the caller should store it).
    public internal(set) var renegotiated = false
    /// What the caller remembered about this server, used to skip negotiation.
    var hint: ServerIdentity?
    /// A notification still on its way; requests wait for it so the server sees messages in order.
    var pendingNotification: Task<Void, Never>?
    /// Counts HTTP requests that carried MCP messages, for tests and traces.
    public internal(set) var exchanges = 0
    /// Who answers the server's requests now: the session's own handlers, or those `serve` relays to (``relay(to:inputRounds:)``).
    var answering: ServerRequestHandlers
    /// Whether a 2026-07-28 `input_required` is answered here (false: returned as it came, for a relayed client
    /// of that era, which answers it itself).
    var answersInputRounds = true

    public init(url: String, options: Options) {
        self.url = url
        self.options = options
        makeStream = nil
        answering = options.handlers
        session = MCPSession(handlers: options.handlers)
    }

    /// A client over a stream channel (injected: the process channel, or a pipe in tests).
    init(label: String, options: Options, stream: @escaping (TransportSettings) -> StreamChannel) {
        url = label
        self.options = options
        makeStream = stream
        answering = options.handlers
        session = MCPSession(handlers: options.handlers)
    }

    /// The settings of a new channel, which delivers what it reads to the session.
    func newSettings() -> TransportSettings {
        TransportSettings(
            credentialHeaders: options.credentialHeaders, maxBytes: options.maxBytes,
            log: options.log, tls: options.tls, inbound: session.inbound(), streamDeadline: options.streamDeadline)
    }

    /// Sends one request and returns its result; what the server says about it meanwhile goes to
    /// `notifications`, when given. A 2026-07-28 server that asks for input first is answered (see
    /// ``answeringInput(_:_:first:notifications:)``).
    public func request(_ method: String, _ params: JSONValue?, notifications: RequestNotifications? = nil)
        async throws(MCPClientError) -> JSONValue
    {
        let result = try await requestOnce(method, params, notifications: notifications)
        guard modernVersion != nil, answersInputRounds, InputRound(result) != nil else { return result }
        return try await answeringInput(method, params, first: result, notifications: notifications)
    }

    /// One request and its result. An expired session is re-initialized once; a remembered modern era the
    /// server now refuses is negotiated afresh once.
    func requestOnce(_ method: String, _ params: JSONValue?, notifications: RequestNotifications? = nil)
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
            if stream != nil {
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

    func send(
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
        if let v = modernVersion { params = Self.envelope(params, version: v, capabilities: answering.capabilities) }
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

    /// Who mcpconn is, as it tells servers (`clientInfo`).
    static let clientInfo: JSONValue = .object(["name": "mcpconn", "version": .string(MCPConnVersion.string)])

    /// Adds the 2026-07-28 per-request envelope to `params._meta`.
    static func envelope(_ params: JSONValue?, version: String, capabilities: JSONObject = [:]) -> JSONValue {
        var p = params?.objectValue ?? JSONObject()
        var meta = p["_meta"]?.objectValue ?? JSONObject()
        meta[MCPVocabulary.Meta.protocolVersion] = .string(version)
        meta[MCPVocabulary.Meta.clientCapabilities] = .object(capabilities)
        meta[MCPVocabulary.Meta.clientInfo] = clientInfo
        p["_meta"] = .object(meta)
        return .object(p)
    }

    /// Sends one typed request (see ``MCPMethod``) and returns its typed result; empty params are sent as none.
    package func request<M: MCPMethod>(
        _ method: M.Type, _ params: M.Params, notifications: RequestNotifications? = nil
    ) async throws(MCPClientError) -> M.Result {
        let result = try await request(M.name, params.json.isEmpty ? nil : params.value, notifications: notifications)
        guard let typed = M.Result(object: result) else { throw .notMCP("the \(M.name) result is not an object") }
        return typed
    }

    /// Lists every tool, following `nextCursor` (bounded, so a looping server cannot keep us forever).
    public func listTools() async throws(MCPClientError) -> [JSONValue] {
        try await listAll(ListTools.self)
    }

    /// Every item of a paged list (tools, prompts, resources, templates), following `nextCursor` (bounded, so a
    /// looping server cannot keep us forever).
    package func listAll<L: PagedList>(_ list: L.Type) async throws(MCPClientError) -> [JSONValue] {
        var items: [JSONValue] = []
        var cursor: String?
        var seen: Set<String> = []
        for _ in 0..<1000 {
            let result = try await request(L.self, PageRequest(cursor: cursor))
            guard result.json[L.itemKey]?.arrayValue != nil else {
                throw .notMCP("the \(L.name) result has no \(L.itemKey) array")
            }
            items += result.items
            guard let next = result.nextCursor else { return items }
            if !seen.insert(next).inserted { throw .notMCP("\(L.name) repeats cursor '\(next)'") }
            cursor = next
        }
        throw .notMCP("\(L.name) did not end after 1000 pages")
    }

    /// Calls a tool and returns the CallToolResult as the server sent it; what the server says about the call
    /// meanwhile goes to `notifications`, when given.
    public func callTool(_ name: String, arguments: JSONObject, notifications: RequestNotifications? = nil)
        async throws(MCPClientError) -> JSONValue
    {
        try await request(
            CallTool.self, CallTool.Params(name: name, arguments: arguments), notifications: notifications
        )
        .value
    }

    /// Checks the server answers: `ping` in the handshake era; `server/discover` in the modern era, which has no ping.
    public func ping() async throws(MCPClientError) {
        if modernVersion != nil {
            let r = Discover.Result(try await request(Discover.name, nil))
            if let info = r.serverInfo, var id = identity {
                id.name = info["name"]?.stringValue ?? id.name
                id.version = info["version"]?.stringValue ?? id.version
                id.instructions = r.string("instructions") ?? id.instructions
                identity = id
            }
        } else {
            _ = try await request(Ping.name, nil)
        }
    }

    /// Sets the deadline of what follows: a session kept open across requests (`serve`) gives each its own.
    public func setDeadline(_ deadline: ContinuousClock.Instant) { options.deadline = deadline }

    /// For `serve`: the requests to come have the server's questions answered by `handlers` (which ask the client
    /// `serve` relays for; a 2026-07-28 request declares their capabilities), and a 2026-07-28 `input_required`
    /// is answered here, or with `inputRounds` false returned as it came. Nil: the session's own handlers again.
    package func relay(to handlers: ServerRequestHandlers?, inputRounds: Bool = true) {
        answering = handlers ?? options.handlers
        answersInputRounds = handlers == nil || inputRounds
        session.answer(with: answering)
    }

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
        await t.close(deadline: stream != nil ? .now + grace : min(options.deadline, .now + grace))
    }
}
