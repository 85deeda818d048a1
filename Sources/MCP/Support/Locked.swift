import Foundation

/// One value behind one lock, reached only through ``withLock(_:)``: the shape of NIO's `NIOLockedValueBox`,
/// without NIO in the main program. Synchronization's `Mutex` would do the same without the allocation, but it
/// needs macOS 15, above this package's macOS 13 floor.
///
/// Code inside `withLock` must be short and must not suspend, block or resume a continuation: collect what to do
/// and do it after the lock is released (as async-http-client's `Transaction` does).
package final class Locked<Value> {
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

// @unchecked Sendable: `value` is reached only inside `withLock`, under `lock`, and is itself Sendable.
extension Locked: @unchecked Sendable where Value: Sendable {}
