/// Why an MCP exchange failed, before it is phrased for a particular connector.
public enum MCPClientError: Error, Sendable {
    /// The transfer itself failed (unreachable, timeout, oversized, truncated).
    case transport(TransportFailure)
    /// The server answered with an HTTP error status.
    case http(status: Int, detail: String)
    /// The server's session is gone (404 on a request that carried a session id).
    case sessionExpired
    /// The answer is not valid MCP.
    case notMCP(String)
    /// The server answered with a JSON-RPC error.
    case rpc(JSONRPCError)
    /// A redirect mcpconn refuses to follow.
    case badRedirect(String)

    /// The error as mcpconn reports it, naming the connector (`who`).
    public func error(_ who: String, during step: String? = nil) -> MCPConnError {
        let prefix = step.map { "\(who): \($0): " } ?? "\(who): "
        switch self {
        case .transport(let f):
            let e = f.error(who)
            return step.map { MCPConnError(e.status, "\(who): \($0): " + e.message.dropFirst(who.count + 2)) } ?? e
        case .http(let status, let detail):
            let d = detail.isEmpty ? "" : ": \(detail)"
            switch status {
            case 401, 403:
                return .init(.permissionDenied, prefix + "the server refused the credentials (HTTP \(status))\(d)")
            case 408, 429, 500...599: return .init(.unavailable, prefix + "server error (HTTP \(status))\(d)")
            default: return .init(.protocolError, prefix + "not an MCP endpoint (HTTP \(status))\(d)")
            }
        case .sessionExpired: return .init(.protocolError, prefix + "the server lost the session twice")
        case .notMCP(let why): return .init(.protocolError, prefix + "not a valid MCP answer: \(why)")
        case .rpc(let e): return .init(.protocolError, prefix + "server error \(e.code): \(e.message)")
        case .badRedirect(let why): return .init(.unavailable, prefix + why)
        }
    }
}
