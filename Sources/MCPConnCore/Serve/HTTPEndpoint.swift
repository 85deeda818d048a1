import CSodium
import Foundation

/// An HTTP request as the endpoint sees it; the server library's own types stay in `mcpconn-serve-http`.
public struct IncomingRequest: Sendable {
    public var method: String
    /// The path without its query.
    public var path: String
    public var headers: [(name: String, value: String)]
    /// Who sent it, when its token was checked apart (an OAuth access token: ``HTTPEndpoint/Admission/verify(_:)``).
    package var caller: CallerIdentity?

    public init(method: String, uri: String, headers: [(name: String, value: String)]) {
        self.method = method
        path = String(uri.prefix { $0 != "?" })
        self.headers = headers
    }

    /// The first value of a header, by name in any case.
    public func header(_ name: String) -> String? { headers.first { Self.sameName($0.name, name) }?.value }

    func count(_ name: String) -> Int { headers.filter { Self.sameName($0.name, name) }.count }

    /// Header names are ASCII: compared byte by byte, without Foundation's locale-aware comparison (which was
    /// 4% of serve's CPU per call under load).
    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }
}

/// What the endpoint answers: a status, headers and a whole body (an event stream's head has an empty one).
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    static func empty(_ status: Int, _ headers: [(name: String, value: String)] = []) -> HTTPReply {
        HTTPReply(status: status, headers: headers, body: [])
    }

    /// 429 for a caller over its rate (a client's, an OAuth subject's), with Retry-After.
    static func overRate(retryAfter seconds: Int) -> HTTPReply {
        .refusal(
            429, JSONRPCError.invalidRequest, "this client is over its rate: retry in \(seconds) s",
            [("Retry-After", String(seconds))])
    }

    /// Plain text (`/healthz`).
    static func text(_ status: Int, _ text: String) -> HTTPReply {
        HTTPReply(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// A JSON-RPC message (or a batch of them) as `application/json`.
    static func json(_ value: JSONValue, status: Int = 200, _ extra: [(name: String, value: String)] = [])
        -> HTTPReply
    {
        HTTPReply(
            status: status, headers: [("Content-Type", "application/json")] + extra, body: value.compactBytes())
    }

    /// A refusal before any JSON-RPC: the spec's error object with a null id, so a client can still read why.
    public static func refusal(
        _ status: Int, _ code: Int, _ text: String, _ extra: [(name: String, value: String)] = []
    )
        -> HTTPReply
    {
        json(JSONRPC.error(id: .null, code: code, message: text), status: status, extra)
    }

    public static let eventStreamHeaders: [(name: String, value: String)] = [
        ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache, no-transform"),
        ("X-Accel-Buffering", "no"),
    ]

    /// One server-sent event carrying a JSON-RPC message.
    public static func event(_ message: JSONValue) -> [UInt8] { event(json: message.compactBytes()) }

    /// One server-sent event carrying a JSON-RPC message already written out (one line of JSON).
    public static func event(json: [UInt8]) -> [UInt8] {
        Array("event: message\ndata: ".utf8) + json + Array("\n\n".utf8)
    }
}

/// `serve --http`'s MCP endpoint, by the streamable HTTP transport: both eras (a 2026-07-28 request is one
/// POST, checked against its routing headers; the handshake era gets sessions, `Mcp-Session-Id`, a GET event
/// stream for notifications and DELETE), every request authenticated by the bearer token (unless serve runs
/// `--no-token`, on loopback only) and refused when it names another host or comes from a browser page of another
/// origin (DNS rebinding).
public final class HTTPEndpoint: Sendable {
    public let path: String
    private let gateway: Gateway
    /// Nil: `--no-token`, every request that passes the Host and Origin checks is served.
    private let token: [UInt8]?
    private let hosts: AllowedHosts
    /// `--clients`: the clients whose tokens are accepted, in place of `token`.
    private let clients: ClientRegistry?
    /// `--oauth-issuer`: tokens other than clients' are the issuer's access tokens (JWTs).
    private let oauth: OAuthResourceServer?
    private let sessions = ServeSessions()
    private let log: (@Sendable (String) -> Void)?
    /// What `GET /healthz` and `GET /metrics` read.
    private let monitor: ServeMonitor

    public init(
        gateway: Gateway, token: String?, clients: ClientRegistry? = nil, oauth: OAuthResourceServer? = nil,
        hosts: AllowedHosts, path: String = "/mcp", log: (@Sendable (String) -> Void)? = nil,
        monitor: ServeMonitor = ServeMonitor()
    ) {
        self.gateway = gateway
        self.token = token.map { Array($0.utf8) }
        self.clients = clients
        self.oauth = oauth
        self.hosts = hosts
        self.path = path
        self.log = log
        self.monitor = monitor
    }

    /// The first of the checks that need no body: who sent the request, by the Host (400, 421), the Origin
    /// (403) and the token (401). Nil: the token's holder (the server then counts the connection apart from
    /// those that have not shown the token), and `route` is next.
    ///
    /// The Host comes first: a request that names another server is misdirected whatever it carries, so it is
    /// not answered with the 401 that names this server and asks for its token; a rebinding page learns nothing
    /// of what listens here.
    public func authenticate(_ r: IncomingRequest) -> HTTPReply? {
        switch admission(r) {
        case .admitted: return nil
        case .refused(let reply): return reply
        case .verify: return unauthorized(tokenGiven: true)  // a check this synchronous form cannot make
        }
    }

    /// What the checks that need no body decide; an OAuth token is checked apart (`verify`), off the event loop.
    package enum Admission: Sendable {
        /// Admitted; with `--clients`, as the client its token names (the request's `caller`, so that its token
        /// is hashed and looked up once a request, not again when it is answered).
        case admitted(CallerIdentity?)
        /// Refused, or answered at once (the resource metadata): the connection closes after it.
        case refused(HTTPReply)
        /// A token to check (a JWT: its keys may have to be fetched), then set as the request's `caller`.
        case verify(@Sendable () async -> Verified)
    }

    package func admission(_ r: IncomingRequest) -> Admission {
        if let refused = hostRefusal(r) { return .refused(refused) }
        // RFC 9728: the protected resource metadata, for whoever asks (after the Host and Origin checks).
        if let oauth, r.method == "GET", oauth.isMetadataPath(r.path, endpoint: path) {
            return .refused(oauth.metadata())
        }
        let authorization = r.header("Authorization")
        if let clients, oauth == nil || BearerToken.value(authorization)?.hasPrefix(ClientToken.prefix) == true {
            switch clients.admit(authorization) {
            case .admitted(let client): return .admitted(CallerIdentity(client))
            case .unknown: break
            case .limited(let seconds):
                log?("serve: refused a request of a client over its rate (429, retry after \(seconds) s)")
                return .refused(.overRate(retryAfter: seconds))
            }
        } else if let oauth {
            if let given = BearerToken.value(authorization) { return .verify { await oauth.admit(given) } }
        } else if token == nil || BearerToken.matches(authorization, token ?? []) {
            return .admitted(nil)
        }
        log?("serve: refused a request without the right bearer token (401)")
        return .refused(unauthorized(tokenGiven: authorization != nil))
    }

    /// The Host (400, 421) and Origin (403) checks every request passes first, `/healthz` too.
    private func hostRefusal(_ r: IncomingRequest) -> HTTPReply? {
        guard r.count("Host") == 1, let host = r.header("Host").flatMap(AllowedHosts.hostname(ofHeader:)) else {
            log?("serve: refused a request without one valid Host header (400)")
            return .refusal(400, JSONRPCError.invalidRequest, "the request needs one valid Host header")
        }
        guard hosts.allows(host) else {
            log?("serve: refused a request for the host \(TerminalText.escape(host)) (421)")
            return .refusal(
                421, JSONRPCError.invalidRequest,
                "this server does not answer for the host \(host) (serve --http --allowed-host names more)")
        }
        if let origin = r.header("Origin"), !LoopbackAddress.isLoopbackOrigin(origin) {
            log?("serve: refused a request from the origin \(TerminalText.escape(origin)) (403)")
            return .refusal(403, JSONRPCError.invalidRequest, "requests from the origin \(origin) are not accepted")
        }
        return nil
    }

    static let unauthorized = HTTPReply.refusal(
        401, JSONRPCError.invalidRequest, "a valid Authorization: Bearer token is required",
        [("WWW-Authenticate", "Bearer realm=\"mcpconn serve\"")])

    /// A 401; with `--oauth-issuer`, its challenge names the resource metadata (RFC 9728 §5.1).
    private func unauthorized(tokenGiven: Bool) -> HTTPReply {
        oauth?.unauthorized(tokenGiven: tokenGiven) ?? Self.unauthorized
    }

    /// Who sent the request: the caller its admission found (``admission(_:)``: a client's, an access token's);
    /// else, with `--clients`, the client of its token (`.unknown` when none is); else nobody in particular.
    private func caller(_ r: IncomingRequest) -> Caller {
        if let checked = r.caller { return .client(checked) }
        guard let clients else { return oauth == nil ? .anyone : .unknown }
        guard let client = clients.client(r.header("Authorization")) else { return .unknown }
        return .client(CallerIdentity(client))
    }

    private enum Caller {
        /// Without `--clients`: whoever holds serve's token.
        case anyone
        case client(CallerIdentity)
        case unknown

        var identity: CallerIdentity? {
            if case .client(let c) = self { return c }
            return nil
        }
    }

    /// Where the request goes: the path (404), the method (405). Nil: go on with `post`, `listen` or `delete`.
    public func route(_ r: IncomingRequest) -> HTTPReply? {
        guard r.path == path else { return .refusal(404, JSONRPCError.invalidRequest, "no MCP endpoint at \(r.path)") }
        guard ["POST", "GET", "DELETE"].contains(r.method) else {
            return .refusal(
                405, JSONRPCError.invalidRequest, "method \(r.method) not allowed", [("Allow", "GET, POST, DELETE")])
        }
        return nil
    }

    // MARK: /healthz and /metrics

    public static let healthPath = "/healthz"
    public static let metricsPath = "/metrics"

    /// What a request for `/healthz` or `/metrics` gets, at its head (no body is read); nil for any other path.
    public enum Monitoring: Sendable {
        /// The answer; `holder`: the request carried a token (the connection is no longer counted apart).
        case answer(HTTPReply, holder: Bool)
        case refused(HTTPReply)
    }

    /// `GET /healthz`, without a token: 200 `ok` or 503 `not ok`, nothing else. `GET /metrics`: the Prometheus
    /// text, with `--clients` for a client made with `--metrics` only (401 without a client's token, 403 for
    /// another client, not counted against its rate); without `--clients` no metrics are kept (404). Both pass
    /// the Host and Origin checks first.
    public func monitoring(_ r: IncomingRequest) -> Monitoring? {
        guard r.path == Self.healthPath || r.path == Self.metricsPath else { return nil }
        if let refused = hostRefusal(r) { return .refused(refused) }
        guard r.method == "GET" else {
            return .refused(
                .refusal(405, JSONRPCError.invalidRequest, "method \(r.method) not allowed", [("Allow", "GET")]))
        }
        if r.path == Self.healthPath {
            let ok = monitor.healthy()
            return .answer(.text(ok ? 200 : 503, ok ? "ok\n" : "not ok\n"), holder: false)
        }
        guard let clients, let metrics = monitor.metrics else {
            return .refused(
                .refusal(404, JSONRPCError.invalidRequest, "serve --http keeps metrics with --clients only"))
        }
        guard let client = clients.client(r.header("Authorization")) else {
            log?("serve: refused a request for the metrics without a client's token (401)")
            return .refused(Self.unauthorized)
        }
        guard client.metrics else {
            log?("serve: refused the metrics to client \(client.name), made without --metrics (403)")
            return .refused(
                .refusal(
                    403, JSONRPCError.invalidRequest, "this client may not read the metrics (client add --metrics)"))
        }
        return .answer(
            HTTPReply(
                status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                body: metrics(sessions.count)), holder: true)
    }

    // MARK: POST

    /// A POSTed message: its answer (`application/json`), or 202 for a notification. What a connector says
    /// about the request while it runs (progress, log messages) goes to `notify` when the client accepts an event
    /// stream: the server then answers with one, those notifications first (`MCPChannelHandler`).
    public func post(_ r: IncomingRequest, body: [UInt8], notify: Gateway.Notify? = nil) async -> HTTPReply {
        guard (r.header("Content-Type") ?? "").lowercased().hasPrefix("application/json") else {
            return .refusal(415, JSONRPCError.invalidRequest, "Content-Type must be application/json")
        }
        guard Self.acceptsJSON(r.header("Accept")) else {
            return .refusal(406, JSONRPCError.invalidRequest, "the client must accept application/json")
        }
        guard let value = try? JSONValue.parse(body) else {
            return .refusal(400, JSONRPCError.parseError, "not JSON")
        }
        let notify = Self.accepts(r.header("Accept"), "text/event-stream", "text/*") ? notify : nil
        let who = caller(r)
        if case .unknown = who { return unauthorized(tokenGiven: true) }
        let caller = who.identity
        let version = r.header("MCP-Protocol-Version")
        if let version, MCPVocabulary.modernVersions.contains(version) {
            return await modern(r, value, version, caller, notify)
        }
        if let version, !MCPVocabulary.handshakeVersions.contains(version) {
            // The spec's UnsupportedProtocolVersionError: the versions served in `data`, and the request's id when
            // the body is one request (a client retries it at a version of the list).
            return .json(
                JSONRPC.error(id: Self.requestID(value) ?? .null, Gateway.unsupportedVersion(version)), status: 400)
        }
        return await handshake(r, value, caller, notify)
    }

    /// 2026-07-28: one self-contained request, no session. The client cancels by closing the connection, which
    /// cancels the task running this.
    private func modern(
        _ r: IncomingRequest, _ value: JSONValue, _ version: String, _ caller: CallerIdentity?,
        _ notify: Gateway.Notify?
    ) async -> HTTPReply {
        guard let message = JSONRPCMessage.fromClient(value) else {
            return .refusal(400, JSONRPCError.invalidRequest, "the body must be one JSON-RPC request or notification")
        }
        guard case .request(let id, let method, let params) = message else { return .empty(202) }
        if let mismatch = Self.routingHeaderMismatch(r, method: method, params: params, version: version) {
            return .json(JSONRPC.error(id: id, code: JSONRPCError.headerMismatch, message: mismatch), status: 400)
        }
        let request = JSONRPCRequest(id: id, method: method, params: params)
        let answer = await gateway.handle(
            request, context: RequestContext(era: .modern, caller: caller), notify: notify)
        return .json(answer, status: Self.status(of: answer))
    }

    /// The handshake era: `initialize` opens a session; every later message carries its id.
    private func handshake(
        _ r: IncomingRequest, _ value: JSONValue, _ caller: CallerIdentity?, _ notify: Gateway.Notify?
    ) async -> HTTPReply {
        // An empty batch is one Invalid Request, not an array (JSON-RPC 2.0 §6), session or not.
        if case .array(let items) = value, items.isEmpty { return .json(JSONRPC.invalidRequest(value), status: 400) }
        let messages = value.arrayValue ?? [value]
        let parsed = messages.map(JSONRPCMessage.fromClient)
        // Without the 2026-07-28 version header, a request is the handshake era's, whatever its envelope says.
        let context = RequestContext(era: .handshake, caller: caller)
        if parsed.count == 1, case .request(let id, Initialize.name, let params)? = parsed[0] {
            let request = JSONRPCRequest(id: id, method: Initialize.name, params: params)
            let answer = await gateway.handle(request, context: context)
            let version = answer["result"]?["protocolVersion"]?.stringValue ?? MCPVocabulary.handshakeVersions[0]
            let (session, forgotten) = sessions.open(
                capabilities: params?["capabilities"]?.objectValue ?? [:], owner: caller?.clientID)
            if let forgotten { gateway.clientLeft(forgotten) }
            log?("serve: a client opened a session (protocol \(version))")
            return .json(answer, [("Mcp-Session-Id", session)])
        }
        guard let id = r.header("Mcp-Session-Id") else {
            return .refusal(400, JSONRPCError.invalidRequest, "Mcp-Session-Id is required: initialize first")
        }
        guard let session = sessions.use(id, owner: caller?.clientID) else {
            return .refusal(404, JSONRPCError.invalidRequest, "no session \(TerminalText.escape(id)): initialize again")
        }
        let inFlight = session.inFlight
        var answers: [JSONValue] = []
        for (raw, message) in zip(messages, parsed) {
            guard let message else {
                answers.append(JSONRPC.invalidRequest(raw))
                continue
            }
            switch message {
            case .notification("notifications/cancelled", let params):
                if let requestID = params?["requestId"] { inFlight.cancel(requestID) }
            case .response, .errorResponse:
                _ = session.asked.receive(message)  // the client's answer to what serve asked it
            case .request(let requestID, let method, let params):
                let notify = messages.count == 1 ? notify : nil  // a batch's answer is one JSON array
                let request = JSONRPCRequest(id: requestID, method: method, params: params)
                // What a connector asks goes to the client as an event on this request's stream; the updates of
                // its subscriptions go to its session's GET streams.
                let context = RequestContext(
                    era: .handshake, caller: caller,
                    client: DownstreamClient(
                        capabilities: session.capabilities, ask: Self.ask(session.asked, over: notify), id: id,
                        hear: { [sessions] in sessions.send(id, $0) }))
                answers.append(
                    await inFlight.run(requestID) {
                        await self.gateway.handle(request, context: context, notify: notify)
                    })
            default:
                break  // other notifications, and answers: none needs anything of the gateway
            }
        }
        if answers.isEmpty { return .empty(202) }
        if case .array = value { return .json(.array(answers)) }
        return .json(answers[0])
    }

    /// Asks the client over a request's event stream (`send`); nil when the request's answer cannot be one.
    private static func ask(_ asked: DownstreamRequests, over send: Gateway.Notify?) -> DownstreamClient.Ask? {
        guard let send else { return nil }
        return { method, params, deadline in await asked.ask(method, params, until: deadline, send: send) }
    }

    // MARK: GET and DELETE

    /// What a GET leads to: the session's event stream, ended by `stop` (call it when the connection closes),
    /// or a refusal.
    public enum Listening: Sendable {
        case streaming(stop: @Sendable () -> Void)
        case refused(HTTPReply)
    }

    /// A GET: the session's event stream, which carries `notifications/tools/list_changed` to `send`.
    public func listen(_ r: IncomingRequest, send: @escaping @Sendable (JSONValue) -> Void) -> Listening {
        guard Self.accepts(r.header("Accept"), "text/event-stream", "text/*") else {
            return .refused(.refusal(406, JSONRPCError.invalidRequest, "the client must accept text/event-stream"))
        }
        guard let id = r.header("Mcp-Session-Id") else {
            return .refused(.empty(405, [("Allow", "POST")]))  // no stream outside a session (2026-07-28 has none)
        }
        let who = caller(r)
        if case .unknown = who { return .refused(unauthorized(tokenGiven: true)) }
        guard let key = sessions.subscribe(id, owner: who.identity?.clientID, send) else {
            return .refused(.refusal(404, JSONRPCError.invalidRequest, "no session \(TerminalText.escape(id))"))
        }
        let sessions = self.sessions
        return .streaming(stop: { sessions.unsubscribe(id, key) })
    }

    /// A DELETE: ends the session (its event streams too).
    public func delete(_ r: IncomingRequest) -> HTTPReply {
        guard let id = r.header("Mcp-Session-Id") else {
            return .refusal(400, JSONRPCError.invalidRequest, "Mcp-Session-Id is required")
        }
        let who = caller(r)
        if case .unknown = who { return unauthorized(tokenGiven: true) }
        guard sessions.close(id, owner: who.identity?.clientID) else {
            return .refusal(404, JSONRPCError.invalidRequest, "no such session")
        }
        gateway.clientLeft(id)
        log?("serve: a client ended its session")
        return .empty(200)
    }

    /// Tells every session's event stream when a connector's stored tools change, until cancelled.
    public func watchStoredTools() async {
        await gateway.watchStoredTools { [sessions] in
            sessions.broadcast(JSONRPC.notification(method: "notifications/tools/list_changed"))
        }
    }

    // MARK: Rules

    /// 2026-07-28's routing headers must agree with the body: the version, `Mcp-Method`, and `Mcp-Name` for
    /// methods that name a tool, prompt or resource (plain or in the `=?base64?…?=` form), each given once.
    static func routingHeaderMismatch(_ r: IncomingRequest, method: String, params: JSONValue?, version: String)
        -> String?
    {
        for name in ["MCP-Protocol-Version", "Mcp-Method", "Mcp-Name"] where r.count(name) > 1 {
            return "the \(name) header appears more than once"
        }
        if params?["_meta"]?[MCPVocabulary.Meta.protocolVersion]?.stringValue != version {
            return "the MCP-Protocol-Version header does not match the request's protocol version"
        }
        let expected = MCPVocabulary.modernHeaders(
            for: .object(["method": .string(method), "params": params ?? .null]))
        for (name, value) in expected where r.header(name).flatMap(Self.decodedHeader) != Self.decodedHeader(value) {
            return "the \(name) header does not match the request body"
        }
        return nil
    }

    /// A header value with the spec's base64 sentinel form decoded; nil for a malformed sentinel.
    static func decodedHeader(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let payload = String(value.dropFirst(9).dropLast(2))
        return Data(base64Encoded: payload).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// The id of a body that is one JSON-RPC request; nil for anything else.
    static func requestID(_ body: JSONValue) -> JSONValue? {
        guard case .request(let id, _, _)? = JSONRPCMessage.fromClient(body) else { return nil }
        return id
    }

    /// The HTTP status of a 2026-07-28 answer, by its JSON-RPC error code (as the reference SDK maps them).
    static func status(of answer: JSONValue) -> Int {
        guard let code = answer["error"]?["code"]?.intValue else { return 200 }
        switch code {
        case JSONRPCError.methodNotFound: return 404
        case JSONRPCError.parseError, JSONRPCError.invalidRequest, JSONRPCError.invalidParams,
            JSONRPCError.headerMismatch, -32021, JSONRPCError.unsupportedProtocolVersion:
            return 400
        default: return 200
        }
    }

    /// No Accept header accepts anything; else JSON must be among its types (or a wildcard).
    static func acceptsJSON(_ accept: String?) -> Bool { accepts(accept, "application/json", "application/*") }

    static func accepts(_ accept: String?, _ type: String, _ family: String) -> Bool {
        guard let accept, !accept.isEmpty else { return true }
        let types = accept.split(separator: ",").map {
            $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        }
        return types.contains { $0 == type || $0 == family || $0 == "*/*" }
    }
}

/// What `/healthz` and `/metrics` read, from `mcpconn-serve-http` (the metrics library is linked there only).
public struct ServeMonitor: Sendable {
    /// Whether serve can do its work: true unless told otherwise (see `StoreHealth` in `mcpconn-serve-http`).
    public var healthy: @Sendable () -> Bool
    /// The Prometheus text, given the handshake-era sessions open now; nil: no metrics kept, `/metrics` is 404.
    public var metrics: (@Sendable (_ sessions: Int) -> [UInt8])?

    public init(healthy: @escaping @Sendable () -> Bool = { true }, metrics: (@Sendable (Int) -> [UInt8])? = nil) {
        self.healthy = healthy
        self.metrics = metrics
    }
}

/// The bearer token every `serve --http` request carries.
public enum BearerToken {
    /// A new token: 32 random bytes (libsodium), base64url.
    public static func generate() -> String { PKCE.randomToken(bytes: 32) }

    /// The shortest token accepted from `MCPCONN_SERVE_TOKEN`.
    public static let minimumLength = 16
    public static let environmentName = "MCPCONN_SERVE_TOKEN"

    /// The token set in `MCPCONN_SERVE_TOKEN`, nil when unset or empty. One too short or not fit for a header
    /// is a usage error (which never shows it).
    public static func fromEnvironment(_ environment: [String: String]) throws(MCPConnError) -> String? {
        guard let token = environment[environmentName], !token.isEmpty else { return nil }
        guard token.utf8.count >= minimumLength, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw MCPConnError(
                .usage, "\(environmentName) must be at least \(minimumLength) visible ASCII characters, without spaces")
        }
        return token
    }

    /// True when `authorization` is `Bearer <token>` (the scheme in any case); compared in constant time.
    static func matches(_ authorization: String?, _ token: [UInt8]) -> Bool {
        guard let given = value(authorization) else { return false }
        return same(Array(given.utf8), token)
    }

    /// The token of `Bearer TOKEN` (the scheme in any case); nil for another scheme or none.
    static func value(_ authorization: String?) -> String? {
        guard let authorization, authorization.utf8.count > 7, authorization.prefix(7).lowercased() == "bearer "
        else { return nil }
        return String(authorization.dropFirst(7))
    }

    /// Equal secrets, compared in constant time (libsodium): no timing tells how much of a guess was right.
    static func same(_ given: [UInt8], _ secret: [UInt8]) -> Bool {
        given.count == secret.count && sodium_memcmp(given, secret, secret.count) == 0
    }
}

/// The host names a request's `Host` header may give, against DNS rebinding: a web page of the attacker's
/// domain, that name then resolved to this machine, sends the attacker's name. Accepted: loopback names and
/// addresses (`localhost`, 127.x.x.x, `[::1]`), the address or name serve listens on, the names given with
/// `--allowed-host`, and, when it listens on every address (`0.0.0.0`, `::`), any IP address (an address is
/// never resolved, so it cannot be rebound). As the reference SDKs do, the port is not compared: a client
/// through a tunnel or a proxy names the port it connected to.
public struct AllowedHosts: Sendable, Equatable {
    let listen: String
    let names: Set<String>

    /// `names` are `--allowed-host`'s, checked with `normalized(name:)`.
    public init(listen: ListenAddress, names: [String]) {
        self.listen = listen.host.lowercased()
        self.names = Set(names.compactMap(Self.normalized(name:)))
    }

    /// `host` as `hostname(ofHeader:)` gives it.
    public func allows(_ host: String) -> Bool {
        LoopbackAddress.isLoopback(host: host) || host == listen || names.contains(host)
            || (["0.0.0.0", "::", "0:0:0:0:0:0:0:0"].contains(listen) && Self.isIPAddress(host))
    }

    /// The host of a `Host` header (`name`, `name:port`, `[v6]`, `[v6]:port`), lowercased, an IPv6 address
    /// without its brackets; nil when malformed.
    public static func hostname(ofHeader value: String) -> String? {
        let text = Substring(value.lowercased())
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(after: close)...]
            guard host.contains(":"), isIPAddress(String(host)) else { return nil }
        } else {
            let colon = text.firstIndex(of: ":") ?? text.endIndex
            host = text[..<colon]
            port = text[colon...]
            guard !host.isEmpty, host.utf8.allSatisfy(isNameByte) else { return nil }
        }
        let digits = port.dropFirst().utf8
        guard port.isEmpty || (port.first == ":" && digits.count <= 5 && digits.allSatisfy(isDigit)) else {
            return nil
        }
        return host.utf8.count <= 253 ? String(host) : nil
    }

    /// A name for `--allowed-host`: a host name or an IP address (an IPv6 one with or without brackets), no
    /// port; nil when it is not one.
    public static func normalized(name: String) -> String? {
        if isIPAddress(name), name.contains(":") { return name.lowercased() }
        guard !name.contains(":") || (name.hasPrefix("[") && name.hasSuffix("]")) else { return nil }
        return hostname(ofHeader: name)
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// A byte of a host name once lowercased: a letter, a digit, `-` or `.`.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || isDigit(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}

/// Addresses and origins of this machine only.
public enum LoopbackAddress {
    /// A host name or address that stays on this machine: `localhost`, 127.0.0.0/8, `::1`.
    public static func isLoopback(host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// An `Origin` of a page served from this machine (`http(s)://localhost[:port]` and the like). `null`, and
    /// any other host, is not.
    public static func isLoopbackOrigin(_ origin: String) -> Bool {
        guard let url = URLComponents(string: origin), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, url.path.isEmpty || url.path == "/"
        else { return false }
        return isLoopback(host: host)
    }
}
