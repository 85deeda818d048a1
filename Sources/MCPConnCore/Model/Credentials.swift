/// Decrypted connector credentials, held in memory only while a request needs them.
///
/// Stored (sealed) as a JSON object: `{"api_key": …, "header": …}` for api_key,
/// `{"access_token": …}` for oauth, so later fields (refresh tokens, expiry) fit without a migration.
public struct Credentials: Sendable, Equatable {
    public var fields: JSONObject

    public init(fields: JSONObject) { self.fields = fields }

    /// The default header for api_key connectors.
    public static let defaultKeyHeader = "X-API-Key"

    /// Credentials for an api_key connector.
    public static func apiKey(_ secret: String, header: String?) -> Credentials {
        var f = JSONObject()
        f["api_key"] = .string(secret)
        f["header"] = .string(header ?? defaultKeyHeader)
        return Credentials(fields: f)
    }

    /// Credentials for an oauth connector holding a static bearer token.
    public static func bearer(_ token: String) -> Credentials {
        var f = JSONObject()
        f["access_token"] = .string(token)
        return Credentials(fields: f)
    }

    /// The HTTP header (name, value) to send for this auth type, if any.
    public func header(for auth: AuthType) -> (name: String, value: String)? {
        switch auth {
        case .none: return nil
        case .apiKey:
            guard let key = fields["api_key"]?.stringValue else { return nil }
            return (fields["header"]?.stringValue ?? Credentials.defaultKeyHeader, key)
        case .oauth:
            guard let token = fields["access_token"]?.stringValue else { return nil }
            return ("Authorization", "Bearer " + token)
        }
    }

    /// Every secret value, for redaction of logs and messages.
    public var secretValues: [String] {
        ["api_key", "access_token", "refresh_token", "client_secret"].compactMap { fields[$0]?.stringValue }
            .filter { !$0.isEmpty }
    }

    /// The api_key header name, if set.
    public var keyHeader: String? { fields["header"]?.stringValue }
}
