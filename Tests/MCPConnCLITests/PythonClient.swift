import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// A Python MCP client script (serve_client.py, fastmcp_client.py) run against `serve`: the steps as JSON on its
/// stdin, one JSON line per outcome on its stdout. A `pause` step makes the script write `pauseDir/paused` and
/// wait for `pauseDir/go`; `pause` runs in between.
enum PythonClient {
    struct Outcome {
        /// The first line (what the client listed), then the rest.
        var listed: JSONValue
        var lines: [JSONValue]
        var status: Int32
        var stderr: String
    }

    /// stderr goes to a file: over stdio the client's child (`serve`) writes there too, and may outlive it.
    static func run(
        _ script: String, _ arguments: [String], environment: [String: String], steps: JSONValue,
        pauseDir: URL? = nil, pause: (() async throws -> Void)? = nil
    ) async throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestServer.python)
        p.arguments = [script] + arguments
        p.environment = environment
        let input = await Pipe.closeOnExec()
        let output = await Pipe.closeOnExec()
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        p.standardInput = input
        p.standardOutput = output
        p.standardError = try FileHandle(forWritingTo: errors)
        let watch = ExitWatch(p)
        try await p.runOffPool()
        try input.fileHandleForWriting.write(contentsOf: Data(steps.compactText().utf8))
        try input.fileHandleForWriting.close()
        if let pause, let pauseDir {
            #expect(
                try await eventually {
                    FileManager.default.fileExists(atPath: pauseDir.appendingPathComponent("paused").path)
                })
            try await pause()
            _ = FileManager.default.createFile(atPath: pauseDir.appendingPathComponent("go").path, contents: nil)
        }
        let data = await output.readToEnd()
        let status = await watch.wait()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONValue.parse(String($0))
        }
        let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        return Outcome(listed: lines.first ?? .null, lines: Array(lines.dropFirst()), status: status, stderr: stderr)
    }
}

/// The official SDK client (serve_client.py) against `mcpconn serve ARGS` in `mode`, over stdio or over `--http`,
/// running `steps` with `pause` done while it waits (a `pause` step): what it printed, and serve's stderr (over
/// stdio the client's own, which serve's is part of).
enum ServedClient {
    static let transports = ["stdio", "http"]

    static func run(
        _ s: CLISandbox, serving args: [String], transport: String, mode: String, steps: JSONValue,
        pause: @escaping () async throws -> Void
    ) async throws -> (outcome: PythonClient.Outcome, serveLog: String) {
        let options = ["--pause", s.dir.path, "--mode", mode]
        guard transport == "http" else {
            let r = try await PythonClient.run(
                ServeCLITests.client, options + ["--", CLISandbox.binary, "serve"] + args, environment: s.environment,
                steps: steps, pauseDir: s.dir, pause: pause)
            return (r, r.stderr)
        }
        let serve = try await HTTPServe(s, args)
        let r = try await PythonClient.run(
            ServeCLITests.client, options + ["--url", serve.url],
            environment: s.environment.merging(["SERVE_TOKEN": serve.token]) { $1 }, steps: steps, pauseDir: s.dir,
            pause: pause)
        await serve.stopCleanly()
        return (r, serve.stderr)
    }

    /// The era a mode of serve_client.py ends up speaking with serve.
    static func era(_ mode: String) -> String { mode == "legacy" ? "2025-11-25" : "2026-07-28" }
}
