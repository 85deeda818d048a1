import Foundation

/// A test MCP server (Tests/Servers/*.py, run by the venv's Python) in a subprocess.
///
/// The script prints `PORT <n>` once it listens, which is the readiness signal; it exits when its stdin
/// closes, so servers never outlive the test process.
public final class TestServer: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public let host: String
    private let stdin: Pipe

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

    /// The Swift SDK's conformance server (`mcp-everything-server`, built by `make swift-sdk-server`):
    /// `$MCPCONN_TEST_SWIFT_SERVER`, else the Makefile's build folder; nil when it was not built.
    public static var swiftSDKServer: String? {
        let path =
            ProcessInfo.processInfo.environment["MCPCONN_TEST_SWIFT_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? repoRoot.appendingPathComponent(".build-swiftsdk/swift-sdk-0.12.1/.build/debug/mcp-everything-server")
            .path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Starts a server binary that takes `--port N` through `binary_server.py`, which gives it the scripts'
    /// readiness line and lifetime.
    public static func binary(_ path: String, _ args: [String] = []) async throws -> TestServer {
        try await shared("binary_server.py", [path] + args)
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    private init(process: Process, stdin: Pipe, port: Int, host: String) {
        self.process = process
        self.stdin = stdin
        self.port = port
        self.host = host
    }

    /// Starts `Tests/Servers/<script>` and waits for its `PORT` line (read on a thread of its own, not the pool).
    public static func start(
        _ script: String, _ args: [String] = [], host: String = "127.0.0.1", python: String = TestServer.python
    ) async throws -> TestServer {
        PoolProbe.startIfRequested()
        let process = Process()
        let stdin = await Pipe.closeOnExec()
        let out = await Pipe.closeOnExec()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repoRoot.appendingPathComponent("Tests/Servers/\(script)").path] + args
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try await process.runOffPool()
        // Read by blocking reads on a thread of its own, not a `readabilityHandler`: tearing a dispatch read source
        // down races the pipe's close, which crashes libdispatch's event loop on Linux now and then
        // (`_dispatch_event_loop_drain`, a dangling epoll registration; swift-corelibs-foundation PR 5507). Two
        // ThreadSanitizer runs crashed there once the suite started a dozen more servers.
        let reading = out.fileHandleForReading
        let port: Int? = await withCheckedContinuation { c in
            Thread.detachNewThread { c.resume(returning: PortReader.readPort(reading.fileDescriptor)) }
        }
        guard let port else { throw StartError(description: "\(script) exited before printing its port") }
        return TestServer(process: process, stdin: stdin, port: port, host: host)
    }

    /// One server per distinct command line, started on first use and shared by every test of the run.
    public static func shared(
        _ script: String, _ args: [String] = [], host: String = "127.0.0.1", python: String = TestServer.python
    ) async throws -> TestServer {
        try await ServerPool.shared.server(([python, script, host] + args).joined(separator: "\u{1}")) {
            try await start(script, args, host: host, python: python)
        }
    }

    /// The base URL, e.g. `http://127.0.0.1:1234`.
    public var base: String { "http://\(host):\(port)" }

    /// The same for a server started with `--tls-cert`, e.g. `https://127.0.0.1:1234`.
    public var httpsBase: String { "https://\(host):\(port)" }

    /// Ends the server without blocking: its stdin closes (it exits on EOF) and it gets SIGKILL, since
    /// a test runner may block SIGTERM in the signal mask its children inherit.
    public func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}

/// Reads a server's stdout until the `PORT <n>` line (or EOF).
enum PortReader {
    static func readPort(_ fd: Int32) -> Int? {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            buffer += chunk[..<n]
            let text = String(decoding: buffer, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }),
                let port = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
            {
                return port
            }
        }
    }
}

/// The servers shared by the tests of one run.
actor ServerPool {
    static let shared = ServerPool()
    private var servers: [String: Task<TestServer, Error>] = [:]

    func server(_ key: String, _ make: @escaping @Sendable () async throws -> TestServer) async throws -> TestServer {
        if let t = servers[key] { return try await t.value }
        let t = Task { try await make() }
        servers[key] = t
        return try await t.value
    }
}

/// Reads a pipe to its end by blocking reads on a thread of its own, handing each chunk to `chunk` as it comes; not
/// a `readabilityHandler`, whose dispatch source torn down while the pipe closes crashes libdispatch's event loop on
/// Linux now and then (see ``TestServer/start(_:_:host:python:)``).
public final class PipeDrain: @unchecked Sendable {
    // `ended` and `waiters` only under `lock`; continuations resumed outside it.
    private let lock = NSLock()
    private var ended = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(_ handle: FileHandle, _ chunk: @escaping @Sendable (Data) -> Void) {
        // A descriptor of its own, closed at the end: the pipe's may be closed (and its number reused) meanwhile.
        let fd = fcntl(handle.fileDescriptor, F_DUPFD_CLOEXEC, 0)  // close-on-exec: no child inherits it
        Thread.detachNewThread { [self] in
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                chunk(Data(buffer[0..<n]))
            }
            let ws: [CheckedContinuation<Void, Never>] = lock.withLock {
                ended = true
                defer { waiters = [] }
                return waiters
            }
            for w in ws { w.resume() }
        }
    }

    /// Returns once the pipe reached its end (every writer closed it) and every chunk was handed on.
    public func finished() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now: Bool = lock.withLock {
                if ended { return true }
                waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
}
