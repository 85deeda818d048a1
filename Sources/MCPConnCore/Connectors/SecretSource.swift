import Foundation

/// Where a secret is read from: standard input, an environment variable or a file — never the command line.
public enum SecretSource: Sendable {
    case stdin
    case environment(String)
    case file(String)

    /// Secrets are small; a cap keeps a mistaken `--secret-file /dev/zero` from eating memory.
    static let maxBytes = 64 * 1024

    /// The source named by the CLI flags, if any.
    public init?(stdin: Bool, env: String?, file: String?) {
        if stdin {
            self = .stdin
        } else if let env {
            self = .environment(env)
        } else if let file {
            self = .file(file)
        } else {
            return nil
        }
    }

    /// A secret read from `what`: an unreadable one is "not found" (66), an oversized one bad data (65).
    private static func secret(_ read: Result<[UInt8], LocalInput.Failure>, _ what: String) throws(MCPConnError)
        -> String
    {
        switch read {
        case .success(let bytes): return try Validate.secret(String(decoding: bytes, as: UTF8.self))
        case .failure(.tooLarge): throw .data("\(what) is \(LocalInput.Failure.tooLarge.reason(limit: maxBytes))")
        case .failure(let f): throw .init(.notFound, "cannot read \(what): \(f.reason(limit: maxBytes))")
        }
    }

    /// Reads and trims the secret.
    public func read(environment: [String: String] = ProcessInfo.processInfo.environment) throws(MCPConnError)
        -> String
    {
        ProcessHardening.forbidCoreDumps()
        switch self {
        case .stdin:
            return try Self.secret(LocalInput.read(fd: 0, limit: Self.maxBytes), "the secret on standard input")
        case .environment(let name):
            guard let v = environment[name], !v.isEmpty else {
                throw .data("the environment variable \(name) is not set or empty")
            }
            return try Validate.secret(v)
        case .file(let path):
            return try Self.secret(
                LocalInput.read(path: path, limit: Self.maxBytes).map(\.bytes), "the secret file \(path)")
        }
    }
}
