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

    /// Reads and trims the secret.
    public func read(environment: [String: String] = ProcessInfo.processInfo.environment) throws(MCPConnError)
        -> String
    {
        switch self {
        case .stdin:
            let data = FileHandle.standardInput.readData(ofLength: SecretSource.maxBytes + 1)
            if data.count > SecretSource.maxBytes { throw .data("the secret on standard input is over 64 KiB") }
            return try Validate.secret(String(decoding: data, as: UTF8.self))
        case .environment(let name):
            guard let v = environment[name], !v.isEmpty else {
                throw .data("the environment variable \(name) is not set or empty")
            }
            return try Validate.secret(v)
        case .file(let path):
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw .init(.notFound, "cannot read the secret file \(path)")
            }
            defer { try? h.close() }
            let data = h.readData(ofLength: SecretSource.maxBytes + 1)
            if data.count > SecretSource.maxBytes { throw .data("the secret file \(path) is over 64 KiB") }
            return try Validate.secret(String(decoding: data, as: UTF8.self))
        }
    }
}
