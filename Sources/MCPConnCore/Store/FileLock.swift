import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock` on a file, taken by trying it without blocking (LOCK_NB) and sleeping between tries:
/// no thread, of Swift's pool or another, ever blocks on it, and the wait ends at its deadline or when the
/// task is cancelled.
final class FileLock: Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Why the lock was not taken.
    enum Failure: Error {
        /// Another process still held it at the deadline.
        case timeout
        /// The waiting task was cancelled.
        case cancelled
        /// The lock file could not be opened or locked (the system's reason).
        case system(String)
        /// The shared store that holds the lock could not be reached (its reason).
        case unreachable(String)
    }

    static func acquire(path: String, deadline: ContinuousClock.Instant) async throws(Failure) -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        let attempt = { () throws(Failure) -> FileLock? in
            while true {
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(fd: fd) }
                let err = errno
                if err == EINTR { continue }
                guard err == EWOULDBLOCK else {
                    throw .system("cannot lock \(path): \(String(cString: strerror(err)))")
                }
                return nil
            }
        }
        return try await poll(until: deadline, giveUp: { close(fd) }, attempt)
    }

    /// Tries `attempt` until it returns a lock, every 25 ms until `deadline`; `giveUp` runs when it will not
    /// (a failed attempt, the deadline, a cancelled task). Shared by the lock file and PostgreSQL's advisory lock.
    static func poll<Lock>(
        until deadline: ContinuousClock.Instant, giveUp: () -> Void, _ attempt: () throws(Failure) -> Lock?
    ) async throws(Failure) -> Lock {
        while true {
            do throws(Failure) {
                if let lock = try attempt() { return lock }
            } catch {
                giveUp()
                throw error
            }
            if ContinuousClock.now >= deadline {
                giveUp()
                throw .timeout
            }
            do {
                try await Task.sleep(until: min(deadline, .now + .milliseconds(25)), clock: .continuous)
            } catch {
                giveUp()
                throw .cancelled
            }
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
