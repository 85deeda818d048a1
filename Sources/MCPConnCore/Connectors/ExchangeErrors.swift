/// What an MCP exchange's failure means for mcpconn: its exit status and its one line, naming the connector. The
/// one place where the protocol code's errors (``MCPClientError``, ``TransportFailure``) become ``MCPConnError``s,
/// so the MCP code itself needs nothing of the application's errors (issue 30's seam).
extension MCPClientError {
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

extension TransportFailure {
    /// The mcpconn error for this failure, naming the connector.
    func error(_ who: String) -> MCPConnError {
        switch self {
        case .unreachable(let why): return .init(.unavailable, "\(who): server unavailable: \(why)")
        case .timeout: return .init(.timeout, "\(who): timed out waiting for the server")
        case .oversized(let cap):
            return .init(.protocolError, "\(who): the answer is larger than the \(cap / (1024 * 1024)) MiB cap")
        case .truncated(let why): return .init(.protocolError, "\(who): the answer was cut off (\(why))")
        case .malformed(let why): return .init(.protocolError, "\(who): the server's HTTP framing is invalid (\(why))")
        case .cancelled: return .init(.failure, "\(who): cancelled")
        case .certificate(let why): return .init(.unavailable, "\(who): \(why)")
        case .tlsSetup(let why): return .init(.configuration, "\(who): \(why)")
        case .processFailed(let why): return .init(.unavailable, "\(who): \(why)")
        case .missingProgram(let why): return .init(.configuration, "\(who): \(why)")
        }
    }
}
