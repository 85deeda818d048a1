import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The child's side of a stdio session: spawning it under the reaper, writing its stdin, ending it.
extension StdioSession {
    // MARK: - The child's side (the run task)

    typealias ChildExecution = Execution<CustomWriteInput, SequenceOutput, SequenceOutput>

    /// Spawns the child and runs it until `close`; then marks the session finished.
    func run(_ launch: StdioLaunch, environment: [String: String]) async {
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
        guarded.withLock { state in state.finished = true }
        finishWaiters()
    }

    enum StartProblem: Error {
        case emptyCommand, ending, noReaper
        /// The command's path (joined to the working directory when relative) is not an executable file.
        case notRunnable(String)
    }

    /// The program the reaper runs: a name resolved in the child's PATH as swift-subprocess resolves it (the
    /// reaper only `execv`s), or a path, checked here so that a missing or non-executable one fails the start
    /// with the same words as before the reaper. A relative path is the working directory's, as for the exec;
    /// a working directory that is missing is left for the spawn to report.
    static func program(_ launch: StdioLaunch, environment: Environment) async throws -> String {
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
    func body(_ execution: ChildExecution, from spawn: ChildProcesses.Spawn) async {
        let pid = execution.processIdentifier.value
        ChildProcesses.register(pid, from: spawn)
        if getpgid(pid) != pid { settings.log?.note("the server process could not get its own process group") }
        guarded.withLock { state in
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

    func waitForCloseRequest() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let closing = guarded.withLock { state in
                if !state.closing { state.closeSignal = c }
                return state.closing
            }
            if closing { c.resume() }
        }
    }

    /// The spec's shutdown: stdin closed (by the write loop, once the outbox is drained), a grace period to
    /// exit, SIGTERM to the group, another, SIGKILL. `pid` is the reaper, which exits once the server has and
    /// has ended every descendant. Then SIGKILL to the group once more, a last word: the leader is not reaped
    /// yet, so its group id cannot have been reused.
    func teardown(_ pid: pid_t) async {
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
    func waitForExit(_ pid: pid_t, upTo duration: Duration) async -> Bool {
        let end = ContinuousClock.now + duration
        while !ChildProcesses.hasExited(pid) {
            guard ContinuousClock.now < end, !Task.isCancelled else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Owns the child's stdin: writes the outbox in order, then closes stdin when the outbox is finished.
    func writeLoop(_ writer: StandardInputWriter) async {
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
    func waitForEnd() async -> MCPClientError {
        await withCheckedContinuation { (c: EndWaiter) in
            let now: MCPClientError? = guarded.withLock { state in
                if case .ended(let e) = state.phase { return e }
                if state.closing { return .transport(.cancelled) }
                state.endWaiters.append(c)
                return nil
            }
            if let now { c.resume(returning: now) }
        }
    }
}
