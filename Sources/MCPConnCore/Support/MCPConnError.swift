/// The process exit statuses mcpconn uses, in the style of BSD's sysexits.h.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// The command did what was asked.
    case ok = 0
    /// The operation itself failed: a tool reported an error, a target failed, an expectation was not met.
    case failure = 1
    /// The command line was wrong: bad flag, invalid URL, unknown auth type (EX_USAGE).
    case usage = 64
    /// The user's data was wrong: invalid JSON arguments, an unreadable secret (EX_DATAERR).
    case dataError = 65
    /// The connector does not exist for this user (EX_NOINPUT).
    case notFound = 66
    /// The server could not be reached or the connector is disabled (EX_UNAVAILABLE).
    case unavailable = 69
    /// Standard output could not be written: a full disk, a closed descriptor (EX_IOERR).
    case ioError = 74
    /// The server did not answer in time (EX_TEMPFAIL).
    case timeout = 75
    /// The server's answer is not valid MCP (EX_PROTOCOL).
    case protocolError = 76
    /// The server refused the credentials (EX_NOPERM).
    case permissionDenied = 77
    /// The local configuration is wrong: key missing or wrong, database not openable (EX_CONFIG).
    case configuration = 78
    /// A 2026-07-28 server answered a call with `input_required` (it asked for an elicitation, a sample, the
    /// roots): the tool did not complete, and mcpconn answers no such round trip yet. Past sysexits.h's last
    /// code (78), so it means nothing else.
    case inputRequired = 79
    /// Refused by the connector's policy: outside its tool allow-list (issue 26), or, in pinned mode (issue 25),
    /// not approved in the form the server lists now (changed since approved, or never approved), so it was not
    /// called; `refresh --fail-on-unapproved` found such items. The next free code after 79.
    case unapproved = 80
}

/// The single error type of mcpconn: an exit status and a one-line message for people.
public struct MCPConnError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The exit status the process ends with when this error reaches the command line.
    public var status: ExitStatus
    /// A one-line, secret-free explanation.
    public var message: String

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        // One line, always: a server's multi-line text must not break the stderr contract.
        self.message = MCPConnError.oneLine(message)
    }

    public var description: String { message }

    /// Collapses whitespace runs (newlines included) to single spaces and caps the length.
    static func oneLine(_ text: String, limit: Int = 500) -> String { ServerText.oneLine(text, limit: limit) }
}

extension MCPConnError {
    static func usage(_ m: String) -> MCPConnError { .init(.usage, m) }
    static func data(_ m: String) -> MCPConnError { .init(.dataError, m) }
    static func config(_ m: String) -> MCPConnError { .init(.configuration, m) }
    static func notFound(_ m: String) -> MCPConnError { .init(.notFound, m) }
}
