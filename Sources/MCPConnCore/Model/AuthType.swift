/// How a connector authenticates to its server.
public enum AuthType: String, Codable, Sendable, CaseIterable {
    /// No credentials are sent.
    case none
    /// A static API key in a header (default `X-API-Key`).
    case apiKey = "api_key"
    /// A bearer token: `Authorization: Bearer <token>`.
    case oauth

    /// Parses a user-supplied auth type, accepting `api-key` as a spelling of `api_key`.
    public static func parse(_ text: String) throws(MCPConnError) -> AuthType {
        let t = text.lowercased().replacingOccurrences(of: "-", with: "_")
        guard let a = AuthType(rawValue: t) else {
            throw .usage("unknown auth type '\(text)': use none, api_key or oauth")
        }
        return a
    }
}
