import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds the credential encryption key: env `TOKEN_ENCRYPTION_KEY`, else the key file, created on first need.
public final class KeyProvider: Sendable {
    private let environment: [String: String]
    private let notice: @Sendable (String) -> Void
    private let cached = Locked<EncryptionKey?>(nil)

    /// - Parameter notice: receives one-line notices for people (e.g. that a key file was created).
    public init(environment: [String: String], notice: @escaping @Sendable (String) -> Void = { _ in }) {
        ProcessHardening.forbidCoreDumps()
        self.environment = environment
        self.notice = notice
    }

    /// The key file path: `$MCPCONN_KEY_FILE`, else `$XDG_CONFIG_HOME/mcpconn/key`, else `~/.config/mcpconn/key`.
    public var keyFilePath: String {
        if let p = environment["MCPCONN_KEY_FILE"], !p.isEmpty { return p }
        return Paths.configHome(environment) + "/mcpconn/key"
    }

    /// The key, resolved once per process. With `create`, a missing key file is created (0600).
    ///
    /// The one `Locked` section that does I/O (a small local file, once per process): callers that race must
    /// wait for the first one's key, since two creating the key file at once would collide on its temporary file.
    public func key(create: Bool) throws(MCPConnError) -> EncryptionKey {
        try cached.withLock { (cached) throws(MCPConnError) in
            if let cached { return cached }
            let k = try resolve(create: create)
            cached = k
            return k
        }
    }

    private func resolve(create: Bool) throws(MCPConnError) -> EncryptionKey {
        if let text = environment["TOKEN_ENCRYPTION_KEY"], !text.isEmpty {
            return try EncryptionKey.parse(text, source: "TOKEN_ENCRYPTION_KEY")
        }
        let path = keyFilePath
        if let text = try readKeyFile(path) {
            return try EncryptionKey.parse(text, source: "the key file \(path)")
        }
        guard create else {
            throw .config("no encryption key: set TOKEN_ENCRYPTION_KEY or restore the key file \(path)")
        }
        return try createKeyFile(path)
    }

    /// The key file's text, nil when there is none. Like ssh with a private key, a key file that other users
    /// could read or change (any group or other permission bit), or that belongs to someone else, is refused.
    private func readKeyFile(_ path: String) throws(MCPConnError) -> String? {
        switch LocalInput.read(path: path, limit: 4096) {
        case .failure(.open(ENOENT)): return nil
        case .failure(let f): throw .config("cannot read the key file \(path): \(f.reason(limit: 4096))")
        case .success(let (bytes, info)):
            let mode = info.st_mode & 0o777
            if mode & 0o077 != 0 {
                throw .config(
                    "the key file \(path) is accessible to other users (mode \(String(mode, radix: 8))): run `chmod 600 \(path)`"
                )
            }
            if info.st_uid != geteuid() && info.st_uid != 0 {
                throw .config("the key file \(path) belongs to another user (uid \(info.st_uid))")
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Writes a new random key to a temporary file and links it into place, so that two processes
    /// racing to create the key agree on one and nobody ever reads a half-written file.
    private func createKeyFile(_ path: String) throws(MCPConnError) -> EncryptionKey {
        let dir = (path as NSString).deletingLastPathComponent
        do {
            try Paths.makeDirectory(dir)
        } catch {
            throw .config("cannot create the key directory \(dir): \(error.message)")
        }
        let key = EncryptionKey.random()
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .config("cannot create the key file \(path): \(String(cString: strerror(errno)))") }
        let line = Array((key.hexString + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        defer { unlink(tmp) }
        guard written == line.count else { throw .config("cannot write the key file \(path)") }
        if link(tmp, path) != 0 {
            if errno == EEXIST, let text = try readKeyFile(path) {
                return try EncryptionKey.parse(text, source: "the key file \(path)")
            }
            throw .config("cannot create the key file \(path): \(String(cString: strerror(errno)))")
        }
        notice(
            "created a new encryption key at \(path); back it up: the connectors sealed under it (and their credentials) cannot be used without it"
        )
        return key
    }
}
