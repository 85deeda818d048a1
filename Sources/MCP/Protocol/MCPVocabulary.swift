import Foundation

/// The protocol's vocabulary, one place for the client and the gateway (`serve`) alike: the versions mcpconn
/// speaks, the `_meta` keys of the 2026-07-28 per-request envelope, and that era's request headers.
public enum MCPVocabulary {
    /// Protocol versions of the handshake era, newest first.
    public static let handshakeVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    /// Protocol versions of the modern (per-request envelope) era, newest first.
    public static let modernVersions = ["2026-07-28"]
    /// The log levels of `notifications/message` (RFC 5424's), least severe first.
    public static let logLevels = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
    /// A level's rank in `logLevels`; nil for a level the spec does not name.
    public static func severity(_ level: String) -> Int? { logLevels.firstIndex(of: level) }

    /// The `_meta` keys of the 2026-07-28 envelope.
    package enum Meta {
        package static let protocolVersion = "io.modelcontextprotocol/protocolVersion"
        package static let clientCapabilities = "io.modelcontextprotocol/clientCapabilities"
        static let clientInfo = "io.modelcontextprotocol/clientInfo"
        package static let serverInfo = "io.modelcontextprotocol/serverInfo"
        package static let logLevel = "io.modelcontextprotocol/logLevel"
    }

    /// 2026-07-28's headers for a request: `Mcp-Method`, and `Mcp-Name` for methods that name a tool, prompt or
    /// resource.
    package static func modernHeaders(for message: JSONValue) -> [(name: String, value: String)] {
        guard let method = message["method"]?.stringValue else { return [] }
        var h = [(name: "Mcp-Method", value: method)]
        let key: String? = ["tools/call": "name", "prompts/get": "name", "resources/read": "uri"][method]
        if let key, let value = message["params"]?[key]?.stringValue {
            h.append((name: "Mcp-Name", value: headerSafe(value)))
        }
        return h
    }

    /// A header value as is when it is visible ASCII without edge spaces, else the spec's base64 sentinel form.
    static func headerSafe(_ v: String) -> String {
        let plain = v.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E } && v.first != " " && v.last != " "
        return plain ? v : "=?base64?" + Data(v.utf8).base64EncodedString() + "?="
    }
}
