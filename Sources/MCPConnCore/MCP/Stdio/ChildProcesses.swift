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
/// On SIGINT or SIGTERM: SIGTERM to every registered group, up to a second for their leaders to exit, SIGKILL
/// to the groups, then exit with 128 + the signal (130, 143).
public enum ChildProcesses {
    private static let registry = Registry()

    /// The last word before mcpconn exits: SIGKILL to the group of any child still registered. A session's
    /// close ends its child within its own bound; this holds even when that bound ran out (a starved machine),
    /// so no server outlives the command. Registered leaders are not reaped yet, so no group id was reused.
    public static func killRemaining() {
        for pid in registry.snapshot { kill(-pid, SIGKILL) }
    }

    /// Installs the signal handling (once), before a child is spawned.
    static func prepare() { registry.prepare() }

    /// Records a started child (its pid is its process group's id) and installs the signal handling once.
    static func register(_ pid: pid_t) { registry.register(pid) }

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

    /// Safe to share: `groups` and `installed` are touched only under `lock`; the sources are created once,
    /// under the lock, and then only read by the dispatch queue.
    private final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var groups: Set<pid_t> = []
        private var installed = false
        private var sources: [DispatchSourceSignal] = []
        private var shutdown: (@Sendable (Int32) -> Void)?
        private let queue = DispatchQueue(label: "mcpconn.child-signals")

        var snapshot: Set<pid_t> { lock.withLock { groups } }

        func register(_ pid: pid_t) {
            lock.withLock { _ = groups.insert(pid) }
            prepare()
        }

        func prepare() {
            let install: Bool = lock.withLock {
                defer { installed = true }
                return !installed
            }
            if install { installHandlers() }
        }

        func unregister(_ pid: pid_t) { _ = lock.withLock { groups.remove(pid) } }

        func intercept(_ handler: @escaping @Sendable (Int32) -> Void) {
            let install: Bool = lock.withLock {
                shutdown = handler
                defer { installed = true }
                return !installed
            }
            if install { installHandlers() }
        }

        /// The first signal goes to the shutdown handler when there is one (taken, so the next does not).
        private func received(_ sig: Int32) {
            let handler: (@Sendable (Int32) -> Void)? = lock.withLock {
                defer { shutdown = nil }
                return shutdown
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
            lock.withLock { sources = made }
        }

        /// Runs on `queue`, never on Swift's pool: it blocks (briefly) since mcpconn is about to exit anyway.
        private func terminateAll(exitingWith status: Int32) {
            let leaders = snapshot
            for pid in leaders { kill(-pid, SIGTERM) }
            var waited = 0
            while waited < 100, leaders.contains(where: { !ChildProcesses.hasExited($0) }) {
                usleep(10_000)
                waited += 1
            }
            // Registered leaders that exited are unreaped zombies still holding their group ids (a transport
            // unregisters its child before letting it be reaped), so no group here can have been reused.
            for pid in snapshot { kill(-pid, SIGKILL) }
            exit(status)
        }
    }
}
