#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads small local inputs (secrets, tool arguments, the key file) with plain POSIX calls. Foundation's
/// FileHandle traps on a read error (a directory, EIO) instead of throwing, which would crash the process.
enum LocalInput {
    enum Failure: Error, Equatable {
        /// open(2) failed, with its errno.
        case open(Int32)
        /// read(2) failed (EISDIR for a directory), with its errno.
        case read(Int32)
        /// More than the limit.
        case tooLarge
        /// A FIFO, a device or a socket where only a regular file will do, with its `st_mode`.
        case notRegular(mode_t)

        /// Why, for a message: "No such file or directory", "Is a directory", "over 64 KiB".
        func reason(limit: Int) -> String {
            switch self {
            case .open(let e), .read(let e): return String(cString: strerror(e))
            case .tooLarge: return "over \(limit / 1024 >= 1024 ? "\(limit / 1024 / 1024) MiB" : "\(limit / 1024) KiB")"
            case .notRegular(let mode): return "not a regular file (\(LocalInput.kind(mode)))"
            }
        }
    }

    /// What a file that is not a regular one is, for a message.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "type \(String(mode & S_IFMT, radix: 8))"
        }
    }

    /// All of `fd` up to `limit` bytes.
    static func read(fd: Int32, limit: Int) -> Result<[UInt8], Failure> {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.read(errno))
            }
            if n == 0 { return .success(out) }
            out.append(contentsOf: chunk[..<n])
            if out.count > limit { return .failure(.tooLarge) }
        }
    }

    /// A file's bytes up to `limit`, with its status (for permission checks). With `regularOnly`, anything but a
    /// regular file (or a symlink to one) is refused before a byte is read: a FIFO or a device named by a file
    /// someone else wrote (a client's config, its `envFile`). It is opened with O_NONBLOCK, since open(2) of a
    /// FIFO without a writer waits for one, forever; the check is fstat on what was opened, so no swap of the
    /// path gets past it. Without it (a path the user typed: `--secret-file <(pass show x)` is a pipe) a FIFO is
    /// read as the user meant it to be.
    static func read(path: String, limit: Int, regularOnly: Bool = false) -> Result<
        (bytes: [UInt8], info: stat), Failure
    > {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (regularOnly ? O_NONBLOCK : 0))
        guard fd >= 0 else { return .failure(.open(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(.read(errno)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { return .failure(.read(EISDIR)) }
        if regularOnly, (info.st_mode & S_IFMT) != S_IFREG { return .failure(.notRegular(info.st_mode)) }
        return read(fd: fd, limit: limit).map { (bytes: $0, info: info) }
    }
}

/// read(2), named apart from `LocalInput.read` (inside the type, `read` means the type's own functions).
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
