/// How to start a local MCP server that speaks MCP over its stdin and stdout.
public struct StdioLaunch: Sendable, Equatable {
    /// The program: a path (with a `/`) or a name looked up in the child's `PATH`.
    public var command: String
    public var arguments: [String]
    /// The child's working directory; nil keeps mcpconn's own.
    public var workingDirectory: String?
    /// The connector's own variables (API keys among them): added to the child's small inherited base, winning
    /// over it. See `childEnvironment(inheriting:)`.
    public var environment: [String: String]

    public init(
        command: String, arguments: [String] = [], workingDirectory: String? = nil,
        environment: [String: String] = [:]
    ) {
        self.command = command
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
    }

    /// A template argument (see `Credentials.argumentTemplates`) with each `${NAME}` whose NAME is one of the
    /// connector's own variables replaced by its value: an imported `--token ${GH_TOKEN}` is stored as written,
    /// the token sealed with the environment. Any other `${…}` stays as written; values are not scanned again.
    public static func argument(_ template: String, environment: [String: String]) -> String {
        guard template.contains("${") else { return template }
        var out = ""
        var rest = template[...]
        while let open = rest.range(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            out += rest[..<open.lowerBound]
            let name = String(rest[open.upperBound..<close])
            out += environment[name] ?? "${\(name)}"
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// The variables a server inherits from mcpconn's own environment, and only these: what a program needs to
    /// find other programs and the user's files (`PATH`, `HOME`, `USER`, `LOGNAME`, `SHELL`), to speak the user's
    /// language and time (`LANG`, `LANGUAGE`, `LC_ALL`, `LC_CTYPE`, `LC_MESSAGES`, `TZ`), its terminal type
    /// (`TERM`), and where to put temporary, runtime, cache, config, data and state files (`TMPDIR`,
    /// `XDG_RUNTIME_DIR`, `XDG_CACHE_HOME`, `XDG_CONFIG_HOME`, `XDG_DATA_HOME`, `XDG_STATE_HOME`). Anything else
    /// in mcpconn's environment (cloud credentials, other tools' tokens, proxies with passwords) never reaches a
    /// server unless its connector sets it.
    public static let inheritedEnvironmentNames: [String] = [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL",
        "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TERM",
        "TMPDIR", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
    ]

    /// Names no server ever sees, even when its connector sets them: the store's encryption key, and mcpconn's
    /// own settings (`MCPCONN_*`: the database path, the user), which are for mcpconn alone.
    public static let forbiddenEnvironmentNames: Set<String> = ["TOKEN_ENCRYPTION_KEY"]
    /// The prefix of mcpconn's own variables, forbidden like `forbiddenEnvironmentNames`.
    public static let forbiddenEnvironmentPrefix = "MCPCONN_"

    /// True when `name` may never be passed to a server.
    public static func isForbiddenEnvironmentName(_ name: String) -> Bool {
        forbiddenEnvironmentNames.contains(name) || name.hasPrefix(forbiddenEnvironmentPrefix)
    }

    /// The child's whole environment: the inherited base from `parent` (mcpconn's environment), then the
    /// connector's variables over it; forbidden names are dropped from both.
    public func childEnvironment(inheriting parent: [String: String]) -> [String: String] {
        var env: [String: String] = [:]
        for name in Self.inheritedEnvironmentNames {
            if let v = parent[name] { env[name] = v }
        }
        for (name, value) in environment { env[name] = value }
        return env.filter { name, value in
            !Self.isForbiddenEnvironmentName(name) && !name.isEmpty && !name.contains("=")
                && !name.utf8.contains(0) && !value.utf8.contains(0)
        }
    }
}
