import Foundation

/// Something that happens once (a library finished loading, a shutdown signal came), awaited by any number of
/// tasks: each returns at once if it happened already, else when it does.
public final class OneTimeEvent: @unchecked Sendable {
    // Safe to share: `happened` and `waiters` are touched only under `lock`; waiters are resumed outside it.
    private let lock = NSLock()
    private var happened = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    /// Marks it happened and wakes every waiter; later calls change nothing.
    public func happen() {
        let ws = lock.withLock {
            happened = true
            defer { waiters = [] }
            return waiters
        }
        for w in ws { w.resume() }
    }

    /// Returns once it has happened.
    public func wait() async {
        await withCheckedContinuation { c in
            let now = lock.withLock {
                if !happened { waiters.append(c) }
                return happened
            }
            if now { c.resume() }
        }
    }
}
