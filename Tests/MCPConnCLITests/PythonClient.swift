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
