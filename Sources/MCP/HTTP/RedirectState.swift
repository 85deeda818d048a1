import Foundation

/// Which requests to a server carry its connector's credentials: only those to the connector's own origin (the
/// scheme, host and port of its URL). One rule for every request of both HTTP transports (POST, the GET event
/// streams, their resumptions, the session's DELETE).
package struct CredentialScope: Sendable, Equatable {
    let origin: Origin?

    package init(serverURL: String) { origin = Origin(serverURL) }

    /// Whether a request to `url` may carry the credentials.
    func admits(_ url: String) -> Bool { origin != nil && Origin(url) == origin }

    /// `headers` for a request to `url`: the credential headers only when `url` is in scope.
    func headers(_ credentials: [(name: String, value: String)], for url: String) -> [(name: String, value: String)] {
        admits(url) ? credentials : []
    }
}

/// The redirects of one request (as async-http-client's `RedirectState`): at most ``limit`` hops, no loop, only
/// http(s), never from https to http. A hop to another origin is allowed; its requests go without credentials
/// (``CredentialScope``). Both HTTP channels and OAuth's metadata fetches follow redirects only through
/// ``follow(_:from:)``.
package struct RedirectState: Sendable {
    package static let limit = 5

    private var visited: Set<String>
    private(set) var hops = 0

    package init(start url: String) { visited = [url] }

    /// The URL `location` (absolute or relative to `url`) leads to, or why it is not followed.
    package mutating func follow(_ location: String, from url: String) throws(MCPClientError) -> String {
        guard let next = Origin.resolve(location, against: url), let to = Origin(next),
            to.scheme == "http" || to.scheme == "https"
        else { throw .badRedirect("invalid redirect to '\(ServerText.oneLine(location, limit: 200))'") }
        if Origin(url)?.scheme == "https", to.scheme == "http" {
            throw .badRedirect("refusing a redirect from https to http (\(to.host))")
        }
        hops += 1
        guard hops <= Self.limit else { throw .badRedirect("too many redirects") }
        guard visited.insert(next).inserted else { throw .badRedirect("a redirect loop (back to \(to.host))") }
        return next
    }
}
