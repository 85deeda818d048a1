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
        PoolProbe.startIfRequested()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpconn-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        environment = [
            "PATH": "/usr/bin:/bin",
            "HOME": dir.path,
            "MCPCONN_DB": dir.appendingPathComponent("data/mcpconn.db").path,
            "XDG_CONFIG_HOME": dir.appendingPathComponent("config").path,
            "XDG_DATA_HOME": dir.appendingPathComponent("data").path,
        ]
        // A ThreadSanitizer build (make test-sanitize) takes its suppressions from here. ASAN_OPTIONS stays out:
        // the runner's turns LeakSanitizer off, which the mcpconn processes keep on.
        if let v = ProcessInfo.processInfo.environment["TSAN_OPTIONS"] { environment["TSAN_OPTIONS"] = v }
        // And an AddressSanitizer build its LeakSanitizer suppressions (Tests/lsan-suppressions.txt).
        if let v = ProcessInfo.processInfo.environment["LSAN_OPTIONS"] { environment["LSAN_OPTIONS"] = v }
    }

    public var databasePath: String { environment["MCPCONN_DB"]! }

    /// Runs `mcpconn args…`, feeding `stdin`, with extra environment variables; under `wrapper` (a command
    /// such as `/usr/bin/time -o FILE`) when given; `binary` instead of the one under test when given (a copy
    /// elsewhere).
    @discardableResult
    public func run(
        _ args: [String], stdin: String? = nil, env: [String: String] = [:], wrapper: [String] = [],
        binary: String? = nil
    ) async -> CLIResult {
        let binary = binary ?? Self.binary
        let p = Process()
        p.executableURL = URL(fileURLWithPath: wrapper.first ?? binary)
        p.arguments = wrapper.isEmpty ? args : Array(wrapper.dropFirst()) + [binary] + args
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
        let input = await Pipe.closeOnExec()
        p.standardInput = input
        let watch = ExitWatch(p)
        do { try await p.runOffPool() } catch {
            return CLIResult(status: -1, stdout: "", stderr: "cannot run \(Self.binary)")
        }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let status = await watch.wait()
        try? out.close()
        try? err.close()
        let o = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
        return CLIResult(status: status, stdout: o, stderr: e)
    }

    /// Runs `mcpconn ARGS` (a shell command line) on a pseudo-terminal (`script`) for its stdin, stdout and
    /// stderr; `input` is what is typed. Returns what the terminal showed (stdout and stderr mixed) and the exit.
    /// With `holdInput`, the terminal's input stays open (nothing more typed) until the command ends.
    public func onTerminal(_ args: String, input: String? = nil, holdInput: Bool = false) async throws
        -> (output: String, status: Int32)
    {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", "\(Self.binary) \(args)", "/dev/null"]
        p.environment = environment
        let out = await Pipe.closeOnExec()
        p.standardOutput = out
        let typed = await Pipe.closeOnExec()
        p.standardInput = input == nil && !holdInput ? FileHandle.nullDevice : typed
        let watch = ExitWatch(p)
        try await p.runOffPool()
        if let input { typed.fileHandleForWriting.write(Data(input.utf8)) }
        if !holdInput { try? typed.fileHandleForWriting.close() }
        let data = await out.readToEnd()
        let status = await watch.wait()
        try? typed.fileHandleForWriting.close()
        return (String(decoding: data, as: UTF8.self), status)
    }

    /// Starts `mcpconn args…` without waiting (its output is discarded, or written to the files `stderr` and
    /// `stdout`), for tests that kill it; await the watch for its end.
    public func start(_ args: [String], stderr: URL? = nil, stdout: URL? = nil) async throws
        -> (process: Process, exit: ExitWatch)
    {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args
        p.environment = environment
        func sink(_ file: URL?) throws -> FileHandle {
            guard let file else { return FileHandle.nullDevice }
            FileManager.default.createFile(atPath: file.path, contents: nil)
            return try FileHandle(forWritingTo: file)
        }
        p.standardOutput = try sink(stdout)
        p.standardError = try sink(stderr)
        p.standardInput = FileHandle.nullDevice
        let watch = ExitWatch(p)
        try await p.runOffPool()
        return (p, watch)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }
}

/// Waits for a child process to end without blocking a thread.
///
/// Mostly through the process's termination handler. Should that notification be lost (a test run once hung
/// with no child left), the child is also checked every 100 ms with `waitid(WNOWAIT)`, which reads its exit
/// without reaping it, so Foundation still can.
public final class ExitWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var status: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []
    private let process: Process

    /// Installs the termination handler: call before `process.run()`.
    public init(_ process: Process) {
        self.process = process
        process.terminationHandler = { [weak self] p in
            self?.finish(p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus)
        }
    }

    private func finish(_ s: Int32) {
        let ws: [CheckedContinuation<Int32, Never>] = lock.withLock {
            guard status == nil else { return [] }
            status = s
            defer { waiters = [] }
            return waiters
        }
        for w in ws { w.resume(returning: s) }
    }

    /// The exit status (128 + signal number for a child a signal ended); any number of tasks may wait.
    /// Cancelling a waiting task (a test's time limit) kills the child and returns -1, so a stuck child cannot
    /// hang the run.
    public func wait() async -> Int32 {
        let poller = Task.detached { [process, weak self] in
            let pid = process.processIdentifier
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                if let status = Self.exitedStatus(pid) {
                    // Give the handler its chance first: its status is Foundation's own.
                    try? await Task.sleep(for: .milliseconds(500))
                    self?.finish(status)
                    return
                }
            }
        }
        defer { poller.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                let done: Int32? = lock.withLock {
                    if let status { return status }
                    waiters.append(c)
                    return nil
                }
                if let done { c.resume(returning: done) }
            }
        } onCancel: {
            kill(process.processIdentifier, SIGKILL)
            finish(-1)
        }
    }

    /// The child's exit status if it has ended, read without reaping it.
    private static func exitedStatus(_ pid: Int32) -> Int32? {
        #if os(Linux)
            var info = siginfo_t()
            guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
                info._sifields._sigchld.si_pid == pid
            else { return nil }
            let code = info._sifields._sigchld.si_status
            return info.si_code == CLD_EXITED ? code : 128 + code
        #else
            var info = siginfo_t()
            guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info.si_pid == pid else {
                return nil
            }
            return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status
        #endif
    }
}

/// Checks `condition` every `interval` (20 ms) until it holds or `seconds` pass, and returns its last answer. What
/// it waits for happens in another process; the bound is generous (a loaded CI machine), and a test only waits
/// that long when it is failing. A condition that starts a process (curl) checks every 250 ms or so
/// (``spawnInterval``): at 20 ms, a few such waits of some seconds each, all at the suite's start, queued hundreds
/// of process starts at the spawn gate, and a test that starts its own one after the other ran out of time.
public func eventually(
    within seconds: Int = 60, every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

/// How often ``eventually(within:every:_:)`` checks a condition that starts a process.
public let spawnInterval = Duration.milliseconds(250)

/// Runs blocking work (starting a process, reading a pipe to its end) on a thread of its own, never on Swift's
/// 2-thread cooperative pool, where the tests' many process starts at once starved the tasks that time a local
/// server's shutdown (a close then took 8 s). Foundation's `Process.run()` alone adds a close action for every
/// possible file descriptor (20,000 here) and takes milliseconds.
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        Thread {
            do { c.resume(returning: try work()) } catch { c.resume(throwing: error) }
        }.start()
    }
}

/// Foundation's `Process` on Linux can let a child inherit descriptors this process opens while it spawns, and
/// its `Pipe` is not close-on-exec: a full run once hung because the stdin pipe of one `mcpconn add
/// --secret-stdin` was inherited by a server another test started at that moment, so that `mcpconn` never saw
/// EOF. So tests make their pipes close-on-exec and start processes under this one lock: no spawn falls between a
/// pipe's creation and its marking, and no child inherits it (the end a child is given is dup2'ed onto 0, 1 or 2,
/// which clears the flag there).
///
/// The lock is held for a whole `Process.run()`, which on a loaded machine takes long (Foundation adds a close
/// action per possible descriptor, and the spawns queue one behind another), so it is never taken on Swift's
/// cooperative pool: a pool thread waiting here stalled every task of the run for up to 9 s (issue 23, seen with
/// `PoolProbe`). Async callers use `Pipe.closeOnExec()` and `runOffPool()`, which wait for it on a thread of
/// their own; the blocking forms are for code already off the pool.
private let spawnGate = NSLock()

extension Pipe {
    /// A pipe whose two ends are close-on-exec in this process (see `spawnGate`), made off the pool.
    public static func closeOnExec() async -> Pipe {
        // offPool's work cannot throw here; the force is for its signature.
        try! await offPool { closeOnExecBlocking() }
    }

    /// The same, on the calling thread, which may wait for the spawn gate: never call it on Swift's pool.
    public static func closeOnExecBlocking() -> Pipe {
        spawnGate.withLock {
            let pipe = Pipe()
            for fd in [pipe.fileHandleForReading.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor] {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
            return pipe
        }
    }

    /// What is left to read, up to EOF, read off the pool (a read to EOF blocks its thread until every writer
    /// closes).
    public func readToEnd() async -> Data {
        // offPool's work cannot throw here; the force is for its signature.
        try! await offPool { self.fileHandleForReading.readDataToEndOfFile() }
    }
}

extension Process {
    /// `run()` under the spawn gate (see `spawnGate`), on the calling thread: never on Swift's pool.
    public func runGated() throws { try spawnGate.withLock { try run() } }

    /// `runGated()` off the cooperative pool (see ``offPool(_:)``).
    public func runOffPool() async throws {
        let box = UncheckedProcess(self)
        try await offPool { try box.process.runGated() }
    }
}

/// Hands a process to the thread that starts it: safe, for the caller awaits that thread before touching it.
private struct UncheckedProcess: @unchecked Sendable {
    let process: Process
    init(_ p: Process) { process = p }
}
