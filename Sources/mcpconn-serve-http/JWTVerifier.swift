import Foundation
import JWTKit
import MCPConnCore

/// The access tokens of `serve --http --oauth-issuer`: JWTs (RFC 9068 style) signed by one of the issuer's keys.
/// Checked, in this order: three parts; `alg` one of ``algorithms`` (never `none`, never HMAC: the keys are
/// public) and fit for its key's type (and the key's own `alg`, when it names one); `kid` one of the issuer's keys
/// (an unknown one makes the keys be fetched again, at most once per ``refetchInterval``); the signature
/// (jwt-kit); `iss` the issuer's; `aud` (a string or a list) holding the audience (RFC 8707); `exp` present and
/// not past, `nbf` not ahead (``leeway`` both ways); a subject (`sub`, else `client_id`). Scopes: `scope` (space
/// separated) or `scp` (a string or a list). The keys (JWKS) are fetched at start and again after ``keysTTL``;
/// a failed fetch keeps the keys known.
final class JWTVerifier: Sendable {
    static let algorithms: Set<String> = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    ]
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    static let leeway: Double = 60
    static let keysTTL = Duration.seconds(600)
    static let refetchInterval = Duration.seconds(30)

    private struct Keys: Sendable {
        var collection: JWTKeyCollection
        /// Each key's type (`kty`) and `alg` (if it names one), by `kid`.
        var kinds: [String: (type: String, alg: String?)]
        var fetched: ContinuousClock.Instant
    }

    private struct State {
        var keys: Keys
        var lastAttempt: ContinuousClock.Instant
        var fetching: Task<Void, Never>?
    }

    private let issuer: OAuthIssuer
    private let timeout: Double
    private let warn: @Sendable (String) -> Void
    private let state: Locked<State>

    private init(issuer: OAuthIssuer, timeout: Double, keys: Keys, warn: @escaping @Sendable (String) -> Void) {
        self.issuer = issuer
        self.timeout = timeout
        self.warn = warn
        // The first unknown `kid` after start is fetched at once (a key added just before serve started).
        state = Locked(State(keys: keys, lastAttempt: keys.fetched - Self.refetchInterval))
    }

    /// The issuer's metadata and keys, read once: a failure fails serve's start (69 unreachable, 76 bad answers).
    static func start(issuer url: String, timeout: Double, warn: @escaping @Sendable (String) -> Void)
        async throws(MCPConnError) -> JWTVerifier
    {
        let issuer = try await OAuthIssuer.discover(url, timeout: timeout)
        let keys = try await load(try await issuer.keys(timeout: timeout))
        guard !keys.kinds.isEmpty else {
            throw MCPConnError(.protocolError, "the issuer's key set at \(issuer.jwksURI) has no usable signing key")
        }
        return JWTVerifier(issuer: issuer, timeout: timeout, keys: keys, warn: warn)
    }

    var issuerName: String { issuer.issuer }

    /// A key set (JWKS): each signing key with a `kid` that jwt-kit reads; the others are left out, one by one.
    private static func load(_ bytes: [UInt8]) async throws(MCPConnError) -> Keys {
        guard let set = try? JSONValue.parse(bytes), let list = set["keys"]?.arrayValue else {
            throw MCPConnError(.protocolError, "the issuer's key set is not a JWKS (a JSON object with keys)")
        }
        let collection = JWTKeyCollection()
        var kinds: [String: (type: String, alg: String?)] = [:]
        for key in list {
            guard let kid = key["kid"]?.stringValue, let type = key["kty"]?.stringValue,
                key["use"]?.stringValue ?? "sig" == "sig"
            else { continue }
            let json = JSONValue.object(["keys": .array([key])]).compactText()
            if (try? await collection.add(jwksJSON: json)) != nil { kinds[kid] = (type, key["alg"]?.stringValue) }
        }
        return Keys(collection: collection, kinds: kinds, fetched: .now)
    }

    /// Checks `token` for `audience`.
    func verify(_ token: String, audience: String) async -> OAuthResourceServer.Verdict {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.object(parts[0]), let claims = Self.object(parts[1]) else {
            return .invalid("not a JWT")
        }
        guard let alg = header["alg"]?.stringValue, Self.algorithms.contains(alg) else {
            return .invalid("its algorithm is not accepted")
        }
        guard let kid = header["kid"]?.stringValue else { return .invalid("no kid in its header") }
        let keys = await keys(for: kid)
        guard let kind = keys.kinds[kid] else { return .invalid("signed by a key the issuer does not list") }
        guard Self.fits(alg, kind) else { return .invalid("its algorithm does not fit its key") }
        do {
            _ = try await keys.collection.verify(token, as: Signed.self)
        } catch {
            return .invalid("its signature does not verify")
        }
        return Self.check(claims, issuer: issuer.issuer, audience: audience, now: Date().timeIntervalSince1970)
    }

    /// The claims of a token whose signature verified.
    static func check(_ claims: JSONValue, issuer: String, audience: String, now: Double)
        -> OAuthResourceServer.Verdict
    {
        guard claims["iss"]?.stringValue == issuer else { return .invalid("another issuer") }
        // Empty until serve knows its own URL (it is set before the first request is read, but never match "").
        guard !audience.isEmpty else { return .invalid("no audience known yet") }
        let audiences = claims["aud"]?.stringValue.map { [$0] } ?? claims["aud"]?.arrayValue?.compactMap(\.stringValue)
        guard audiences?.contains(audience) == true else { return .invalid("another audience") }
        guard let exp = claims["exp"]?.doubleValue else { return .invalid("no exp") }
        guard now < exp + leeway else { return .invalid("expired") }
        if let nbf = claims["nbf"]?.doubleValue, now + leeway < nbf { return .invalid("not valid yet (nbf)") }
        guard let subject = claims["sub"]?.stringValue ?? claims["client_id"]?.stringValue, !subject.isEmpty else {
            return .invalid("no sub or client_id")
        }
        let scopes =
            claims["scope"]?.stringValue.map { $0.split(separator: " ").map(String.init) }
            ?? claims["scp"]?.stringValue.map { $0.split(separator: " ").map(String.init) }
            ?? claims["scp"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return .valid(subject: subject, scopes: scopes)
    }

    /// An algorithm fits a key of its family only, and the key's own `alg` when it names one.
    static func fits(_ alg: String, _ kind: (type: String, alg: String?)) -> Bool {
        if let named = kind.alg, named != alg { return false }
        switch kind.type {
        case "RSA": return alg.hasPrefix("RS") || alg.hasPrefix("PS")
        case "EC": return alg.hasPrefix("ES")
        case "OKP": return alg == "EdDSA"
        default: return false
        }
    }

    /// The keys to check a token of `kid` with. An unknown `kid` waits for the keys fetched again (a key the
    /// issuer rotated in), unless a fetch was tried less than ``refetchInterval`` ago; a known one never waits:
    /// keys older than the TTL are fetched again for later tokens while this one goes on with those at hand, so an
    /// issuer that is slow or down delays no token whose key serve knows.
    private func keys(for kid: String) async -> Keys {
        let now = ContinuousClock.now
        let wait: Task<Void, Never>? = state.withLock { s in
            let known = s.keys.kinds[kid] != nil
            if let running = s.fetching { return known ? nil : running }
            let stale = now - s.keys.fetched > Self.keysTTL
            guard !known || stale, now - s.lastAttempt >= Self.refetchInterval else { return nil }
            s.lastAttempt = now
            let task = Task { await self.refetch() }
            s.fetching = task
            return known ? nil : task
        }
        await wait?.value
        return state.withLock { $0.keys }
    }

    private func refetch() async {
        do throws(MCPConnError) {
            let keys = try await Self.load(try await issuer.keys(timeout: timeout))
            state.withLock {
                if !keys.kinds.isEmpty { $0.keys = keys }
                $0.fetching = nil
            }
        } catch {
            warn("could not fetch the OAuth issuer's keys again (keeping those known): \(error.message)")
            state.withLock { $0.fetching = nil }
        }
    }

    /// A base64url JSON object (a JWT's header or claims).
    private static func object(_ part: Substring) -> JSONValue? {
        var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.utf8.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), let value = try? JSONValue.parse(Array(data)),
            value.objectValue != nil
        else { return nil }
        return value
    }
}

/// The payload as jwt-kit sees it: nothing, its claims are checked by ``JWTVerifier/check(_:issuer:audience:now:)``.
private struct Signed: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
