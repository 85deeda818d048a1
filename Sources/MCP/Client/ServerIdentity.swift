import Foundation

/// What the server said about itself at connection time.
public struct ServerIdentity: Sendable, Equatable {
    public var name: String?
    public var version: String?
    public var protocolVersion: String
    public var instructions: String?
    public var capabilities: JSONValue?
    /// `streamable-http` or `sse` (the legacy HTTP+SSE transport).
    public var transport: String
    /// How requests are framed: one self-contained POST each (modern) or after `initialize` (handshake).
    public var era: ProtocolEra

    public init(
        name: String?, version: String?, protocolVersion: String, instructions: String?, capabilities: JSONValue?,
        transport: String, era: ProtocolEra
    ) {
        self.name = name
        self.version = version
        self.protocolVersion = protocolVersion
        self.instructions = instructions
        self.capabilities = capabilities
        self.transport = transport
        self.era = era
    }
}

extension ServerIdentity {
    /// The fields the store keeps (capabilities are not stored).
    package var stored: ServerIdentity {
        var s = self
        s.capabilities = nil
        return s
    }
}

/// The two eras of MCP: the `initialize` handshake (up to 2025-11-25) and per-request envelopes (2026-07-28).
public enum ProtocolEra: String, Sendable, Codable {
    case handshake
    case modern
}

/// What a caller wants to hear from the server about one request while it is in flight, and where it goes.
public struct RequestNotifications: Sendable {
    /// Asks the server for `notifications/progress`: the request carries a progressToken of the client's own in
    /// `_meta`, which the notifications received carry too.
    public var progress: Bool
    /// Asks a 2026-07-28 server for `notifications/message` at this level and above (its per-request opt-in);
    /// handshake-era servers send theirs unasked. Nil asks for none.
    public var logLevel: String?
    /// Gets the request's progress, and the log messages that come while it is in flight (on a stream several
    /// requests share, the oldest listening one gets them), as the server sent them. Called on a transport's thread,
    /// before the answer is returned: it must return at once.
    public var receive: @Sendable (_ method: String, _ params: JSONValue?) -> Void

    public init(
        progress: Bool, logLevel: String?, receive: @escaping @Sendable (_ method: String, _ params: JSONValue?) -> Void
    ) {
        self.progress = progress
        self.logLevel = logLevel
        self.receive = receive
    }
}
