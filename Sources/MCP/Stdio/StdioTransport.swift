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
    let launch: StdioLaunch
    let session: StdioSession
    /// Where the inherited base of the child's environment comes from: mcpconn's own environment, or a
    /// stand-in given by a test.
    let parentEnvironment: [String: String]?

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
/// Its state is one value under one lock (`guarded`), and continuations are resumed after it is released;
/// `settings` and the outbox are immutable (the outbox's continuation is thread-safe).
final class StdioSession: Sendable {
    let guarded = Locked(State())
    let settings: TransportSettings
    /// Messages to write, in order, by the one task that owns the child's stdin.
    let outbox: AsyncStream<Outgoing>
    let outboxInput: AsyncStream<Outgoing>.Continuation

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

    struct Outgoing: Sendable {
        var bytes: [UInt8]
        /// Told whether the write succeeded (nil) or why not.
        var done: @Sendable (MCPClientError?) -> Void
    }

    /// Where the child is in its life. `ended` keeps why messages can no longer flow: every later wait fails so.
    enum Phase {
        case idle
        case starting
        case running
        case ended(MCPClientError)
    }

    /// What a waiter waits for: a write, the start, or the end of the child. (Answers are the session's.)
    enum Key: Hashable {
        case write(Int)
        case start
        case finish(Int)
    }

    typealias Outcome = Result<JSONRPCMessage?, MCPClientError>
    typealias EndWaiter = CheckedContinuation<MCPClientError, Never>

    struct State {
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
    struct Parked {
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

    var processID: pid_t? { guarded.withLock { state in state.finished ? nil : state.pid } }
    var stderrBytesHeld: Int { guarded.withLock { state in state.stderr.count } }

    // MARK: - The callers' side

    func start(_ launch: StdioLaunch, environment: [String: String], deadline: ContinuousClock.Instant)
        async throws(MCPClientError)
    {
        let first: Bool = guarded.withLock { state in
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
        let key: Key = guarded.withLock { state in
            state.nextToken += 1
            let k = Key.write(state.nextToken)
            state.expected.insert(k)
            return k
        }
        // Held strongly until the write loop takes it: a weak reference made and dropped leaves the session's side
        // table referenced only from its encoded header, which LeakSanitizer reports when a signal ends mcpconn.
        send(message) { error in self.settle(key, error.map { .failure($0) } ?? .success(nil)) }
        if case .failure(let e) = await wait(key, until: deadline) { throw e }
    }

    /// Asks the run task to end the child; idempotent. Waiters still waiting fail as cancelled.
    func requestClose() {
        let (signal, parked, enders): (CheckedContinuation<Void, Never>?, [Parked], [EndWaiter]) = guarded.withLock {
            state in
            state.closing = true
            if case .idle = state.phase { state.finished = true }
            let s = state.closeSignal
            state.closeSignal = nil
            defer { state.endWaiters = [] }
            return (s, state.takeWaiters(), state.endWaiters)
        }
        signal?.resume()
        for p in parked { p.resume(.failure(.transport(.cancelled))) }
        for c in enders { c.resume(returning: .transport(.cancelled)) }
        settings.inbound.ended(.transport(.cancelled))
        let finished = guarded.withLock { state in state.finished }
        if finished { finishWaiters() }
    }

    /// Waits for the child to be gone (reaped), at most `closeBound`. Not cut short by task cancellation.
    func waitUntilFinished() async {
        let key: Key = guarded.withLock { state in
            state.nextToken += 1
            return .finish(state.nextToken)
        }
        _ = await wait(key, until: .now + Self.closeBound)
    }

    /// Writes one message (a line) through the outbox; `done` learns how the write went.
    func send(_ message: JSONValue, done: @escaping @Sendable (MCPClientError?) -> Void) {
        var bytes = message.compactBytes()
        let refused: MCPClientError? = guarded.withLock { state in
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
    func wait(_ key: Key, until deadline: ContinuousClock.Instant) async -> Outcome {
        let cancellable: Bool
        if case .finish = key { cancellable = false } else { cancellable = true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
                let now: Outcome? = guarded.withLock { state in
                    if let r = state.early.removeValue(forKey: key) ?? state.immediateOutcome(for: key) {
                        state.expected.remove(key)
                        return r
                    }
                    // The timer holds the session until it fires or is cancelled (every resume cancels it): no
                    // weak reference, whose side table a process ending on a signal with a cancelled timer not yet
                    // unwound leaves behind (LeakSanitizer reported it after a Ctrl-C).
                    let timer = Task {
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        guard !Task.isCancelled else { return }
                        self.expire(key)
                    }
                    state.waiters[key] = Parked(continuation: c, timer: timer)
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            if cancellable { settle(key, .failure(.transport(.cancelled))) }
        }
    }

    /// Delivers `key`'s outcome to its waiter, or keeps it for a waiter still to come.
    func settle(_ key: Key, _ outcome: Outcome) {
        let parked: Parked? = guarded.withLock { state in
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
    func expire(_ key: Key) {
        let (parked, outcome): (Parked?, Outcome) = guarded.withLock { state in
            state.expected.remove(key)
            let p = state.waiters.removeValue(forKey: key)
            switch key {
            case .finish: return (p, .success(nil))
            default: return (p, .failure(state.timeoutError()))
            }
        }
        parked?.resume(outcome)
    }

    /// A timeout, unless the server wrote only lines that are not JSON-RPC (a server logging to stdout is a
    /// common bug, and waiting longer would not help).
    func timeoutError() -> MCPClientError { guarded.withLock { $0.timeoutError() } }

    /// No more messages will flow, for `error`: every waiter fails with it, and so will every later one.
    func end(_ error: MCPClientError) {
        let ending: (parked: [Parked], enders: [EndWaiter])? = guarded.withLock { state in
            if case .ended = state.phase { return nil }
            state.phase = .ended(error)
            defer { state.endWaiters = [] }
            return (state.takeWaiters(), state.endWaiters)
        }
        guard let ending else { return }
        for p in ending.parked { p.resume(.failure(error)) }
        for c in ending.enders { c.resume(returning: error) }
        settings.inbound.ended(error)
    }

    func finishWaiters() {
        let parked: [Parked] = guarded.withLock { state in
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
}

/// What a session's state answers for itself, under its lock.
extension StdioSession.State {
    /// The outcome a new waiter gets at once, if any.
    func immediateOutcome(for key: StdioSession.Key) -> StdioSession.Outcome? {
        if case .finish = key { return finished ? .success(nil) : nil }
        if case .ended(let e) = phase { return .failure(e) }
        if closing { return .failure(.transport(.cancelled)) }
        return nil
    }

    /// A timeout, unless the server wrote only lines that are not JSON-RPC.
    func timeoutError() -> MCPClientError {
        if !sawJSONRPC, let line = skipped.first {
            return .notMCP("the server wrote no JSON-RPC, only lines like: \(line)")
        }
        return .transport(.timeout)
    }

    /// Removes every waiter but those waiting for the end of the child.
    mutating func takeWaiters() -> [StdioSession.Parked] {
        var taken: [StdioSession.Parked] = []
        for (key, p) in waiters {
            if case .finish = key { continue }
            waiters.removeValue(forKey: key)
            taken.append(p)
        }
        expected = expected.filter { if case .finish = $0 { return true } else { return false } }
        return taken
    }
}
