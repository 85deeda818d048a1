import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// MCP's stdio transport: a local server runs as a child process and the two sides exchange newline-delimited
/// JSON-RPC messages over its stdin and stdout, one message per line. Its stderr is the server's log: kept in a
/// bounded buffer for error messages and shown under `--verbose`, never copied to mcpconn's own output.
///
/// The child is `mcpconn-reaper` running the server (see `Reaper`: nothing the server starts outlives it, or
/// mcpconn, even killed); it leads its own process group, the server in it (so a server's own children can be
/// signalled with it), and is registered with `ChildProcesses` for Ctrl-C. `close` ends it as the spec says:
/// stdin closed, up to a second to exit, SIGTERM to the group, then SIGKILL (by the reaper); dropping the
/// transport without `close` does the same in the background.
final class StdioTransport: MessageChannel {
    private let launch: StdioLaunch
    private let session: StdioSession
    /// Where the inherited base of the child's environment comes from: mcpconn's own environment, or a
    /// stand-in given by a test.
    private let parentEnvironment: [String: String]?

    convenience init(launch: StdioLaunch, settings: TransportSettings) {
        self.init(launch: launch, settings: settings, parentEnvironment: nil)
    }

    init(launch: StdioLaunch, settings: TransportSettings, parentEnvironment: [String: String]?) {
        self.launch = launch
        self.parentEnvironment = parentEnvironment
        session = StdioSession(settings: settings)
    }

    deinit { session.requestClose() }

    /// Starts the server; returns once it runs (its stdin can be written), or throws why it could not start.
    func start(deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        let env = launch.childEnvironment(inheriting: parentEnvironment ?? ProcessInfo.processInfo.environment)
        try await session.start(launch, environment: env, deadline: deadline)
    }

    /// Writes the message (a request's answer comes later, on stdout, to the session).
    func send(_ message: JSONValue, requestID: JSONValue?, deadline: ContinuousClock.Instant)
        async throws(MCPClientError)
    {
        try await session.notify(message, deadline: deadline)
    }

    func timeoutError() -> MCPClientError { session.timeoutError() }

    /// A local server gets its stdin closed, then SIGTERM, then SIGKILL: a few seconds at most, past the
    /// operation's deadline if need be, for no process may outlive the command.
    var closeGrace: Duration { .seconds(4) }

    /// Ends the server and returns once it is gone (normally within 2.1 s), whatever `deadline` says:
    /// returning earlier would let mcpconn exit with its child still running.
    func close(deadline: ContinuousClock.Instant) async {
        session.requestClose()
        await session.waitUntilFinished()
    }

    /// No headers on stdio: the version travels only in the messages.
    func setProtocolVersion(_ version: String) {}

    /// The child's pid once it started (nil before, and after it is gone), for tests.
    var processID: pid_t? { session.processID }

    /// Bytes of the server's stderr held for error messages, for tests.
    var stderrBytesHeld: Int { session.stderrBytesHeld }
}

/// The state of one child process and the messages in flight, shared by the transport's callers and the
/// background task that runs the child.
///
/// Safe to share: `state` is read and written only under `lock`, and continuations are resumed after it is
/// released; `settings` and the outbox are immutable (the outbox's continuation is thread-safe).
final class StdioSession: @unchecked Sendable {
    private let lock = NSLock()
    private var state = State()
    private let settings: TransportSettings
    /// Messages to write, in order, by the one task that owns the child's stdin.
    private let outbox: AsyncStream<Outgoing>
    private let outboxInput: AsyncStream<Outgoing>.Continuation

    /// How long a closing child has to exit after its stdin closes, then after SIGTERM, then after SIGKILL.
    static let gracePeriods: (eof: Duration, term: Duration, kill: Duration) =
        (.seconds(1), .milliseconds(800), .milliseconds(300))
    /// The longest `close` waits. The teardown's own steps bound it (2.1 s of grace periods, then SIGKILL and
    /// the reaping); this bound only matters on a starved machine, where the steps' timers fire late: returning
    /// before the child is gone would let mcpconn exit with it running (and `ChildProcesses.killRemaining`
    /// then ends it at exit).
    static let closeBound: Duration = .seconds(10)
    /// How much of the server's stderr is kept (its end), whatever it writes.
    static let stderrCapacity = 64 * 1024
    /// A stderr line longer than this is logged in pieces.
    static let stderrLineLimit = 4096

    private struct Outgoing: Sendable {
        var bytes: [UInt8]
        /// Told whether the write succeeded (nil) or why not.
        var done: @Sendable (MCPClientError?) -> Void
    }

    /// Where the child is in its life. `ended` keeps why messages can no longer flow: every later wait fails so.
    private enum Phase {
        case idle
        case starting
        case running
        case ended(MCPClientError)
    }

    /// What a waiter waits for: a write, the start, or the end of the child. (Answers are the session's.)
    private enum Key: Hashable {
        case write(Int)
        case start
        case finish(Int)
    }

    private typealias Outcome = Result<JSONRPCMessage?, MCPClientError>
    private typealias EndWaiter = CheckedContinuation<MCPClientError, Never>

    private struct State {
        var phase = Phase.idle
        var pid: pid_t?
        var closing = false
        /// The run task parked until `closing`.
        var closeSignal: CheckedContinuation<Void, Never>?
        /// The child is gone and reaped (or never started).
        var finished = false
        var waiters: [Key: Parked] = [:]
        /// Outcomes that came before their waiter, for keys someone will wait for.
        var early: [Key: Outcome] = [:]
        var expected: Set<Key> = []
        var nextToken = 0
        var sawJSONRPC = false
        /// The first stdout lines that were not JSON-RPC, for the error when nothing else came.
        var skipped: [String] = []
        var stderr = ByteRing(capacity: StdioSession.stderrCapacity)
        var stderrEnded = false
        /// The write task waiting for the end of the session, after a write failed.
        var endWaiters: [EndWaiter] = []
    }

    /// A waiter and the timer that gives up on it at its deadline; resuming it ends the timer too.
    private struct Parked {
        let continuation: CheckedContinuation<Outcome, Never>
        let timer: Task<Void, Never>

        func resume(_ r: Outcome) {
            timer.cancel()
            continuation.resume(returning: r)
        }
    }

    init(settings: TransportSettings) {
        self.settings = settings
        (outbox, outboxInput) = AsyncStream.makeStream(of: Outgoing.self)
    }

    var processID: pid_t? { lock.withLock { state.finished ? nil : state.pid } }
    var stderrBytesHeld: Int { lock.withLock { state.stderr.count } }

    // MARK: - The callers' side

    func start(_ launch: StdioLaunch, environment: [String: String], deadline: ContinuousClock.Instant)
        async throws(MCPClientError)
    {
        let first: Bool = lock.withLock {
            guard case .idle = state.phase, !state.closing else { return false }
            state.phase = .starting
            state.expected.insert(.start)
            return true
        }
        guard first else { throw .transport(.processFailed("the server process was already started")) }
        Task { await self.run(launch, environment: environment) }
        if case .failure(let e) = await wait(.start, until: deadline) {
            requestClose()
            throw e
        }
    }

    func notify(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        let key: Key = lock.withLock {
            state.nextToken += 1
            let k = Key.write(state.nextToken)
            state.expected.insert(k)
            return k
        }
        send(message) { [weak self] error in self?.settle(key, error.map { .failure($0) } ?? .success(nil)) }
        if case .failure(let e) = await wait(key, until: deadline) { throw e }
    }

    /// Asks the run task to end the child; idempotent. Waiters still waiting fail as cancelled.
    func requestClose() {
        let (signal, parked, enders): (CheckedContinuation<Void, Never>?, [Parked], [EndWaiter]) = lock.withLock {
            state.closing = true
            if case .idle = state.phase { state.finished = true }
            let s = state.closeSignal
            state.closeSignal = nil
            defer { state.endWaiters = [] }
            return (s, takeWaiters(for: .transport(.cancelled)), state.endWaiters)
        }
        signal?.resume()
        for p in parked { p.resume(.failure(.transport(.cancelled))) }
        for c in enders { c.resume(returning: .transport(.cancelled)) }
        settings.inbound.ended(.transport(.cancelled))
        let finished = lock.withLock { state.finished }
        if finished { finishWaiters() }
    }

    /// Waits for the child to be gone (reaped), at most `closeBound`. Not cut short by task cancellation.
    func waitUntilFinished() async {
        let key: Key = lock.withLock {
            state.nextToken += 1
            return .finish(state.nextToken)
        }
        _ = await wait(key, until: .now + Self.closeBound)
    }

    /// Writes one message (a line) through the outbox; `done` learns how the write went.
    private func send(_ message: JSONValue, done: @escaping @Sendable (MCPClientError?) -> Void) {
        var bytes = message.compactBytes()
        let refused: MCPClientError? = lock.withLock {
            if case .ended(let e) = state.phase { return e }
            return state.closing ? .transport(.cancelled) : nil
        }
        if let refused { return done(refused) }
        settings.log?.sent(String(decoding: bytes, as: UTF8.self))
        bytes.append(0x0A)  // compact JSON has no raw newline: the message is exactly one line
        if case .terminated = outboxInput.yield(Outgoing(bytes: bytes, done: done)) { done(.transport(.cancelled)) }
    }

    // MARK: - Waiting

    /// Waits for `key`'s outcome: one that came already, the phase's end error, or what comes before the
    /// deadline. The timer is made under the lock, so no outcome can come before it exists to be cancelled.
    private func wait(_ key: Key, until deadline: ContinuousClock.Instant) async -> Outcome {
        let cancellable: Bool
        if case .finish = key { cancellable = false } else { cancellable = true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
                lock.lock()
                if let r = state.early.removeValue(forKey: key) {
                    state.expected.remove(key)
                    lock.unlock()
                    c.resume(returning: r)
                    return
                }
                if let r = immediateOutcome(for: key) {
                    state.expected.remove(key)
                    lock.unlock()
                    c.resume(returning: r)
                    return
                }
                let timer = Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    guard !Task.isCancelled, let self else { return }
                    self.expire(key)
                }
                state.waiters[key] = Parked(continuation: c, timer: timer)
                lock.unlock()
            }
        } onCancel: {
            if cancellable { settle(key, .failure(.transport(.cancelled))) }
        }
    }

    /// Under the lock: the outcome a new waiter gets at once, if any.
    private func immediateOutcome(for key: Key) -> Outcome? {
        if case .finish = key { return state.finished ? .success(nil) : nil }
        if case .ended(let e) = state.phase { return .failure(e) }
        if state.closing { return .failure(.transport(.cancelled)) }
        return nil
    }

    /// Delivers `key`'s outcome to its waiter, or keeps it for a waiter still to come.
    private func settle(_ key: Key, _ outcome: Outcome) {
        let parked: Parked? = lock.withLock {
            if let p = state.waiters.removeValue(forKey: key) {
                state.expected.remove(key)
                return p
            }
            if state.expected.contains(key), state.early[key] == nil { state.early[key] = outcome }
            return nil
        }
        parked?.resume(outcome)
    }

    /// The deadline passed for `key`.
    private func expire(_ key: Key) {
        let (parked, outcome): (Parked?, Outcome) = lock.withLock {
            state.expected.remove(key)
            let p = state.waiters.removeValue(forKey: key)
            switch key {
            case .finish: return (p, .success(nil))
            default: return (p, .failure(timeoutErrorLocked()))
            }
        }
        parked?.resume(outcome)
    }

    /// A timeout, unless the server wrote only lines that are not JSON-RPC (a server logging to stdout is a
    /// common bug, and waiting longer would not help).
    func timeoutError() -> MCPClientError { lock.withLock { timeoutErrorLocked() } }

    private func timeoutErrorLocked() -> MCPClientError {
        if !state.sawJSONRPC, let line = state.skipped.first {
            return .notMCP("the server wrote no JSON-RPC, only lines like: \(line)")
        }
        return .transport(.timeout)
    }

    /// Under the lock: removes every waiter but those waiting for the end of the child.
    private func takeWaiters(for error: MCPClientError) -> [Parked] {
        var taken: [Parked] = []
        for (key, p) in state.waiters {
            if case .finish = key { continue }
            state.waiters.removeValue(forKey: key)
            taken.append(p)
        }
        state.expected = state.expected.filter { if case .finish = $0 { return true } else { return false } }
        return taken
    }

    /// No more messages will flow, for `error`: every waiter fails with it, and so will every later one.
    private func end(_ error: MCPClientError) {
        let ending: (parked: [Parked], enders: [EndWaiter])? = lock.withLock {
            if case .ended = state.phase { return nil }
            state.phase = .ended(error)
            defer { state.endWaiters = [] }
            return (takeWaiters(for: error), state.endWaiters)
        }
        guard let ending else { return }
        for p in ending.parked { p.resume(.failure(error)) }
        for c in ending.enders { c.resume(returning: error) }
        settings.inbound.ended(error)
    }

    private func finishWaiters() {
        let parked: [Parked] = lock.withLock {
            var taken: [Parked] = []
            for (key, p) in state.waiters {
                guard case .finish = key else { continue }
                state.waiters.removeValue(forKey: key)
                taken.append(p)
            }
            return taken
        }
        for p in parked { p.resume(.success(nil)) }
    }

    // MARK: - The child's side (the run task)

    private typealias ChildExecution = Execution<CustomWriteInput, SequenceOutput, SequenceOutput>

    /// Spawns the child and runs it until `close`; then marks the session finished.
    private func run(_ launch: StdioLaunch, environment: [String: String]) async {
        var options = PlatformOptions()
        // Its own process group, so that its descendants can be signalled with it.
        options.processGroupID = 0
        let env = Environment.custom(environment.map { Array("\($0.key)=\($0.value)\0".utf8) })
        do {
            if launch.command.isEmpty { throw StartProblem.emptyCommand }
            // The reaper runs the server (see `Reaper`): without it a server could outlive a killed mcpconn,
            // so its absence is an error, not a silent fallback.
            guard let reaper = Reaper.path else { throw StartProblem.noReaper }
            let program = try await Self.program(launch, environment: env)
            // Before the spawn: a Ctrl-C as soon as the child runs must find mcpconn ending it, not dying at
            // once by the default action and leaving it behind.
            guard let spawn = ChildProcesses.beginSpawn() else { throw StartProblem.ending }
            defer { ChildProcesses.endSpawn(spawn) }
            _ = try await Subprocess.run(
                .path(FilePath(reaper)), arguments: Arguments([String(getpid()), "--", program] + launch.arguments),
                environment: env,
                workingDirectory: launch.workingDirectory.map { FilePath($0) }, platformOptions: options,
                input: .inputWriter, output: .sequence, error: .sequence
            ) { (execution: ChildExecution) in
                await self.body(execution, from: spawn)
            }
        } catch {
            end(Self.startFailure(error, launch: launch, environment: environment))
        }
        lock.withLock { state.finished = true }
        finishWaiters()
    }

    private enum StartProblem: Error {
        case emptyCommand, ending, noReaper
        /// The command's path (joined to the working directory when relative) is not an executable file.
        case notRunnable(String)
    }

    /// The program the reaper runs: a name resolved in the child's PATH as swift-subprocess resolves it (the
    /// reaper only `execv`s), or a path, checked here so that a missing or non-executable one fails the start
    /// with the same words as before the reaper. A relative path is the working directory's, as for the exec;
    /// a working directory that is missing is left for the spawn to report.
    private static func program(_ launch: StdioLaunch, environment: Environment) async throws -> String {
        guard launch.command.contains("/") else {
            return try await Executable.name(launch.command).resolveExecutablePath(in: environment).string
        }
        var full = launch.command
        if let dir = launch.workingDirectory, !full.hasPrefix("/") {
            var st = stat()
            guard stat(dir, &st) == 0, (st.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR) else { return full }
            full = dir + "/" + full
        }
        var st = stat()
        let runnable =
            stat(full, &st) == 0 && (st.st_mode & mode_t(S_IFMT)) != mode_t(S_IFDIR) && access(full, X_OK) == 0
        guard runnable else { throw StartProblem.notRunnable(full) }
        return launch.command
    }

    /// The child runs: messages flow until close is asked, then the child is ended. Returns only once it has
    /// exited, and before it is reaped (swift-subprocess reaps it after this returns).
    private func body(_ execution: ChildExecution, from spawn: ChildProcesses.Spawn) async {
        let pid = execution.processIdentifier.value
        ChildProcesses.register(pid, from: spawn)
        if getpgid(pid) != pid { settings.log?.note("the server process could not get its own process group") }
        lock.withLock {
            state.pid = pid
            if case .starting = state.phase { state.phase = .running }
        }
        settle(.start, .success(nil))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.writeLoop(execution.standardInputWriter) }
            group.addTask { await self.readStdout(execution.standardOutput, pid: pid) }
            group.addTask { await self.readStderr(execution.standardError) }
            await waitForCloseRequest()
            await teardown(pid)
            ChildProcesses.unregister(pid)
            // The readers end when the leader exits (swift-subprocess then cancels the pipes' I/O, even if
            // something else still holds them open); cancelling them too costs nothing.
            group.cancelAll()
        }
    }

    private func waitForCloseRequest() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if state.closing {
                lock.unlock()
                c.resume()
            } else {
                state.closeSignal = c
                lock.unlock()
            }
        }
    }

    /// The spec's shutdown: stdin closed (by the write loop, once the outbox is drained), a grace period to
    /// exit, SIGTERM to the group, another, SIGKILL. `pid` is the reaper, which exits once the server has and
    /// has ended every descendant. Then SIGKILL to the group once more, a last word: the leader is not reaped
    /// yet, so its group id cannot have been reused.
    private func teardown(_ pid: pid_t) async {
        outboxInput.finish()
        let grace = Self.gracePeriods
        if await !waitForExit(pid, upTo: grace.eof) {
            settings.log?.note("the server did not exit when its input closed: SIGTERM")
            kill(-pid, SIGTERM)
            if await !waitForExit(pid, upTo: grace.term) {
                // The reaper SIGKILLs the server and all it started, wherever they are, and exits; SIGKILL to the
                // group would end the reaper with them, and a descendant that left the group would escape.
                settings.log?.note("the server ignored SIGTERM: SIGKILL")
                kill(pid, Reaper.endSignal)
                if await !waitForExit(pid, upTo: grace.kill) { kill(-pid, SIGKILL) }  // a starved reaper
            }
        }
        kill(-pid, SIGKILL)
    }

    /// Polls (without reaping) until the child exits or `duration` passes; true when it exited. Polling costs
    /// a few wake-ups and needs no SIGCHLD handler, which would be process-wide.
    private func waitForExit(_ pid: pid_t, upTo duration: Duration) async -> Bool {
        let end = ContinuousClock.now + duration
        while !ChildProcesses.hasExited(pid) {
            guard ContinuousClock.now < end, !Task.isCancelled else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Owns the child's stdin: writes the outbox in order, then closes stdin when the outbox is finished.
    private func writeLoop(_ writer: StandardInputWriter) async {
        var broken: MCPClientError?
        for await item in outbox {
            if let broken {
                item.done(broken)
                continue
            }
            let written: Int
            do { written = try await writer.write(item.bytes) } catch { written = -1 }
            if written == item.bytes.count {
                item.done(nil)
                continue
            }
            // The server stopped reading (it died, most likely): the end of its output says why, so the write
            // fails with that, once it comes (the waiters' own deadlines bound how long they wait for it).
            let e = await waitForEnd()
            broken = e
            item.done(e)
        }
        try? await writer.finish()
    }

    /// Why the session ended, once it has (or was closed).
    private func waitForEnd() async -> MCPClientError {
        await withCheckedContinuation { (c: EndWaiter) in
            lock.lock()
            if case .ended(let e) = state.phase {
                lock.unlock()
                c.resume(returning: e)
            } else if state.closing {
                lock.unlock()
                c.resume(returning: .transport(.cancelled))
            } else {
                state.endWaiters.append(c)
                lock.unlock()
            }
        }
    }

    private func readStdout(_ output: SubprocessOutputSequence, pid: pid_t) async {
        var lines = LineSplitter(maxLine: settings.maxBytes)
        var failed = false
        do {
            for try await buffer in output {
                // After a fatal line the rest is drained unread, so the server never blocks on a full pipe.
                guard !failed else { continue }
                buffer.withUnsafeBytes { raw in
                    let fits = lines.feed(raw) { line in
                        if !handleLine(line) { failed = true }
                        return !failed
                    }
                    if !fits, !failed {
                        failed = true
                        end(.transport(.oversized(settings.maxBytes)))
                    }
                }
            }
        } catch {
            // A read error ends the output like EOF does.
        }
        if !failed { await outputEnded(pid) }
    }

    /// One line of the server's stdout; false when it ends the session.
    private func handleLine(_ raw: ArraySlice<UInt8>) -> Bool {
        var line = raw
        if line.last == 0x0D { line = line.dropLast() }
        while let f = line.first, f == 0x20 || f == 0x09 { line = line.dropFirst() }
        guard let first = line.first else { return true }
        let text = String(decoding: line, as: UTF8.self)
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            if let messages = JSONRPCMessage.parseAll(Array(line)) {
                settings.log?.body(text)
                lock.withLock { state.sawJSONRPC = true }
                for m in messages where !dispatch(m) { return false }
                return true
            }
            // A `[` line that is not JSON-RPC is most likely a log line ("[INFO] …"); a `{` line is a message
            // gone wrong.
            if first == UInt8(ascii: "{") {
                settings.log?.body(text)
                end(.notMCP("the server wrote a line that is not JSON-RPC 2.0: \(Self.snippet(text, 200))"))
                return false
            }
        }
        let shown = Self.snippet(text, 200)
        settings.log?.note("server stdout (not JSON-RPC, skipped): \(Self.snippet(text, 1000))")
        lock.withLock { if state.skipped.count < 3 { state.skipped.append(shown) } }
        return true
    }

    /// One message from the server, for the session; false when it ends the session (a flood of server requests).
    private func dispatch(_ m: JSONRPCMessage) -> Bool {
        guard settings.inbound.receive(m, nil) else {
            end(.notMCP(ServerRequestAnswerer.floodProblem))
            return false
        }
        return true
    }

    /// The server's stdout ended (EOF, or the leader exited). Unless we are closing it, says why: how it
    /// exited and the end of its stderr, which it gets up to two seconds to deliver (it comes with the exit).
    private func outputEnded(_ pid: pid_t) async {
        if lock.withLock({ state.closing }) { return }
        let end = ContinuousClock.now + .seconds(2)
        func settled() -> Bool { lock.withLock { state.stderrEnded } && ChildProcesses.hasExited(pid) }
        while ContinuousClock.now < end, !Task.isCancelled, !settled() {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let exit = ChildProcesses.peekExit(pid)
        let error: MCPClientError = lock.withLock {
            if !state.sawJSONRPC, let line = state.skipped.first {
                return .notMCP("the server wrote no JSON-RPC, only lines like: \(line)")
            }
            let how: String
            switch exit {
            case .status(let s)?: how = "exited with status \(s)"
            case .signal(let s)?: how = "was killed by signal \(s)"
            case .unknown?: how = "exited"
            case nil: how = "closed its output"
            }
            let tail = Self.lastLines(state.stderr.contents)
            return .transport(.processFailed("the server \(how) before answering" + (tail.isEmpty ? "" : ": \(tail)")))
        }
        self.end(error)
    }

    private func readStderr(_ errors: SubprocessOutputSequence) async {
        var line: [UInt8] = []
        let log = settings.log
        func flush() {
            if let log, !line.isEmpty {
                var l = line[...]
                if l.last == 0x0D { l = l.dropLast() }
                log.note("server stderr: " + Self.snippet(String(decoding: l, as: UTF8.self), Self.stderrLineLimit))
            }
            line.removeAll(keepingCapacity: true)
        }
        do {
            for try await buffer in errors {
                buffer.withUnsafeBytes { raw in
                    lock.withLock { state.stderr.append(raw) }
                    guard log != nil else { return }
                    for b in raw {
                        if b == 0x0A {
                            flush()
                        } else {
                            line.append(b)
                            if line.count >= Self.stderrLineLimit { flush() }
                        }
                    }
                }
            }
        } catch {
            // A read error ends the log like EOF does.
        }
        flush()
        lock.withLock { state.stderrEnded = true }
    }

    // MARK: - Text

    /// Server text made one line, at most `limit` characters (escaped for a terminal where it is printed).
    static func snippet(_ text: String, _ limit: Int) -> String { ServerText.oneLine(text, limit: limit) }

    /// The last few non-empty lines of a server's stderr as one line (at most 3 lines, 400 characters):
    /// usually where a server says why it stopped.
    static func lastLines(_ bytes: [UInt8], count: Int = 3, limit: Int = 400) -> String {
        let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let line = ServerText.oneLine(lines.suffix(count).joined(separator: " | "), limit: .max)
        return line.count > limit ? "…" + String(line.suffix(limit - 1)) : line
    }

    /// Why the child could not start, in words.
    static func startFailure(_ error: any Error, launch: StdioLaunch, environment: [String: String])
        -> MCPClientError
    {
        let who = "cannot start '\(snippet(launch.command, 200))'"
        guard let e = error as? SubprocessError else {
            switch error as? StartProblem {
            case .ending?: return .transport(.processFailed("\(who): mcpconn is ending"))
            case .notRunnable(let path)?:
                return .transport(.processFailed("\(who): \(notFoundReason(path, path: environment["PATH"]))"))
            case .noReaper?:
                return .transport(
                    .missingProgram(
                        "\(who): local servers need \(Reaper.programName) next to mcpconn (\(Reaper.expectedPath)): "
                            + "build or install both"))
            default:
                return .transport(.processFailed(launch.command.isEmpty ? "cannot start the server: no command" : who))
            }
        }
        let why: String
        switch e.code {
        case .executableNotFound:
            why = notFoundReason(launch.command, path: environment["PATH"])
        case .failedToChangeWorkingDirectory:
            let dir = snippet(launch.workingDirectory ?? "", 200)
            why = "working directory '\(dir)': " + errnoText(e.underlyingError?.rawValue ?? ENOENT)
        default:
            why = e.underlyingError.map { errnoText($0.rawValue) } ?? "the system refused to run it"
        }
        return .transport(.processFailed("\(who): \(why)"))
    }

    /// swift-subprocess reports ENOENT for any executable it could not run; find out what it really was.
    private static func notFoundReason(_ command: String, path: String?) -> String {
        let candidates =
            command.contains("/")
            ? [command] : (path ?? "").split(separator: ":").filter { $0.hasPrefix("/") }.map { "\($0)/\(command)" }
        for c in candidates {
            var st = stat()
            guard stat(c, &st) == 0 else { continue }
            if (st.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR) {
                if command.contains("/") { return "is a directory" }
                continue
            }
            if access(c, X_OK) != 0 { return "permission denied (not executable)" }
        }
        return command.contains("/") ? "no such file or directory" : "not found in PATH"
    }

    /// `strerror`'s text, lowercased at the start ("no such file or directory").
    static func errnoText(_ code: Int32) -> String {
        let s = String(cString: strerror(code))
        return s.prefix(1).lowercased() + s.dropFirst()
    }
}

/// Splits a byte stream into lines without holding more than one line (at most `maxLine` bytes).
struct LineSplitter {
    let maxLine: Int
    private var pending: [UInt8] = []

    init(maxLine: Int) { self.maxLine = maxLine }

    /// Feeds bytes; `emit` gets each complete line (without its newline) and returns false to stop. Returns
    /// false when a line grew past `maxLine`.
    mutating func feed(_ raw: UnsafeRawBufferPointer, emit: (ArraySlice<UInt8>) -> Bool) -> Bool {
        var start = raw.startIndex
        while start < raw.endIndex {
            let rest = raw[start...]
            let newline = rest.firstIndex(of: 0x0A)
            let part = rest[..<(newline ?? raw.endIndex)]
            guard pending.count + part.count <= maxLine else { return false }
            guard let newline else {
                pending.append(contentsOf: part)
                return true
            }
            start = newline + 1
            if pending.isEmpty {
                // The common case: the whole line is in this buffer.
                if !emit(ArraySlice(part)) { return true }
            } else {
                pending.append(contentsOf: part)
                let line = pending
                pending.removeAll(keepingCapacity: true)
                if !emit(line[...]) { return true }
            }
        }
        return true
    }
}

/// The last `capacity` bytes of a stream: memory stays bounded whatever the stream's length.
struct ByteRing {
    let capacity: Int
    private var storage: [UInt8] = []
    /// Where the oldest byte is once `storage` is full.
    private var head = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { storage.count }

    /// The bytes held, oldest first.
    var contents: [UInt8] { Array(storage[head...] + storage[..<head]) }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var input = bytes[...]
        if input.count >= capacity {
            storage = Array(input.suffix(capacity))
            head = 0
            return
        }
        if storage.count < capacity {
            let n = min(capacity - storage.count, input.count)
            storage.append(contentsOf: input.prefix(n))
            input = input.dropFirst(n)
        }
        // Full: overwrite the oldest bytes, in at most two runs.
        while !input.isEmpty {
            let n = min(capacity - head, input.count)
            storage.withUnsafeMutableBytes { dst in
                UnsafeMutableRawBufferPointer(rebasing: dst[head..<(head + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: input.prefix(n)))
            }
            input = input.dropFirst(n)
            head = (head + n) % capacity
        }
    }
}
