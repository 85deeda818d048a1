import Foundation

/// An HTTP request as mcpconn sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// The connector's TLS settings; with none, the environment's CA bundle (``TLSSettings/fromEnvironment``).
    public var tls: TLSSettings?

    public init(
        method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        tls: TLSSettings? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.tls = tls
    }

    /// The TLS settings the request is made with: its own, with the environment's CA bundle when they name none.
    var effectiveTLS: TLSSettings { tls?.withEnvironmentDefaults() ?? .fromEnvironment }
}

/// The status line and headers of an HTTP response.
public struct HTTPHead: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]

    public init(status: Int = 0, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.headers = headers
    }

    /// The first value of a header, by case-insensitive name.
    public func value(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name.lowercased() == n }?.value
    }

    /// The media type without parameters, lowercased (e.g. `text/event-stream`).
    public var mediaType: String {
        (value("Content-Type") ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
    }
}

/// Why a transfer did not produce a response.
public enum TransportFailure: Error, Sendable, Equatable {
    /// DNS, refused connection, TLS, reset: the server is not reachable. The text is curl's.
    case unreachable(String)
    /// The deadline passed.
    case timeout
    /// The answer grew past the size cap.
    case oversized(Int)
    /// The connection closed before the answer was complete.
    case truncated(String)
    /// The HTTP framing is broken (a negative Content-Length, a bad chunk size, a bad content encoding).
    /// The text is curl's.
    case malformed(String)
    /// The transfer was cancelled.
    case cancelled
    /// The server's certificate was refused, or it refused ours: the text says which and why.
    case certificate(String)
    /// A local TLS file (CA bundle, client certificate or key) cannot be used. The text says which.
    case tlsSetup(String)
    /// A local server process could not be started, or ended before answering. The text says why.
    case processFailed(String)
    /// A program of mcpconn's own is missing (an incomplete installation). The text says which.
    case missingProgram(String)
}
