import Foundation

/// What `add NAME -- COMMAND [ARGS…]` and `update` set for a local server launched as a child process.
/// For `update`, nil and empty fields leave the stored launch as it is.
public struct StdioInput: Sendable {
    /// The program and its arguments.
    public var commandLine: [String]?
    /// The working directory; an empty string (update) clears it.
    public var workingDirectory: String?
    /// Variables to set, in order (`--env-file` lines, then `--env`): a later one wins.
    public var environment: [EnvironmentVariable]
    /// Variables to remove (update).
    public var unsetEnvironment: [String]
    /// The variable that carries the api_key secret to the server.
    public var keyEnv: String?

    public init(
        commandLine: [String]? = nil, workingDirectory: String? = nil, environment: [EnvironmentVariable] = [],
        unsetEnvironment: [String] = [], keyEnv: String? = nil
    ) {
        self.commandLine = commandLine
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.unsetEnvironment = unsetEnvironment
        self.keyEnv = keyEnv
    }

    /// True when nothing is asked of a stdio launch.
    var isEmpty: Bool {
        commandLine == nil && workingDirectory == nil && environment.isEmpty && unsetEnvironment.isEmpty
            && keyEnv == nil
    }
}

/// One `NAME=VALUE` for a child's environment.
public struct EnvironmentVariable: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `NAME=VALUE` as given to `--env` (64 when malformed).
    public static func parse(_ text: String) throws(MCPConnError) -> EnvironmentVariable {
        guard let eq = text.firstIndex(of: "=") else {
            throw .usage("--env takes NAME=VALUE, not '\(String(text.prefix(40)))'")
        }
        let v = EnvironmentVariable(name: String(text[..<eq]), value: String(text[text.index(after: eq)...]))
        try Validate.environmentName(v.name)
        try Validate.environmentValue(v.value, of: v.name)
        return v
    }

    /// Reads a dotenv file: `NAME=VALUE` lines, `export ` allowed before the name, `#` comments and blank lines
    /// skipped, a value in single quotes taken as is, in double quotes with `\n`, `\"` and `\\` escapes.
    /// `regularOnly` for a file named by a file (import's `envFile`): see `LocalInput.read(path:limit:regularOnly:)`.
    public static func read(envFile path: String, regularOnly: Bool = false) throws(MCPConnError)
        -> [EnvironmentVariable]
    {
        let limit = 1 << 20
        switch LocalInput.read(path: path, limit: limit, regularOnly: regularOnly) {
        case .failure(let f):
            throw MCPConnError(
                f == .tooLarge ? .dataError : .notFound, "cannot read the env file \(path): \(f.reason(limit: limit))")
        case .success(let file):
            guard let text = String(validating: file.bytes, as: UTF8.self) else {
                throw .data("the env file \(path) is not UTF-8 text")
            }
            return try parse(dotenv: text, source: path)
        }
    }

    static func parse(dotenv text: String, source: String) throws(MCPConnError) -> [EnvironmentVariable] {
        var out: [EnvironmentVariable] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else {
                throw .data("\(source), line \(n + 1): expected NAME=VALUE")
            }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast())
            } else if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = unescape(String(value.dropFirst().dropLast()))
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            do throws(MCPConnError) {
                try Validate.environmentName(name)
                try Validate.environmentValue(value, of: name)
            } catch {
                throw MCPConnError(.dataError, "\(source), line \(n + 1): \(error.message)")
            }
            out.append(EnvironmentVariable(name: name, value: value))
        }
        return out
    }

    private static func unescape(_ s: String) -> String {
        var out = ""
        var escaped = false
        for ch in s {
            if escaped {
                switch ch {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(ch)
                }
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else {
                out.append(ch)
            }
        }
        return out
    }
}

extension Validate {
    /// A POSIX environment name that mcpconn may hand a child: never the store's key nor mcpconn's own settings.
    static func environmentName(_ name: String) throws(MCPConnError) {
        let ok =
            name.utf8.first.map { $0 == UInt8(ascii: "_") || isASCIILetter($0) } ?? false
            && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isASCIILetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
        guard ok else { throw .usage("invalid environment variable name '\(String(name.prefix(40)))'") }
        if StdioLaunch.isForbiddenEnvironmentName(name) {
            throw .usage("the environment variable \(name) is mcpconn's own and is never passed to a server")
        }
    }

    static func environmentValue(_ value: String, of name: String) throws(MCPConnError) {
        if value.utf8.contains(0) { throw .usage("the value of \(name) contains a NUL byte") }
    }

    private static func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    /// A launch command line: a program, arguments without NUL bytes (argv cannot carry them).
    static func commandLine(_ words: [String]) throws(MCPConnError) -> [String] {
        guard let program = words.first, !program.isEmpty else { throw .usage("the command after -- is empty") }
        if words.contains(where: { $0.utf8.contains(0) }) { throw .usage("a command argument contains a NUL byte") }
        return words
    }

    /// An existing directory, made absolute (a cron job runs from elsewhere).
    static func workingDirectory(_ path: String) throws(MCPConnError) -> String {
        let absolute = Self.absolute(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MCPConnError(.notFound, "--cwd \(path): no such directory")
        }
        return absolute
    }

    /// `path` made absolute against the current directory, with `.` and `..` resolved.
    static func absolute(_ path: String) -> String {
        let base = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: base).standardizedFileURL.path
    }
}

/// A command line as a shell would read it back: words quoted only when they need it.
enum ShellWords {
    static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    /// Bytes a shell reads as themselves.
    private static let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-".utf8)

    static func quote(_ w: String) -> String {
        if !w.isEmpty, w.utf8.allSatisfy(plain.contains) { return w }
        return "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
