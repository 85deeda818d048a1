import Foundation

/// `serve --http --oauth-issuer`: the gateway as an OAuth protected resource (the MCP authorization spec, RFC
/// 9728). A bearer token that is not a client's (`mcpc_`) is an access token of the named issuer, a JWT checked by
/// `verify` (mcpconn-serve-http's JWT code: signature by the issuer's JWKS, `iss`, `aud` = `resource`, expiry), and
/// its first scope in `--oauth-scope` order gives its holder the rules of a client made with `client add`. The
/// token itself goes no further than this check: the gateway calls connectors with their own credentials.
public final class OAuthResourceServer: Sendable {
    /// What the token check found.
    public enum Verdict: Sendable, Equatable {
        /// A valid token of the issuer for this resource: who holds it (`sub`, else `client_id`) and its scopes.
        case valid(subject: String, scopes: [String])
        /// Refused: why, for serve's log (never the token).
        case invalid(String)
    }

    /// Checks a token for an audience.
    public typealias Verify = @Sendable (_ token: String, _ audience: String) async -> Verdict

    /// `--oauth-scope SCOPE=CLIENT`: a scope and the client whose rules its holders get.
    public struct ScopeRule: Sendable, Equatable {
        public var scope: String
        public var client: String

        public init(scope: String, client: String) {
            self.scope = scope
            self.client = client
        }

        public static func parse(_ text: String) throws(MCPConnError) -> ScopeRule {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            // RFC 6749 §3.3: a scope token is visible ASCII but `"` and `\`.
            let scopeOK = (parts.first ?? "").utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
            guard parts.count == 2, !parts[0].isEmpty, scopeOK, (try? ConnectorStorage.clientName(parts[1])) != nil
            else {
                throw .usage(
                    "--oauth-scope wants SCOPE=CLIENT (a client of `client add`), not '\(TerminalText.escape(text))'")
            }
            return ScopeRule(scope: parts[0], client: parts[1])
        }
    }

    /// An http(s) URL with a host (`--oauth-issuer`, `--oauth-audience`).
    public static func isWebURL(_ text: String) -> Bool { OAuthDiscovery.isWebURL(text) }

    /// The issuer as its metadata names it: what `iss` must be.
    public let issuer: String
    public let rules: [ScopeRule]
    private let registry: ClientRegistry
    private let verify: Verify
    private let log: (@Sendable (String) -> Void)?
    private let state: Locked<State>

    private struct State {
        /// The audience tokens must name; set once serve listens (its port may be chosen then).
        var resource: String
        /// Each limited subject's bucket, by caller id.
        var buckets: [String: TokenBucket] = [:]
    }

    /// The longest `sub` (or `client_id`) accepted, in bytes: a caller id is built from it.
    static let maxSubjectBytes = 256

    public init(
        issuer: String, resource: String?, rules: [ScopeRule], registry: ClientRegistry, verify: @escaping Verify,
        log: (@Sendable (String) -> Void)? = nil
    ) {
        self.issuer = issuer
        self.rules = rules
        self.registry = registry
        self.verify = verify
        self.log = log
        state = Locked(State(resource: resource ?? ""))
    }

    /// The audience: `--oauth-audience`, else serve's URL once it listens (``listening(at:)``).
    public var resource: String { state.withLock { $0.resource } }

    /// Serve listens at `url`: the audience unless `--oauth-audience` named one.
    public func listening(at url: String) {
        state.withLock { if $0.resource.isEmpty { $0.resource = url } }
    }

    /// RFC 9728 §3.1: the metadata URL of a resource, `/.well-known/oauth-protected-resource` put between its origin
    /// and its path.
    public var metadataURL: String { Self.metadataURL(of: resource) }

    static func metadataURL(of resource: String) -> String {
        guard let url = URLComponents(string: resource), let scheme = url.scheme, let host = url.host else {
            return resource
        }
        let port = url.port.map { ":\($0)" } ?? ""
        let h = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let path = url.path == "/" ? "" : url.path
        return "\(scheme)://\(h)\(port)/.well-known/oauth-protected-resource\(path)"
    }

    /// The paths the metadata is served at (unauthenticated GET): with the endpoint's path, and without.
    func isMetadataPath(_ path: String, endpoint: String) -> Bool {
        path == "/.well-known/oauth-protected-resource" + endpoint || path == "/.well-known/oauth-protected-resource"
    }

    /// The protected resource metadata (RFC 9728 §2).
    func metadata() -> HTTPReply {
        .json(
            .object([
                "resource": .string(resource), "authorization_servers": [.string(issuer)],
                "scopes_supported": .array(rules.map { .string($0.scope) }), "bearer_methods_supported": ["header"],
            ]), [("Cache-Control", "max-age=300")])
    }

    /// The `WWW-Authenticate` of a refusal (RFC 6750 §3, RFC 9728 §5.1): where the metadata is, and the error.
    func challenge(error: String? = nil, scope: String? = nil) -> String {
        var text = "Bearer resource_metadata=\"\(metadataURL)\""
        if let error { text += ", error=\"\(error)\"" }
        if let scope { text += ", scope=\"\(scope)\"" }
        return text
    }

    /// A 401 carrying the challenge; `error` when a token was given and refused.
    func unauthorized(tokenGiven: Bool) -> HTTPReply {
        .refusal(
            401, JSONRPCError.invalidRequest, "a valid Authorization: Bearer token is required",
            [("WWW-Authenticate", challenge(error: tokenGiven ? "invalid_token" : nil))])
    }

    /// What a token gets: its holder's identity, or the refusal (401 invalid, 403 no mapped scope or its client
    /// gone, 429 over the rate).
    func admit(_ token: String, at now: ContinuousClock.Instant = .now) async -> Verified {
        let subject: String
        let scopes: [String]
        switch await verify(token, resource) {
        case .invalid(let why):
            log?("serve: refused an OAuth token (401): \(why)")
            return .refused(unauthorized(tokenGiven: true))
        case .valid(let s, let granted):
            subject = s
            scopes = granted
        }
        guard subject.utf8.count <= Self.maxSubjectBytes else {
            log?("serve: refused an OAuth token (401): its subject is longer than \(Self.maxSubjectBytes) bytes")
            return .refused(unauthorized(tokenGiven: true))
        }
        let id = "oauth:" + Self.escape(subject)
        // A token with several mapped scopes gets the first one's client, in --oauth-scope order.
        guard let rule = rules.first(where: { scopes.contains($0.scope) }),
            let client = registry.client(named: rule.client)
        else {
            log?("serve: refused \(id): no scope mapped to a client (403)")
            return .refused(
                .refusal(
                    403, JSONRPCError.invalidRequest, "the token has no scope this server maps to a client",
                    [
                        (
                            "WWW-Authenticate",
                            challenge(
                                error: "insufficient_scope", scope: rules.map(\.scope).joined(separator: " "))
                        )
                    ]))
        }
        if let rate = client.ratePerMinute {
            // One bucket per subject and client, made again when the client's rate changed; those back to full are
            // dropped once there are many (each valid token's subject may make one).
            let key = client.name + " " + id
            let wait = state.withLock { s in
                if s.buckets.count >= Self.keptBuckets { s.buckets = s.buckets.filter { !$0.value.isFull(at: now) } }
                var bucket =
                    s.buckets[key].flatMap { $0.perMinute == rate ? $0 : nil }
                    ?? TokenBucket(perMinute: rate, at: now)
                let wait = bucket.take(at: now)
                s.buckets[key] = bucket
                return wait
            }
            if let wait {
                log?("serve: refused \(id) over its rate (429, retry after \(wait) s)")
                return .refused(.overRate(retryAfter: wait))
            }
        }
        return .caller(CallerIdentity(clientID: id, scopes: scopes, user: client.user, access: client.access))
    }

    /// How many subjects' buckets are kept before those back to full are dropped.
    static let keptBuckets = 4096

    /// Untrusted text made a caller id: bytes outside letters, digits and `-._@:` percent-encoded (one-to-one, so
    /// two subjects never share an id, its sessions or its rate).
    static func escape(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            let plain =
                (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x2D || b == 0x2E
                || b == 0x5F || b == 0x40 || b == 0x3A
            out += plain ? String(UnicodeScalar(b)) : String(format: "%%%02X", b)
        }
        return out
    }
}

/// What the asynchronous token check of a request gave.
package enum Verified: Sendable {
    case caller(CallerIdentity)
    case refused(HTTPReply)
}

/// The issuer `serve --http --oauth-issuer` names: its metadata (RFC 8414, then OpenID Connect discovery) and
/// its keys, fetched with mcpconn's own HTTP (libcurl), CA bundle from the environment (`MCPCONN_CA_FILE`,
/// `CURL_CA_BUNDLE`, `SSL_CERT_FILE`) as for every request that names no connector.
public struct OAuthIssuer: Sendable {
    /// The issuer as its metadata says it (RFC 8414 §3.3: the one named, maybe without a trailing slash).
    public var issuer: String
    public var jwksURI: String

    /// Reads the issuer's metadata: 69 unreachable, 76 no metadata, another issuer, or no `jwks_uri`.
    public static func discover(_ issuer: String, timeout: Double) async throws(MCPConnError) -> OAuthIssuer {
        guard OAuthDiscovery.isWebURL(issuer), let urls = OAuthDiscovery.authorizationServerMetadataURLs(issuer)
        else { throw .usage("--oauth-issuer wants an http(s) URL, not '\(TerminalText.escape(issuer))'") }
        for url in urls {
            let r = try await get(url, timeout: timeout)
            guard r.status == 200 else { continue }
            guard let o = r.jsonObject else {
                throw MCPConnError(.protocolError, "the issuer's metadata at \(url) is not a JSON object")
            }
            let named = o["issuer"]?.stringValue ?? ""
            guard Self.trimmed(named) == Self.trimmed(issuer) else {
                throw MCPConnError(
                    .protocolError,
                    "the metadata at \(url) names another issuer (\(MCPConnError.oneLine(named, limit: 200)))")
            }
            guard let jwks = o["jwks_uri"]?.stringValue, OAuthDiscovery.isWebURL(jwks) else {
                throw MCPConnError(.protocolError, "the issuer's metadata at \(url) has no jwks_uri")
            }
            return OAuthIssuer(issuer: named, jwksURI: jwks)
        }
        throw MCPConnError(
            .protocolError, "no OAuth authorization server metadata found for \(issuer) (tried \(urls.count) URLs)")
    }

    /// The issuer's key set (JWKS), as bytes: 69 unreachable, 76 not a 200.
    public func keys(timeout: Double) async throws(MCPConnError) -> [UInt8] {
        let r = try await Self.get(jwksURI, timeout: timeout)
        guard r.status == 200 else {
            throw MCPConnError(.protocolError, "the issuer's key set at \(jwksURI) answered HTTP \(r.status)")
        }
        return r.body
    }

    private static func get(_ url: String, timeout: Double) async throws(MCPConnError) -> HTTPResponse {
        let tls = TLSSettings(caFile: TLSSettings.environmentCAFile()?.path)
        switch await HTTPFetch.getJSON(url, tls: tls, timeout: timeout) {
        case .success(let r): return r
        case .failure(let f): throw f.error("the OAuth issuer (\(url))")
        }
    }

    private static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}
