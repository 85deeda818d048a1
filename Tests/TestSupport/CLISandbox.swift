import Foundation

/// What one run of the built `mcpconn` binary did.
public struct CLIResult: Sendable, CustomStringConvertible {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A private home for running the built `mcpconn` binary: its own database, key file and environment,
/// nothing inherited from the caller's MCPCONN_* or TOKEN_ENCRYPTION_KEY.
public final class CLISandbox: @unchecked Sendable {
    public let dir: URL
    public var environment: [String: String]

    /// The binary under test: `$MCPCONN_BIN`, else the debug build in the package.
    public static var binary: String {
        if let b = ProcessInfo.processInfo.environment["MCPCONN_BIN"], !b.isEmpty { return b }
        return TestServer.repoRoot.appendingPathComponent(".build/debug/mcpconn").path
    }

    public init() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpconn-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        environment = [
            "PATH": "/usr/bin:/bin",
            "HOME": dir.path,
            "MCPCONN_DB": dir.appendingPathComponent("data/mcpconn.db").path,
            "XDG_CONFIG_HOME": dir.appendingPathComponent("config").path,
            "XDG_DATA_HOME": dir.appendingPathComponent("data").path,
        ]
    }

    public var databasePath: String { environment["MCPCONN_DB"]! }

    /// Runs `mcpconn args…`, feeding `stdin`, with extra environment variables.
    @discardableResult
    public func run(_ args: [String], stdin: String? = nil, env: [String: String] = [:]) async -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args
        p.environment = environment.merging(env) { $1 }
        let id = UUID().uuidString
        let outURL = dir.appendingPathComponent("out-\(id)")
        let errURL = dir.appendingPathComponent("err-\(id)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try! FileHandle(forWritingTo: outURL)
        let err = try! FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = input
        // Wait for the exit through the termination handler: never block a cooperative-pool thread.
        let started: Bool = await withCheckedContinuation { c in
            p.terminationHandler = { _ in c.resume(returning: true) }
            do {
                try p.run()
            } catch {
                p.terminationHandler = nil
                c.resume(returning: false)
                return
            }
            if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
            try? input.fileHandleForWriting.close()
        }
        guard started else { return CLIResult(status: -1, stdout: "", stderr: "cannot run \(Self.binary)") }
        try? out.close()
        try? err.close()
        let o = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
        return CLIResult(status: p.terminationStatus, stdout: o, stderr: e)
    }

    /// Starts `mcpconn args…` without waiting (its output is discarded), for tests that kill it.
    public func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    deinit { try? FileManager.default.removeItem(at: dir) }
}
