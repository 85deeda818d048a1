import Foundation

/// Something that happens once (a library finished loading, a shutdown signal came), awaited by any number of
/// tasks: each returns at once if it happened already, else when it does.
public final class OneTimeEvent: Sendable {
    private struct State {
        var happened = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Locked(State())

    public init() {}

    /// Marks it happened and wakes every waiter (outside the lock); later calls change nothing.
    public func happen() {
        let waiters = state.withLock { s in
            s.happened = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    /// Returns once it has happened.
    public func wait() async {
        await withCheckedContinuation { c in
            let now = state.withLock { s in
                if !s.happened { s.waiters.append(c) }
                return s.happened
            }
            if now { c.resume() }
        }
    }
}
