import Dispatch

/// Blocking work off the threads that must not block: Swift's cooperative pool (two threads here), and in
/// `serve --http` NIO's event loops, which run its tasks too. A store read or write is such work: on PostgreSQL
/// each statement is a network round trip, and a lost connection may take seconds to open again.
package enum Blocking {
    /// Runs `body` on a thread of Dispatch's global queue and suspends the caller until it is done. For serve's
    /// periodic checks of the store (change token, clients, shared rates, health), so that a slow or hung
    /// database stalls those checks, not the requests.
    package static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }
}
