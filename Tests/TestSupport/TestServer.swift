import Foundation

/// A test MCP server (Tests/Servers/*.py, run by the venv's Python) in a subprocess.
///
/// The script prints `PORT <n>` once it listens, which is the readiness signal; it exits when its stdin
/// closes, so servers never outlive the test process.
public final class TestServer: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let host: String
    private let stdin = Pipe()

    public static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The venv Python with the official SDK 2.x.
    public static var python: String {
        if let p = ProcessInfo.processInfo.environment["MCPCONN_TEST_PYTHON"], !p.isEmpty { return p }
        return repoRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// The venv Python with the official SDK 1.x (handshake era only).
    public static var python1: String {
        if let p = ProcessInfo.processInfo.environment["MCPCONN_TEST_PYTHON1"], !p.isEmpty { return p }
        return repoRoot.appendingPathComponent(".venv-mcp1/bin/python").path
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ script: String, _ args: [String] = [], host: String = "127.0.0.1", python: String = TestServer.python) throws {
        self.host = host
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.repoRoot.appendingPathComponent("Tests/Servers/\(script)").path] + args
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var buffer = Data()
        while true {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { throw StartError(description: "\(script) exited before printing its port") }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }),
                let p = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
            {
                port = p
                break
            }
        }
    }

    /// The base URL, e.g. `http://127.0.0.1:1234`.
    public var base: String { "http://\(host):\(port)" }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

