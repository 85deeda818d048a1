import Foundation

/// What carries JSON-RPC messages between mcpconn and one server: framing, a child process's life, the HTTP
/// exchange, session id and era headers, and nothing of the protocol. The session (``MCPSession``) owns request
/// ids, what is pending, routing and the answers to the server's requests; a channel hands every message it
/// reads to the session's ``Inbound``, as it comes, on whatever thread reads it.
protocol MessageChannel: AnyObject, Sendable {
    /// Sends one message. For a request (`requestID` set), it returns once the message is written (a stream
    /// shared by every message: a local server's pipes, the legacy SSE transport), or once the request's own
    /// stream has delivered its answer to the session (streamable HTTP); it throws why the request failed.
    func send(_ message: JSONValue, requestID: JSONValue?, deadline: ContinuousClock.Instant)
        async throws(MCPClientError)
    /// Ends the session politely.
    func close(deadline: ContinuousClock.Instant) async
    /// Records the negotiated protocol version, sent on later requests.
    func setProtocolVersion(_ version: String)
    /// What a request that waited to its deadline failed with (a local server that wrote only log lines on
    /// stdout explains more than a timeout).
    func timeoutError() -> MCPClientError
    /// Forgets the server's session after it expired it (streamable HTTP); nothing elsewhere.
    func resetSession()
    /// Opens the stream on which the server sends requests of its own outside any of ours (streamable HTTP's
    /// GET), after the handshake; nothing elsewhere.
    func listen(deadline: ContinuousClock.Instant) async
    /// How long `close` may take past the operation's deadline: a local server must be ended whatever it costs.
    var closeGrace: Duration { get }
}

extension MessageChannel {
    func timeoutError() -> MCPClientError { .transport(.timeout) }
    func resetSession() {}
    func listen(deadline: ContinuousClock.Instant) async {}
    var closeGrace: Duration { .seconds(2) }
}

/// Where a channel delivers what it reads: the session's, made for that channel (see ``MCPSession/inbound()``).
package struct Inbound: Sendable {
    /// One message from the server; `stream` is the id of the request whose own stream carried it (a streamable
    /// HTTP POST), nil on a stream shared by all. False when the session refuses it (a flood of server requests):
    /// the channel stops reading that stream.
    let receive: @Sendable (_ message: JSONRPCMessage, _ stream: JSONValue?) -> Bool
    /// No more messages will come on the channel: every request waiting fails with the error, and every later one.
    let ended: @Sendable (MCPClientError) -> Void
    /// A stream about no request (streamable HTTP's GET) ended, and why: the channel goes on, but what listens to
    /// the session's own notifications (a watch) hears no more from it.
    var unrelatedStreamEnded: @Sendable (MCPClientError) -> Void = { _ in }

    /// The `stream` of messages a stream about no request carried (streamable HTTP's GET): a JSON-RPC request id
    /// is never null, so no request's route matches it, and its notifications go to the session's listener.
    static let noRequest: JSONValue = .null

    /// Nobody listens: server requests refused, everything else dropped (a channel's own tests).
    static let none = Inbound(receive: { _, _ in false }, ended: { _ in })
}

/// What the session hears that concerns none of the client's requests: a notification of its own (a resource
/// updated, a list changed), or the end of where such notifications come from (the channel, the GET stream).
package enum SessionEvent: Sendable {
    case notification(method: String, params: JSONValue?)
    case ended(MCPClientError)
}

/// Where the session delivers the server's notifications about one request in flight: its progress (by the
/// request's progressToken) and log messages.
package struct NotificationRoute: Sendable {
    package static let progress = "notifications/progress"
    package static let logMessage = "notifications/message"

    /// The token the request carries in `params._meta`, if it asked for progress.
    let progressToken: JSONValue?
    let receive: @Sendable (_ method: String, _ params: JSONValue?) -> Void

    /// True for this request's progress and for any log message (which names no request).
    func wants(_ method: String, _ params: JSONValue?) -> Bool {
        if method == Self.logMessage { return true }
        guard method == Self.progress, let progressToken else { return false }
        return params?["progressToken"] == progressToken
    }
}

/// The routes of the requests in flight, kept under the session's lock.
/// Progress goes to the request with its token. A log message names no request: it goes to the oldest listening
/// request in flight (the one a server that works in turn is working on), and to one only, so no client sees it
/// twice.
struct NotificationRoutes {
    /// In the order the requests started.
    private var routes: [(id: JSONValue, route: NotificationRoute)] = []

    mutating func add(_ route: NotificationRoute, for id: JSONValue) { routes.append((id, route)) }

    mutating func remove(_ id: JSONValue) { routes.removeAll { $0.id == id } }

    func route(for method: String, _ params: JSONValue?) -> NotificationRoute? {
        routes.first { $0.route.wants(method, params) }?.route
    }

    /// Request `id`'s route, if it wants this notification (one that came on that request's own stream).
    func route(of id: JSONValue, for method: String, _ params: JSONValue?) -> NotificationRoute? {
        routes.first { $0.id == id && $0.route.wants(method, params) }?.route
    }
}

/// A channel over one stream it opens first (a child process's pipes): the client negotiates the era over it and
/// never replaces it, unlike HTTP's per-era channels.
protocol StreamChannel: MessageChannel {
    /// Opens the channel (starts the process); failures are the server's, not the protocol's.
    func open(deadline: ContinuousClock.Instant) async throws(MCPClientError)
    /// The name stored as the connector's transport (`stdio`).
    var name: String { get }
}

/// Settings shared by the channels.
struct TransportSettings: Sendable {
    /// Extra headers on every request to the server's own origin (the credential header).
    var credentialHeaders: [(name: String, value: String)]
    var maxBytes: Int
    var log: ProtocolLog?
    /// The connector's TLS settings, on every request.
    var tls: TLSSettings?
    /// Where the channel delivers what it reads.
    var inbound = Inbound.none
    /// When the streams that outlive requests end, if not with the operation (see `MCPClient.Options`).
    var streamDeadline: ContinuousClock.Instant?
}

/// An origin (scheme, host, port) and URL helpers for redirect and endpoint checks.
package struct Origin: Equatable, Sendable {
    package var scheme: String
    var host: String
    var port: Int

    package init?(_ url: String) {
        guard let c = URLComponents(string: url), let s = c.scheme?.lowercased(), let h = c.host?.lowercased()
        else { return nil }
        scheme = s
        host = h
        port = c.port ?? (s == "https" ? 443 : 80)
    }

    /// `scheme://host[:port]`, the port only when not the scheme's default: the base of well-known URLs.
    package var text: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        return "\(scheme)://\(h)" + (port == defaultPort ? "" : ":\(port)")
    }

    /// Resolves `reference` (absolute or relative) against `base`.
    static func resolve(_ reference: String, against base: String) -> String? {
        guard let b = URL(string: base), let u = URL(string: reference, relativeTo: b) else { return nil }
        return u.absoluteString
    }
}
