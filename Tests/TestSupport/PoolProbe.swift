import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Measures, while the suite runs, how long a job waits for Swift's cooperative pool (2 threads here), and tells
/// a blocked pool from a busy machine: `scripts/stress-test.sh` turns it on with `MCPCONN_TEST_POOL_PROBE=FILE`.
///
/// A thread of its own (never the pool) hands the pool a job every 100 ms and times how late the job starts. The
/// same thread times its own sleep: how late the OS wakes a thread that is not waiting for the pool. When a job
/// waits longer than a second, the probe reads the pool threads' state in /proc (`R`: running or waiting for a
/// CPU; `S`/`D` with the syscall they sit in: blocked, the stall issue 23 looked for) and writes one line. At the
/// end of the process (`atexit`) it writes a summary line:
///
///     pool-probe: samples N, pool wait max X s (p99 Y s), OS wake-up max Z s, blocked samples B
///
/// Off unless the variable is set: a test never depends on it.
public enum PoolProbe {
    /// Starts the probe once, when `MCPCONN_TEST_POOL_PROBE` names a file; a no-op otherwise. Called by the
    /// test helpers that every end-to-end test goes through.
    public static func startIfRequested() { _ = probe }

    /// The running probe, made (and its thread started) on first use; nil when it was not asked for.
    private static let probe: Probe? = {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment["MCPCONN_TEST_POOL_PROBE"], !path.isEmpty,
            let out = FileHandle(forWritingAtPath: path) ?? create(path)
        else { return nil }
        let probe = Probe(out, path: path, withGDB: environment["MCPCONN_TEST_POOL_PROBE_GDB"] == "1")
        atexit { PoolProbe.probe?.summary() }
        let t = Thread { probe.run() }
        t.name = "pool-probe"
        t.start()
        return probe
    }()

    private static func create(_ path: String) -> FileHandle? {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return FileHandle(forWritingAtPath: path)
    }
}

/// Safe to share: every mutable field is touched only under `lock`; `out` is written only under it too.
private final class Probe: @unchecked Sendable {
    private let lock = NSLock()
    private let out: FileHandle
    /// The log's path (gdb's stacks go beside it) and whether to take them.
    private let path: String
    private let withGDB: Bool
    private var poolTIDs: Set<pid_t> = []
    private var waits: [Double] = []
    private var wakeMax = 0.0
    private var blockedSamples = 0

    init(_ out: FileHandle, path: String, withGDB: Bool) {
        self.out = out
        self.path = path
        self.withGDB = withGDB
        out.seekToEndOfFile()
    }

    func run() {
        while true {
            let planned = Date().addingTimeInterval(0.1)
            usleep(100_000)
            let woke = Date()
            let started = Date()
            let ran = DispatchSemaphore(value: 0)
            let box = WaitBox()
            Task.detached { [self] in
                box.set(Date().timeIntervalSince(started))
                noteTID(Self.threadID())
                ran.signal()
            }
            // Within a second the job normally ran; past that, look at what the pool threads do, once a second.
            while ran.wait(timeout: .now() + 1) == .timedOut {
                let seen = Date().timeIntervalSince(started)
                log(String(format: "pool-probe: a job has waited %.1f s: %@", seen, poolThreadStates()))
                if seen >= 2 { backtraces() }
            }
            lock.withLock {
                waits.append(box.value)
                wakeMax = max(wakeMax, woke.timeIntervalSince(planned))
            }
        }
    }

    /// The kernel's id of the calling thread, from /proc/thread-self (`PID/task/TID`): Glibc's gettid is not
    /// imported into Swift, and syscall(2) is variadic.
    private static func threadID() -> pid_t {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
        return pid_t(path.split(separator: "/").last ?? "") ?? 0
    }

    private func noteTID(_ tid: pid_t) { _ = lock.withLock { poolTIDs.insert(tid) } }

    /// With `MCPCONN_TEST_POOL_PROBE_GDB=1`, the first three long waits also get every thread's stack (gdb, in
    /// `FILE.gdb-N`): what the pool threads are blocked in. Started without the spawn gate, which may be what
    /// blocks them.
    private var gdbRuns = 0
    private func backtraces() {
        guard withGDB else { return }
        let n: Int? = lock.withLock {
            guard gdbRuns < 3 else { return nil }
            gdbRuns += 1
            return gdbRuns
        }
        guard let n else { return }
        let tids = lock.withLock { poolTIDs }.sorted().map(String.init).joined(separator: ",")
        // gdb can hang attached (seen once in a ThreadSanitizer run, the process stopped for good): it gets a
        // minute, and then this process is sent SIGCONT, which no thread of it could send while stopped.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [
            "-c", #"timeout -s KILL 60 gdb -q -batch -p "$1" -ex "thread apply all bt 30"; kill -CONT "$1""#,
            "probe-gdb",
            "\(getpid())",
        ]
        _ = FileManager.default.createFile(atPath: "\(path).gdb-\(n)", contents: Data("pool TIDs: \(tids)\n".utf8))
        guard let out = FileHandle(forWritingAtPath: "\(path).gdb-\(n)") else { return }
        out.seekToEndOfFile()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
        try? out.close()
    }

    /// Each pool thread's state letter and, when it sleeps, the syscall it sleeps in (from /proc).
    private func poolThreadStates() -> String {
        let tids = lock.withLock { poolTIDs }.sorted()
        var blocked = false
        let states = tids.map { tid -> String in
            let base = "/proc/self/task/\(tid)"
            guard let stat = try? String(contentsOfFile: base + "/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return "\(tid): gone" }
            let state = stat[stat.index(close, offsetBy: 2)]
            if state == "R" { return "\(tid): R" }
            blocked = true
            let syscall =
                (try? String(contentsOfFile: base + "/syscall", encoding: .utf8))?
                .split(separator: " ").first.map(String.init) ?? "?"
            let wchan = (try? String(contentsOfFile: base + "/wchan", encoding: .utf8)) ?? "?"
            return "\(tid): \(state) syscall \(syscall) (\(Self.syscallName(syscall))) wchan \(wchan)"
        }
        if blocked { lock.withLock { blockedSamples += 1 } }
        return states.joined(separator: "; ")
    }

    private static func syscallName(_ nr: String) -> String {
        // x86-64 numbers of the calls a blocked thread is likely to sit in.
        [
            "0": "read", "7": "poll", "23": "select", "61": "wait4", "202": "futex", "232": "epoll_wait",
            "247": "waitid", "230": "clock_nanosleep", "35": "nanosleep", "271": "ppoll", "281": "epoll_pwait",
        ][nr] ?? "other"
    }

    private func log(_ line: String) {
        lock.withLock { out.write(Data((line + "\n").utf8)) }
    }

    func summary() {
        let (sorted, wake, blocked) = lock.withLock { (waits.sorted(), wakeMax, blockedSamples) }
        guard let max = sorted.last else { return }
        let p99 = sorted[Swift.min(sorted.count - 1, sorted.count * 99 / 100)]
        log(
            String(
                format: "pool-probe: samples %d, pool wait max %.2f s (p99 %.2f s), OS wake-up max %.2f s, "
                    + "blocked samples %d", sorted.count, max, p99, wake, blocked))
    }
}

/// The job's measured wait, handed from the pool back to the probe thread (which reads it after the semaphore).
private final class WaitBox: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds = 0.0
    func set(_ v: Double) { lock.withLock { seconds = v } }
    var value: Double { lock.withLock { seconds } }
}
