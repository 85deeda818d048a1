import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// write(2) until everything is written: the one loop stdout, stderr, serve's stdout and written files share.
/// Foundation's FileHandle.write traps on a closed or full descriptor instead.
public enum WriteAll {
    /// Writes all of `bytes` to `fd`, again after EINTR, and after EAGAIN once a non-blocking descriptor drained
    /// (never cut short); the errno when it cannot (EIO for a write that wrote nothing).
    @discardableResult
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var off = 0
        while off < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, -1)
                continue
            }
            if n < 0 { return errno }
            if n == 0 { return EIO }
            off += n
        }
        return nil
    }

    @discardableResult
    public static func write(_ fd: Int32, _ bytes: [UInt8]) -> Int32? { bytes.withUnsafeBytes { write(fd, $0) } }
}

/// write(2), named apart from `WriteAll.write`.
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Foundation.write(fd, p, n) }
