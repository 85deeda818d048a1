import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Replaces a client's config file so that the client never reads half of one: the new text goes to a
/// temporary file in the same folder, is synced, given the old file's mode, and renamed over the old one.
public enum ConfigWriter {
    public struct Written: Sendable {
        /// The file written (a symlink's target).
        public var path: String
        /// Where the previous content was saved, if there was any.
        public var backup: String?
        /// True when comments of the old file could not be kept (the backup has them).
        public var commentsLost = false
        /// True when the file already held exactly this: nothing was written.
        public var unchanged = false
    }

    /// The file a path names, through symlinks (a dotfile manager's link stays a link); the path itself when
    /// there is no file yet. A symlink to nothing is refused: writing through it would create its target wherever
    /// it points (a link in a cloned project can name any file of yours), and so is a link on the way (the
    /// client's folder) that leads nowhere.
    static func resolved(_ path: String) throws(MCPConnError) -> String {
        if let real = realpath(path, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        if let link = danglingLink(on: Validate.absolute(path)) {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) ?? "?"
            throw .notFound(
                "cannot write \(path): \(link == Validate.absolute(path) ? "it" : link) is a symlink to \(target), which does not exist; export --write follows a link only to an existing file"
            )
        }
        return path
    }

    /// The symlink that `path`, or the nearest of its folders that exists, is when that link leads nowhere (its
    /// target missing, or a loop).
    private static func danglingLink(on path: String) -> String? {
        var p = path
        var st = stat()
        while lstat(p, &st) != 0 {
            let parent = URL(fileURLWithPath: p).deletingLastPathComponent().path
            if parent == p { return nil }
            p = parent
        }
        guard (st.st_mode & S_IFMT) == S_IFLNK, stat(p, &st) != 0 else { return nil }
        return p
    }

    /// What identifies a file's content version: inode, size, modification time. A client that rewrote its file
    /// between our read and our rename (Claude Code writes `~/.claude.json` often) changes it.
    static func version(_ path: String) -> [Int]? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return [Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
    }

    /// Replaces `path` unless its version is no longer `expected` (nil when there was no file); nil then, and
    /// nothing is changed. `previous`, the text the caller read from it, is saved beside it first.
    static func replace(_ path: String, with text: String, mode: mode_t, previous: String?, expected: [Int]?)
        throws(MCPConnError) -> Written?
    {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw MCPConnError(.ioError, "cannot create the folder \(folder): \(error.localizedDescription)")
        }
        var saved: String?
        if let previous {
            // 20261128T121500Z: a second export must not overwrite the backup of the first.
            let stamp = Timestamp.iso8601(Date()).filter { $0 != "-" && $0 != ":" }.prefix(15) + "Z"
            let old = Array(previous.utf8)
            for n in 0..<100 where saved == nil {
                let copy = path + ".\(stamp)\(n == 0 ? "" : "-\(n)").bak"
                // 0600 whatever the file's mode: the old file may hold the secrets an import has just sealed.
                if try write(copy, bytes: old, mode: 0o600, replacing: false) { saved = copy }
            }
        }
        let temporary = folder + "/.\(URL(fileURLWithPath: path).lastPathComponent).mcpconn-\(getpid())"
        _ = try write(temporary, bytes: Array(text.utf8), mode: mode, replacing: true)
        guard version(path) == expected else {
            unlink(temporary)
            if let saved { unlink(saved) }
            return nil
        }
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw MCPConnError(.ioError, "cannot replace \(path): \(String(cString: strerror(e)))")
        }
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
        return Written(path: path, backup: saved)
    }

    /// Writes a new file, synced, with `mode`; false when it exists and `replacing` is false.
    private static func write(_ path: String, bytes: [UInt8], mode: mode_t, replacing: Bool) throws(MCPConnError)
        -> Bool
    {
        if replacing { unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        if fd < 0, errno == EEXIST, !replacing { return false }
        guard fd >= 0 else { throw MCPConnError(.ioError, "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // open(2) applies the umask; the old file's mode is what the user chose.
        fchmod(fd, mode)
        if let failure = WriteAll.write(fd, bytes) {
            throw MCPConnError(.ioError, "cannot write \(path): \(String(cString: strerror(failure)))")
        }
        guard fsync(fd) == 0 else {
            throw MCPConnError(.ioError, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return true
    }
}
