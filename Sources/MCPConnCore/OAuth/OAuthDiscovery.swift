import Foundation

/// What an authorization server says about itself (RFC 8414 / OpenID Connect Discovery).
struct AuthorizationServerMetadata: Sendable {
    var issuer: String
    var authorizationEndpoint: String
    var tokenEndpoint: String
    var registrationEndpoint: String?
    var revocationEndpoint: String?
    var scopesSupported: [String]
    var tokenEndpointAuthMethods: [String]

    init(_ o: JSONObject, issuer fallback: String) throws(MCPConnError) {
        guard let authorize = o["authorization_endpoint"]?.stringValue, let token = o["token_endpoint"]?.stringValue
        else {
            throw MCPConnError(
                .protocolError, "authorization server metadata lacks authorization_endpoint or token_endpoint")
        }
        // MCP authorization: PKCE S256 is required, and a server that does not advertise it must be refused.
        let methods = o["code_challenge_methods_supported"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard methods.contains("S256") else {
            throw MCPConnError(
                .protocolError,
                "the authorization server does not advertise PKCE S256 (code_challenge_methods_supported)")
        }
        for url in [authorize, token] where !OAuthDiscovery.isWebURL(url) {
            throw MCPConnError(
                .protocolError,
                "authorization server metadata has a bad endpoint URL: \(MCPConnError.oneLine(url, limit: 200))")
        }
        issuer = o["issuer"]?.stringValue ?? fallback
        authorizationEndpoint = authorize
        tokenEndpoint = token
        registrationEndpoint = o["registration_endpoint"]?.stringValue.flatMap {
            OAuthDiscovery.isWebURL($0) ? $0 : nil
        }
        revocationEndpoint = o["revocation_endpoint"]?.stringValue.flatMap { OAuthDiscovery.isWebURL($0) ? $0 : nil }
        scopesSupported = o["scopes_supported"]?.arrayValue?.compactMap(\.stringValue) ?? []
        // RFC 8414 §2: absent means client_secret_basic.
        tokenEndpointAuthMethods =
            o["token_endpoint_auth_methods_supported"]?.arrayValue?.compactMap(\.stringValue) ?? ["client_secret_basic"]
    }
}

/// The MCP authorization discovery chain: the server's 401 → protected resource metadata (RFC 9728) →
/// authorization server metadata (RFC 8414, then OpenID Connect discovery).
struct OAuthDiscovery: Sendable {
    /// The resource indicator (RFC 8707) for token requests: the MCP server's canonical URL.
    var resource: String
    /// The scopes to request: the 401's `scope`, else the resource's `scopes_supported`, else none.
    var scopes: [String]
    var server: AuthorizationServerMetadata

    /// Runs the discovery for the MCP server at `serverURL`.
    static func run(
        serverURL: String, tls: TLSSettings?, timeout: Double, trace: (@Sendable (String) -> Void)?
    ) async throws(MCPConnError) -> OAuthDiscovery {
        // 1. An unauthenticated request: the 401's WWW-Authenticate names the resource metadata.
        let probe = HTTPRequest(
            method: "POST", url: serverURL,
            headers: [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")],
            body: Array(#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#.utf8), tls: tls)
        var challenge: [String: String] = [:]
        let probed = try await fetch(probe, timeout: timeout, what: "the MCP server")
        trace?("< probe: HTTP \(probed.status)")
        if probed.status == 401, let header = probed.head.value("WWW-Authenticate") {
            challenge = parseChallenge(header)
        }

        // 2. Protected resource metadata: the advertised URL, then the well-known paths (RFC 9728 §3).
        guard isWebURL(serverURL), let server = URLComponents(string: serverURL), let serverOrigin = Origin(serverURL)
        else {
            throw .usage("not a URL: \(serverURL)")
        }
        let origin = serverOrigin.text
        let path = server.path == "/" ? "" : server.path
        var candidates: [String] = []
        if let advertised = challenge["resource_metadata"], isWebURL(advertised) { candidates.append(advertised) }
        if !path.isEmpty { candidates.append(origin + "/.well-known/oauth-protected-resource" + path) }
        candidates.append(origin + "/.well-known/oauth-protected-resource")
        var resourceMetadata: JSONObject?
        for url in unique(candidates) {
            let r = try await fetch(
                HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")], tls: tls),
                timeout: timeout,
                what: url)
            trace?("< \(url): HTTP \(r.status)")
            if r.status == 200, let o = r.jsonObject, o["authorization_servers"] != nil || o["resource"] != nil {
                resourceMetadata = o
                break
            }
        }

        var resource = canonicalResource(serverURL)
        var issuer = origin  // servers from before RFC 9728 host their authorization server at their origin
        var scopes = challenge["scope"].map { $0.split(separator: " ").map(String.init) } ?? []
        if let prm = resourceMetadata {
            if let advertised = prm["resource"]?.stringValue {
                // RFC 9728 §3.3: the metadata must be about this server.
                guard Origin(advertised) == serverOrigin else {
                    throw MCPConnError(
                        .protocolError,
                        "the protected resource metadata names another resource (\(MCPConnError.oneLine(advertised, limit: 200)))"
                    )
                }
                resource = advertised
            }
            if let first = prm["authorization_servers"]?.arrayValue?.first?.stringValue {
                guard isWebURL(first) else {
                    throw MCPConnError(
                        .protocolError, "the protected resource metadata has a bad authorization server URL")
                }
                issuer = first
            }
            if scopes.isEmpty { scopes = prm["scopes_supported"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        }

        // 3. Authorization server metadata (RFC 8414 §3, then OpenID Connect Discovery, path-aware).
        guard isWebURL(issuer), let asCandidates = authorizationServerMetadataURLs(issuer) else {
            throw MCPConnError(
                .protocolError, "bad authorization server URL: \(MCPConnError.oneLine(issuer, limit: 200))")
        }
        for url in asCandidates {
            let r = try await fetch(
                HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")], tls: tls),
                timeout: timeout,
                what: url)
            trace?("< \(url): HTTP \(r.status)")
            guard r.status == 200 else { continue }
            guard let o = r.jsonObject else {
                throw MCPConnError(.protocolError, "the authorization server metadata at \(url) is not a JSON object")
            }
            let metadata = try AuthorizationServerMetadata(o, issuer: issuer)
            return OAuthDiscovery(resource: resource, scopes: scopes, server: metadata)
        }
        throw MCPConnError(
            .protocolError,
            "no OAuth authorization server metadata found for \(issuer) (tried \(asCandidates.count) well-known URLs)")
    }

    /// Where an issuer's metadata may be (RFC 8414 §3, then OpenID Connect Discovery, path-aware); nil for a bad URL.
    static func authorizationServerMetadataURLs(_ issuer: String) -> [String]? {
        guard let iss = URLComponents(string: issuer), let issuerOrigin = Origin(issuer)?.text else { return nil }
        let issuerPath = iss.path == "/" ? "" : iss.path
        return issuerPath.isEmpty
            ? [
                issuerOrigin + "/.well-known/oauth-authorization-server",
                issuerOrigin + "/.well-known/openid-configuration",
            ]
            : [
                issuerOrigin + "/.well-known/oauth-authorization-server" + issuerPath,
                issuerOrigin + "/.well-known/openid-configuration" + issuerPath,
                issuerOrigin + issuerPath + "/.well-known/openid-configuration",
            ]
    }

    private static func fetch(_ request: HTTPRequest, timeout: Double, what: String) async throws(MCPConnError)
        -> HTTPResponse
    {
        switch await HTTPFetch.run(request, timeout: timeout) {
        case .success(let r): return r
        case .failure(let f): throw f.error("OAuth discovery (\(what))")
        }
    }

    /// The parameters of a `Bearer` challenge (`resource_metadata`, `scope`, `error`, …).
    static func parseChallenge(_ header: String) -> [String: String] {
        var out: [String: String] = [:]
        var s = Substring(header)
        if let r = s.range(of: "Bearer", options: .caseInsensitive) { s = s[r.upperBound...] }
        while !s.isEmpty {
            s = s.drop { $0 == " " || $0 == "," }
            guard let eq = s.firstIndex(of: "=") else { break }
            let key = s[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            s = s[s.index(after: eq)...]
            var value = ""
            if s.first == "\"" {
                s = s.dropFirst()
                var escaped = false
                var end = s.endIndex
                for i in s.indices {
                    let ch = s[i]
                    if escaped {
                        value.append(ch)
                        escaped = false
                    } else if ch == "\\" {
                        escaped = true
                    } else if ch == "\"" {
                        end = i
                        break
                    } else {
                        value.append(ch)
                    }
                }
                s = end < s.endIndex ? s[s.index(after: end)...] : s[s.endIndex...]
            } else {
                let end = s.firstIndex(of: ",") ?? s.endIndex
                value = s[..<end].trimmingCharacters(in: .whitespaces)
                s = s[end...]
            }
            if out[key] == nil { out[key] = value }
        }
        return out
    }

    /// The server URL without fragment, as RFC 8707 wants it.
    static func canonicalResource(_ url: String) -> String {
        guard var u = URLComponents(string: url) else { return url }
        u.fragment = nil
        u.scheme = u.scheme?.lowercased()
        u.host = u.host?.lowercased()
        return u.string ?? url
    }

    static func isWebURL(_ s: String) -> Bool {
        guard let u = URLComponents(string: s), let scheme = u.scheme?.lowercased(), let host = u.host, !host.isEmpty
        else { return false }
        return scheme == "https" || scheme == "http"
    }

    private static func unique(_ list: [String]) -> [String] {
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }
}
