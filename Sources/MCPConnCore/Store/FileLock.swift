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
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(fd: fd) }
            let err = errno
            if err == EINTR { continue }
            guard err == EWOULDBLOCK else {
                close(fd)
                throw .system("cannot lock \(path): \(String(cString: strerror(err)))")
            }
            if ContinuousClock.now >= deadline {
                close(fd)
                throw .timeout
            }
            do {
                try await Task.sleep(until: min(deadline, .now + .milliseconds(25)), clock: .continuous)
            } catch {
                close(fd)
                throw .cancelled
            }
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
