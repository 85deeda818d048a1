import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// XDG locations and private-file helpers.
public enum Paths {
    static func home(_ env: [String: String]) -> String {
        if let h = env["HOME"], !h.isEmpty { return h }
        return NSHomeDirectory()
    }

    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    static func configHome(_ env: [String: String]) -> String {
        if let x = env["XDG_CONFIG_HOME"], x.hasPrefix("/") { return x }
        return home(env) + "/.config"
    }

    /// `$XDG_DATA_HOME`, else `~/.local/share`.
    static func dataHome(_ env: [String: String]) -> String {
        if let x = env["XDG_DATA_HOME"], x.hasPrefix("/") { return x }
        return home(env) + "/.local/share"
    }

    /// The database path: `--db`, else `$MCPCONN_DB`, else `$XDG_DATA_HOME/mcpconn/mcpconn.db`.
    public static func databasePath(option: String?, environment env: [String: String]) -> String {
        if let option, !option.isEmpty { return option }
        if let p = env["MCPCONN_DB"], !p.isEmpty { return p }
        return dataHome(env) + "/mcpconn/mcpconn.db"
    }

    /// Creates a directory and its missing parents; new ones are private (0700).
    static func makeDirectory(_ path: String) throws(MCPConnError) {
        if path.isEmpty || FileManager.default.fileExists(atPath: path) { return }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .config("cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    /// Creates `path` empty with mode 0600 if it does not exist yet (SQLite then gives -wal/-shm the same mode).
    static func createPrivateFile(_ path: String) throws(MCPConnError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
            return
        }
        if errno == EEXIST { return }
        throw .config("cannot create \(path): \(String(cString: strerror(errno)))")
    }
}
