import Foundation

/// Moves JSON-RPC messages between mcpconn and one server.
protocol MCPTransport: AnyObject, Sendable {
    /// Sends a request and returns the server's answer to it; the server's notifications about it while it is in
    /// flight go to `notifications`, when given.
    func request(
        _ message: JSONValue, id: JSONValue, deadline: ContinuousClock.Instant, notifications: NotificationRoute?
    ) async throws(MCPClientError) -> JSONRPCMessage
    /// Sends a notification (or an answer to a server request).
    func notify(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError)
    /// Ends the session politely.
    func close(deadline: ContinuousClock.Instant) async
    /// Records the negotiated protocol version, sent on later requests.
    func setProtocolVersion(_ version: String)
}

extension MCPTransport {
    /// A request whose notifications nobody listens to.
    func request(_ message: JSONValue, id: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError)
        -> JSONRPCMessage
    {
        try await request(message, id: id, deadline: deadline, notifications: nil)
    }
}

/// Where a transport delivers the server's notifications about one request in flight: its progress (by the
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

/// The routes of the requests in flight on a stream they share (legacy SSE, stdio), kept under its owner's lock.
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
}

/// A transport that carries every message of a session over one channel it opens first (a child process's
/// pipes): the client negotiates the era over it and never replaces it, unlike HTTP's per-era transports.
protocol MCPStreamTransport: MCPTransport {
    /// Opens the channel (starts the process); failures are the server's, not the protocol's.
    func open(deadline: ContinuousClock.Instant) async throws(MCPClientError)
    /// The name stored as the connector's transport (`stdio`).
    var name: String { get }
}

/// Settings shared by the transports.
struct TransportSettings: Sendable {
    /// Extra headers on every request to the server's own origin (the credential header).
    var credentialHeaders: [(name: String, value: String)]
    var maxBytes: Int
    var log: ProtocolLog?
    /// The connector's TLS settings, on every request.
    var tls: TLSSettings?
    /// Answers the server's own requests, bounded over the whole operation (every transport it tries).
    var answerer = ServerRequestAnswerer()
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
