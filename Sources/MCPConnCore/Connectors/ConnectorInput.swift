import Foundation

/// What `add` and `update` may set. For `update`, nil fields stay unchanged.
public struct ConnectorInput: Sendable {
    public var name: String?
    public var serverURL: String?
    public var description: String?
    public var type: String?
    public var authType: AuthType?
    public var keyHeader: String?
    /// The secret itself, already read from stdin, a file or the environment.
    public var secret: String?
    /// A local server's launch (`add NAME -- COMMAND ARGS`), or changes to it (`update`).
    public var stdio: StdioInput?
    /// CA bundle, client certificate and key, pinned keys (HTTPS connectors only).
    public var tls: TLSInput?
    /// `update --accept-change`: take the row as it now is after a change made outside mcpconn, and seal it again.
    public var acceptChange = false
    /// `update --pinned` / `--unpinned`: the connector's pinned mode (issue 25); nil leaves it.
    public var pinned: Bool? = nil
    /// `--allow-tools` / `--deny-tools`: the globs of the connector's tool allow-list (issue 26), each list
    /// replacing the stored one when given (nil leaves it; `[""]` clears it).
    public var allowTools: [String]? = nil
    public var denyTools: [String]? = nil

    public init(
        name: String? = nil, serverURL: String? = nil, description: String? = nil, type: String? = nil,
        authType: AuthType? = nil, keyHeader: String? = nil, secret: String? = nil, stdio: StdioInput? = nil
    ) {
        self.stdio = stdio
        self.name = name
        self.serverURL = serverURL
        self.description = description
        self.type = type
        self.authType = authType
        self.keyHeader = keyHeader
        self.secret = secret
    }
}

extension ConnectorInput {
    /// The tool filter `current` has after this input's lists replace its own, globs checked.
    func toolFilter(replacing current: ToolFilter) throws(MCPConnError) -> ToolFilter {
        var filter = current
        if let allowTools { filter.allow = try ToolFilter.globs(allowTools, "--allow-tools") }
        if let denyTools { filter.deny = try ToolFilter.globs(denyTools, "--deny-tools") }
        return filter
    }
}

/// Input validation shared by add and update.
enum Validate {
    static func name(_ name: String) throws(MCPConnError) -> String {
        let n = name.trimmingCharacters(in: .whitespaces)
        if n.isEmpty { throw .usage("a connector name cannot be empty") }
        if n.count > 100 { throw .usage("a connector name is at most 100 characters") }
        if let bad = n.unicodeScalars.first(where: isInvisible) {
            throw .usage(
                "a connector name cannot contain control, format or invisible characters (U+\(String(bad.value, radix: 16, uppercase: true)))"
            )
        }
        if n.allSatisfy(\.isASCIIDigit) {
            throw .usage("a connector name cannot be all digits: it would read as an id")
        }
        return n
    }

    /// Characters that print nothing or rearrange what follows (controls, zero-width and bidi formatting, line
    /// separators, unassigned code points): two names differing only by them would look alike in `list`.
    static func isInvisible(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
            return true
        default:
            // Fillers that Unicode classes as letters or spaces but that render as nothing.
            return s.properties.isDefaultIgnorableCodePoint || s.properties.isWhitespace && s != " "
        }
    }

    /// An http(s) URL with a host and no embedded credentials.
    static func serverURL(_ text: String) throws(MCPConnError) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let c = URLComponents(string: t), let scheme = c.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else {
            throw .usage("invalid server URL '\(redactedURL(t))': expected http:// or https://")
        }
        guard let host = c.host, !host.isEmpty else { throw .usage("invalid server URL '\(redactedURL(t))': no host") }
        // A control character (a NUL from a config file, say) cannot be sent and would be cut or refused by
        // the database.
        if t.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .usage("invalid server URL '\(TerminalText.escape(redactedURL(t)))': it contains a control character")
        }
        if let port = c.port, !(1...65535).contains(port) {
            throw .usage("invalid server URL '\(redactedURL(t))': port \(port) is not between 1 and 65535")
        }
        if c.user != nil || c.password != nil {
            throw .usage("the server URL must not carry credentials: use --secret-stdin, --secret-env or --secret-file")
        }
        return t
    }

    /// A header field name (RFC 9110 token).
    static func headerName(_ h: String) throws(MCPConnError) -> String {
        let allowed = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        if h.isEmpty || !h.allSatisfy(allowed.contains) { throw .usage("invalid header name '\(h)'") }
        return h
    }

    static func secret(_ s: String) throws(MCPConnError) -> String {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { throw .data("the secret is empty") }
        if t.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .data("the secret contains control characters (a header value cannot)")
        }
        return t
    }

    /// A URL with any userinfo removed, safe for messages. Text that does not parse as a URL but holds an `@`
    /// may still carry a password (`http:/\\alice:pw@host/`): only what follows its last `@` is shown.
    static func redactedURL(_ t: String) -> String {
        guard var c = URLComponents(string: t), let host = c.host, !host.isEmpty else {
            guard let at = t.lastIndex(of: "@") else { return t }
            return "…" + t[at...]
        }
        guard c.user != nil || c.password != nil else { return t }
        c.user = nil
        c.password = nil
        return c.string ?? "…"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
