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
}
