import Foundation

/// An OAuth client as the token endpoint knows it.
struct OAuthClient: Sendable {
    var id: String
    var secret: String?
    /// `none`, `client_secret_post` or `client_secret_basic` (RFC 7591 §2).
    var authMethod: String

    /// The form fields and headers that authenticate this client (RFC 6749 §2.3).
    func authenticate(_ fields: inout [(String, String)]) -> [(name: String, value: String)] {
        switch (authMethod, secret) {
        case ("client_secret_basic", let secret?):
            let pair = FormEncoding.escape(id) + ":" + FormEncoding.escape(secret)
            return [("Authorization", "Basic " + Data(pair.utf8).base64EncodedString())]
        case ("client_secret_post", let secret?):
            fields.append(("client_id", id))
            fields.append(("client_secret", secret))
            return []
        default:
            fields.append(("client_id", id))
            return []
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
struct TokenGrant: Sendable {
    var accessToken: String
    var refreshToken: String?
    var expiresAt: Date?
    var scope: String?
}

/// Why a token request failed.
enum TokenFailure: Error, Sendable {
    /// The server's OAuth error (RFC 6749 §5.2), e.g. `invalid_grant`.
    case oauth(code: String, description: String?)
    /// Anything else, already phrased.
    case other(MCPConnError)
}

/// The token and revocation endpoints.
enum TokenEndpoint {
    /// Posts a token request and reads the grant.
    static func request(
        _ url: String, _ fields: [(String, String)], client: OAuthClient, tls: TLSSettings?, timeout: Double
    ) async -> Result<TokenGrant, TokenFailure> {
        var form = fields
        let headers = client.authenticate(&form)
        let sent = Date()
        let response: HTTPResponse
        switch await HTTPFetch.postForm(url, form, headers: headers, tls: tls, timeout: timeout) {
        case .success(let r): response = r
        case .failure(let f): return .failure(.other(f.error("token endpoint")))
        }
        let body = response.jsonObject
        guard response.status == 200 else {
            if let code = body?["error"]?.stringValue {
                return .failure(.oauth(code: code, description: body?["error_description"]?.stringValue))
            }
            return .failure(
                .other(.init(.protocolError, "token endpoint: HTTP \(response.status) without an OAuth error")))
        }
        guard let body, let access = body["access_token"]?.stringValue, !access.isEmpty else {
            return .failure(.other(.init(.protocolError, "token endpoint: the answer holds no access_token")))
        }
        if let type = body["token_type"]?.stringValue, type.lowercased() != "bearer" {
            return .failure(
                .other(
                    .init(
                        .protocolError,
                        "token endpoint: unsupported token_type '\(MCPConnError.oneLine(type, limit: 40))'")))
        }
        // Expiry counted from when the request left, so clock skew in transit errs on the early side.
        let expiresIn = body["expires_in"].flatMap { v -> Double? in
            if case .number(let n) = v { return Double(n) }
            return v.stringValue.flatMap(Double.init)
        }
        return .success(
            TokenGrant(
                accessToken: access, refreshToken: body["refresh_token"]?.stringValue,
                expiresAt: expiresIn.map { sent.addingTimeInterval($0) }, scope: body["scope"]?.stringValue))
    }

    /// Revokes a token (RFC 7009); true when the server accepted it.
    static func revoke(
        _ url: String, token: String, hint: String, client: OAuthClient, tls: TLSSettings?, timeout: Double
    ) async -> Result<Void, MCPConnError> {
        var form = [("token", token), ("token_type_hint", hint)]
        let headers = client.authenticate(&form)
        switch await HTTPFetch.postForm(url, form, headers: headers, tls: tls, timeout: timeout) {
        case .success(let r) where r.status == 200: return .success(())
        case .success(let r):
            let e = r.jsonObject?["error"]?.stringValue.map { ": \($0)" } ?? ""
            return .failure(.init(.failure, "revocation endpoint answered HTTP \(r.status)\(e)"))
        case .failure(let f): return .failure(f.error("revocation endpoint"))
        }
    }
}
