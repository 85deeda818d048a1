import CProcess
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The server processes mcpconn has running (each the leader of its own process group), so that Ctrl-C or a
/// SIGTERM to mcpconn ends them too: a child in its own group gets no SIGINT from the terminal, and would
/// otherwise outlive us, still holding whatever it holds.
///
/// The signal handling is installed just before the first child starts, so verbs that start none never pay
/// for it.
/// On SIGINT or SIGTERM: SIGTERM to every registered group, up to a second for their leaders to exit, then
/// `endNow`, then exit with 128 + the signal (130, 143).
///
/// Each leader is a `Reaper` running the server: it ends everything the server started when asked (`endNow`),
/// when the server exits, and when mcpconn is gone, even by SIGKILL.
public enum ChildProcesses {
    private static let registry = Registry()

    /// The last word before mcpconn exits: `endNow` for any child still registered. A session's close ends its
    /// child within its own bound; this holds even when that bound ran out (a starved machine), so no server
    /// outlives the command. Blocking is fine here: the process exits next.
    static func killRemaining() { endNow(registry.snapshot) }

    /// Asks each reaper in `leaders` to end its server and all it started (SIGKILL) and exit, and waits up to a
    /// second for them to be gone: a signal is acted on when its target next runs, so on a busy machine a child
    /// could otherwise still be running when mcpconn's exit status is seen. A reaper still running then (a
    /// starved machine) gets SIGKILL to its group, and another second: what its server started outside the
    /// group could then escape. Registered leaders are not reaped yet, so no pid or group id was reused.
    static func endNow(_ leaders: Set<pid_t>) {
        for pid in leaders { kill(pid, Reaper.endSignal) }
        awaitExit(of: leaders, polls: 100)
        let stuck = leaders.filter { !hasExited($0) }
        for pid in stuck { kill(-pid, SIGKILL) }
        awaitExit(of: stuck, polls: 100)
    }

    /// Ends the program with `status`, after `killRemaining`. When a signal is ending it already, that signal's
    /// status (130, 143) wins: this thread waits while the signal's handler ends the children and exits, so
    /// that an error from a child it killed never replaces the status, and `exit` is never run twice at once.
    public static func endProgram(status: Int32) -> Never {
        if registry.claimEnd(.byProgram) {
            killRemaining()
            exit(status)
        }
        while true { pause() }
    }

    /// True once a signal is ending mcpconn: an error from a child being ended is not worth a line then.
    public static var endingOnSignal: Bool { registry.endingOnSignal }

    /// A spawn about to start: installs the signal handling (once) and counts the spawn as in flight until its
    /// child is registered or `endSpawn` is called, so that a signal arriving in between still finds the child.
    /// Nil once mcpconn is ending on a signal: no new child may start then.
    static func beginSpawn() -> Spawn? { registry.beginSpawn() }

    /// The spawn is over, whether it started a child (registered already) or failed; idempotent.
    static func endSpawn(_ spawn: Spawn) { registry.endSpawn(spawn) }

    /// Records a started child (its pid is its process group's id); its spawn is no longer in flight.
    static func register(_ pid: pid_t, from spawn: Spawn) { registry.register(pid, from: spawn) }

    /// One spawn in flight.
    struct Spawn: Hashable, Sendable { fileprivate let id: UInt64 }

    /// Who ends the program.
    fileprivate enum Ending { case notYet, byProgram, bySignal }

    /// Polls, 10 ms apart, until every pid in `leaders` has exited (unreaped) or `polls` run out.
    fileprivate static func awaitExit(of leaders: Set<pid_t>, polls: Int) {
        var left = polls
        while left > 0, leaders.contains(where: { !hasExited($0) }) {
            usleep(10_000)
            left -= 1
        }
    }

    /// Hands the first SIGINT or SIGTERM to `shutdown` (which ends the program in its own time, closing the
    /// sessions and so the children) instead of ending at once; a second signal still ends everything at once.
    /// For a long-running server (`serve --http`), installed before it starts listening.
    public static func onFirstTerminationSignal(_ shutdown: @escaping @Sendable (Int32) -> Void) {
        registry.intercept(shutdown)
    }

    /// Forgets a child; called before it is reaped, so a recycled pid is never signalled.
    static func unregister(_ pid: pid_t) { registry.unregister(pid) }

    /// The registered children, for tests.
    static var live: Set<pid_t> { registry.snapshot }

    /// How a child ended.
    enum Exit: Equatable, Sendable {
        case status(Int32)
        case signal(Int32)
        /// Reaped already, or not our child: gone, how is unknown.
        case unknown
    }

    /// How the child `pid` ended, nil while it runs. It is not reaped (its pid, and its group's id, stay taken
    /// until swift-subprocess reaps it).
    static func peekExit(_ pid: pid_t) -> Exit? {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else {
            return errno == ECHILD ? .unknown : nil
        }
        guard info.si_signo != 0 else { return nil }  // WNOHANG and still running: nothing was filled in
        #if canImport(Glibc)
            let value = info._sifields._sigchld.si_status  // glibc's si_status is a macro Swift cannot see
        #else
            let value = info.si_status
        #endif
        return Int(info.si_code) == Int(CLD_EXITED) ? .status(value) : .signal(value)
    }

    static func hasExited(_ pid: pid_t) -> Bool { peekExit(pid) != nil }

    /// The children, the spawns in flight and the signal handling, in one `Locked` state; the signal sources are
    /// created once, then only run by their dispatch queue.
    private final class Registry: Sendable {
        private struct State {
            var groups: Set<pid_t> = []
            /// Spawns started and not yet registered or ended.
            var spawning: Set<Spawn> = []
            var nextSpawn: UInt64 = 0
            /// Taken by the first of the program's own end (`endProgram`) and a signal's `terminateAll`.
            var ending = Ending.notYet
            var installed = false
            var sources = SignalSources(kept: [])
            var shutdown: (@Sendable (Int32) -> Void)?

            /// Marks the handlers installed; true for the one caller that must install them.
            mutating func claimInstall() -> Bool {
                defer { installed = true }
                return !installed
            }
        }
        /// The installed signal sources, held so they live on; nothing touches them after `resume`.
        // @unchecked Sendable: libdispatch's sources are thread-safe, but Linux's Dispatch does not mark them
        // Sendable; these are only stored, never called again.
        private struct SignalSources: @unchecked Sendable { let kept: [DispatchSourceSignal] }

        private let state = Locked(State())
        private let queue = DispatchQueue(label: "mcpconn.child-signals")

        var snapshot: Set<pid_t> { state.withLock { $0.groups } }

        func register(_ pid: pid_t, from spawn: Spawn) {
            state.withLock { s in
                s.groups.insert(pid)
                s.spawning.remove(spawn)
            }
        }

        func beginSpawn() -> Spawn? {
            let (spawn, install): (Spawn?, Bool) = state.withLock { s in
                guard s.ending != .bySignal else { return (nil, false) }
                s.nextSpawn += 1
                let spawn = Spawn(id: s.nextSpawn)
                s.spawning.insert(spawn)
                return (spawn, s.claimInstall())
            }
            if install { installHandlers() }
            return spawn
        }

        func endSpawn(_ spawn: Spawn) { _ = state.withLock { $0.spawning.remove(spawn) } }

        /// True for the first claim only: the claimant exits, the other side leaves that to it.
        func claimEnd(_ by: Ending) -> Bool {
            state.withLock { s in
                guard s.ending == .notYet else { return false }
                s.ending = by
                return true
            }
        }

        var endingOnSignal: Bool { state.withLock { $0.ending == .bySignal } }

        func unregister(_ pid: pid_t) { _ = state.withLock { $0.groups.remove(pid) } }

        func intercept(_ handler: @escaping @Sendable (Int32) -> Void) {
            let install = state.withLock { s in
                s.shutdown = handler
                return s.claimInstall()
            }
            if install { installHandlers() }
        }

        /// The first signal goes to the shutdown handler when there is one (taken, so the next does not).
        private func received(_ sig: Int32) {
            let handler = state.withLock { s in
                defer { s.shutdown = nil }
                return s.shutdown
            }
            if let handler { handler(sig) } else { terminateAll(exitingWith: 128 + sig) }
        }

        private func installHandlers() {
            // A write to a server that has died must be an error (EPIPE) for the transport, not the end of mcpconn.
            // Children do not inherit these dispositions: the spawn resets every signal to its default.
            signal(SIGPIPE, SIG_IGN)
            var made: [DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM] {
                // Ignored as a plain signal; the dispatch source still sees it, on its own queue.
                signal(sig, SIG_IGN)
                let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                s.setEventHandler { [weak self] in self?.received(sig) }
                s.resume()
                made.append(s)
            }
            state.withLock { $0.sources = SignalSources(kept: made) }
        }

        /// Runs on `queue`, never on Swift's pool: it blocks (briefly) since mcpconn is about to exit anyway.
        /// Up to a second for the children to end on SIGTERM, children whose spawn was in flight when the
        /// signal came included (they get theirs once registered), then `endNow`.
        private func terminateAll(exitingWith status: Int32) {
            guard claimEnd(.bySignal) else { return }  // the program is ending already, its children with it
            var signalled: Set<pid_t> = []
            for _ in 0..<100 {
                let (leaders, inFlight) = state.withLock { s in (s.groups, !s.spawning.isEmpty) }
                for pid in leaders.subtracting(signalled) { kill(-pid, SIGTERM) }
                signalled.formUnion(leaders)
                if !inFlight && !leaders.contains(where: { !ChildProcesses.hasExited($0) }) { break }
                usleep(10_000)
            }
            // Registered leaders that exited are unreaped zombies still holding their pids and group ids (a
            // transport unregisters its child before letting it be reaped), so none here can have been reused.
            ChildProcesses.endNow(snapshot)
            exit(status)
        }
    }
}

/// `mcpconn-reaper` (Sources/mcpconn-reaper/main.c), the parent of every local server: mcpconn runs
/// `mcpconn-reaper MCPCONN_PID -- PATH ARGS...` as the leader of the server's process group. It is a child
/// subreaper (a descendant that leaves the group with `setsid` and loses its parent becomes the reaper's child),
/// it dies with mcpconn (PR_SET_PDEATHSIG, then getppid()) and the server with it; and when the server exits,
/// when asked (`endSignal`) or when mcpconn is gone, it SIGKILLs every descendant and exits as the server did.
enum Reaper {
    static let programName = "mcpconn-reaper"

    /// Where it must be: next to the running program (mcpconn or mcpconn-serve-http in the same folder after
    /// `make install`; the test bundle in `.build/debug`, where SwiftPM builds it too).
    static let expectedPath: String = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(programName).path
    }()

    /// The path to run, nil when it is not there or not executable.
    static var path: String? { access(expectedPath, X_OK) == 0 ? expectedPath : nil }

    /// Sent to a reaper alone (never its group): end the server and everything it started, at once.
    static let endSignal = Int32(MCPCONN_REAPER_END_SIGNAL)
}
