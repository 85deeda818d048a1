import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server for the tests, run from the machine's PostgreSQL binaries (`make deps` installs them).
///
/// Its cluster lives in a fresh temp dir (`mcpconn-pg-*`: data/, log, socket), on a free loopback port. Beside it
/// runs a watchdog, `sh` in a session of its own that ignores INT, TERM and HUP and reads a pipe whose only write end
/// this object holds. When that end closes (the object is released, or the process ends in any way: normal exit,
/// crash, SIGKILL, a signal to the whole process group), the watchdog stops the server (`pg_ctl stop -m immediate`)
/// and deletes the temp dir. Only a SIGKILL aimed at the watchdog itself leaves a server behind; it is then
/// stopped by `pg_ctl stop -D <tmp>/mcpconn-pg-*/data` (as `postgres` under root).
///
/// `@unchecked Sendable`: every stored property is a constant except `counter`, which `lock` guards; the server is
/// another process, and each call runs commands of its own.
///
/// The calls block their thread (a start takes about a second, a `psql` run tens of milliseconds): from an async
/// test, make them inside ``offPool(_:)``, not on Swift's 2-thread cooperative pool.
public final class PostgresServer: @unchecked Sendable {
    public let port: Int
    /// The temp dir: `data/` (the cluster), `log` (the server's log), the Unix socket.
    public let directory: URL
    private let bin: String
    private let asPostgres: [String]
    private let watchdog: Pipe
    private let lock = NSLock()
    private var counter = 0

    private var data: String { directory.appendingPathComponent("data").path }
    private var log: String { directory.appendingPathComponent("log").path }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// One server per test process, started on first use; a failed start fails every later call at once.
    public static func shared() throws -> PostgresServer { try sharedServer.get() }
    private static let sharedServer = Result { try PostgresServer() }

    /// The directory of `initdb`, `pg_ctl` and `psql`: the highest version under /usr/lib/postgresql (Debian),
    /// else what `pg_config --bindir` says; nil when PostgreSQL's server is not installed.
    public static let binDir: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }
        for v in versions.sorted(by: >) where FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/initdb") {
            return "\(root)/\(v)/bin"
        }
        // Debian's pg_config comes with libpq-dev and answers without the server, hence the initdb check.
        guard
            let dir = try? run(["/usr/bin/env", "pg_config", "--bindir"]).trimmingCharacters(
                in: .whitespacesAndNewlines),
            FileManager.default.isExecutableFile(atPath: dir + "/initdb")
        else { return nil }
        return dir
    }()

    /// Whether the tests can start a server here (else they fail, saying to run `make deps`).
    public static var isInstalled: Bool { binDir != nil }

    /// A server of its own, stopped when the object is released. Tests use ``shared()``; this is for a test that
    /// calls ``restart()``, which would cut the connections of every test using the shared server meanwhile.
    public init() throws {
        guard let bin = Self.binDir else {
            throw Failure(
                description: "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `make deps`")
        }
        self.bin = bin
        // PostgreSQL refuses to run as root: then the server runs as `postgres` (made by Debian's package), which
        // must be able to enter the dir, so it goes under /tmp rather than a TMPDIR of root's.
        let root = geteuid() == 0
        asPostgres = root ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        directory = (root ? URL(fileURLWithPath: "/tmp") : FileManager.default.temporaryDirectory)
            .appendingPathComponent("mcpconn-pg-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if root {
            guard let pw = getpwnam("postgres") else {
                throw Failure(description: "no user `postgres`: run `make deps`")
            }
            guard chown(directory.path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
                throw Failure(description: "chown \(directory.path): errno \(errno)")
            }
        }
        port = try Self.freePort()
        watchdog = Pipe.closeOnExecBlocking()  // off the pool: see the type's comment
        // Every stored property is set: from here a throw runs deinit, and the watchdog cleans up.
        try startWatchdog()
        try run(
            asPostgres + [
                "\(bin)/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N",
            ])
        // Settings after initdb's own win. No fsync (nor initdb's sync, -N): the data goes with the temp dir, and
        // syncing would make every commit and the set-up wait for the disk; a clean stop or restart keeps the data,
        // only an OS crash could lose it.
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/postgresql.conf"))
        try conf.seekToEnd()
        try conf.write(
            contentsOf: Data(
                """

                # PostgresServer (Tests/TestSupport): loopback only, the socket in the temp dir, no fsync.
                port = \(port)
                listen_addresses = '127.0.0.1'
                unix_socket_directories = '\(directory.path)'
                fsync = off
                shared_buffers = 16MB
                password_encryption = 'scram-sha-256'

                """.utf8))
        try conf.close()
        // Trust, except for the roles of createDatabaseWithPassword, all members of pw_users ("+": members of a
        // role; a regular expression for user names, /^pw_, needs PostgreSQL 16, and Debian 12 has 15). The first
        // matching line wins. Written in place (not atomically), so the file stays the server's.
        try """
        local all all trust
        host all +pw_users 127.0.0.1/32 scram-sha-256
        host all all 127.0.0.1/32 trust

        """.write(toFile: data + "/pg_hba.conf", atomically: false, encoding: .utf8)
        try pgctl("start")
        try psql("postgres", "CREATE ROLE pw_users NOLOGIN")
    }

    deinit { try? watchdog.fileHandleForWriting.close() }

    /// A fresh, empty database owned by a role of its own (not a superuser), which the server trusts:
    /// `postgresql://db_N@127.0.0.1:PORT/db_N`.
    public func createDatabase() throws -> String {
        let name = "db_\(next())"
        try psql("postgres", "CREATE ROLE \(name) LOGIN; CREATE DATABASE \(name) OWNER \(name);")
        return "postgresql://\(name)@127.0.0.1:\(port)/\(name)"
    }

    /// The same, for a role (`pw_N`) with a random password that the server checks (scram-sha-256); the URL
    /// has no password.
    public func createDatabaseWithPassword() throws -> (url: String, user: String, password: String) {
        let name = "pw_\(next())"
        let password = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        try psql(
            "postgres",
            "CREATE ROLE \(name) LOGIN PASSWORD '\(password)' IN ROLE pw_users; CREATE DATABASE \(name) OWNER \(name);")
        return ("postgresql://\(name)@127.0.0.1:\(port)/\(name)", name, password)
    }

    /// Runs SQL as the superuser on `database` (a name, or a URL's path: `db_N`), stopping at the first error;
    /// returns what it printed, unaligned and without headers (`-At`: `a|b` per row), trimmed.
    @discardableResult
    public func psql(_ database: String, _ sql: String) throws -> String {
        try run(
            [
                "\(bin)/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)",
                "-U", "postgres", "-d", database,
            ], stdin: sql
        ).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server (`-m fast`: its connections are cut) and starts it again, same port, same data.
    public func restart() throws { try pgctl("restart", "-m", "fast") }

    private func next() -> Int {
        lock.withLock {
            counter += 1
            return counter
        }
    }

    /// `pg_ctl` with `-w`: it returns once the server accepts connections (postmaster.pid says "ready"), or fails
    /// when the postmaster exits or 90 s pass; then the error carries the log's tail.
    private func pgctl(_ args: String...) throws {
        do {
            // -t bounds a hang: a loaded two-core machine (the stress run) took over 30 s to start a server.
            try run(asPostgres + ["\(bin)/pg_ctl"] + args + ["-D", data, "-l", log, "-w", "-t", "90"])
        } catch {
            let tail = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(15)
            throw Failure(description: "\(error)\nserver log (\(log)):\n" + tail.joined(separator: "\n"))
        }
    }

    /// The watchdog: see the type's comment. Its stdin is the pipe; the write end is close-on-exec
    /// (`Pipe.closeOnExecBlocking()`), so no child of this process (a server under test, mcpconn) holds it open. Its output
    /// goes nowhere: it must not keep a test runner's stdout pipe open after the runner ends.
    private func startWatchdog() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        p.arguments =
            [
                "/bin/sh", "-c", #"trap "" INT TERM HUP; cat >/dev/null; d=$1; shift; "$@"; rm -rf "$d""#,
                "pg-watchdog",
                directory.path,
            ] + asPostgres + ["\(bin)/pg_ctl", "stop", "-D", data, "-m", "immediate", "-w"]
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        p.standardInput = watchdog
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.runGated()
    }

    @discardableResult
    private func run(_ argv: [String], stdin: String? = nil) throws -> String {
        try Self.run(argv, stdin: stdin, in: directory)
    }

    /// Runs a command to its end and returns its stdout; throws with its stderr when it fails. Output goes through
    /// files (a pipe read only at the end could fill and stall the command), in `dir` (default: the temp dir).
    @discardableResult
    static func run(_ argv: [String], stdin: String? = nil, in dir: URL? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        // No PGHOST, PGPASSWORD etc. of the caller's: every command names its server in full. A directory the
        // `postgres` user can enter, for the commands run as it.
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        p.currentDirectoryURL = dir ?? URL(fileURLWithPath: "/")
        let base = (dir ?? FileManager.default.temporaryDirectory).appendingPathComponent("cmd-\(UUID().uuidString)")
        let (inURL, outURL, errURL) = (
            base.appendingPathExtension("in"), base.appendingPathExtension("out"),
            base.appendingPathExtension("err")
        )
        defer { for u in [inURL, outURL, errURL] { try? FileManager.default.removeItem(at: u) } }
        FileManager.default.createFile(
            atPath: inURL.path, contents: Data((stdin ?? "").utf8), attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: outURL.path, contents: nil, attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: errURL.path, contents: nil, attributes: [.posixPermissions: 0o600])
        let (i, o, e) = (
            try FileHandle(forReadingFrom: inURL), try FileHandle(forWritingTo: outURL),
            try FileHandle(forWritingTo: errURL)
        )
        defer { for h in [i, o, e] { try? h.close() } }
        p.standardInput = i
        p.standardOutput = o
        p.standardError = e
        try p.runGated()
        let status = waitForExit(p)
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw Failure(description: "\(argv.joined(separator: " ")) failed (\(status)): \(err)\(out)")
        }
        return out
    }

    /// Blocks until the child ends and returns its status (128 + signal when a signal ended it). Read with
    /// waitid(WNOWAIT), which leaves the reaping to Foundation, rather than waitUntilExit, which waits for
    /// Foundation's notification (once lost in this suite: see ExitWatch).
    private static func waitForExit(_ p: Process) -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(p.processIdentifier), &info, WEXITED | WNOWAIT) != 0 {
            guard errno == EINTR else {  // Foundation reaped it first
                p.waitUntilExit()
                return p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
            }
        }
        #if os(Linux)
            let code = info._sifields._sigchld.si_status
        #else
            let code = info.si_status
        #endif
        return info.si_code == CLD_EXITED ? code : 128 + code
    }

    /// A TCP port that was free a moment ago on 127.0.0.1 (the kernel's pick for port 0).
    private static func freePort() throws -> Int {
        #if os(Linux)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw Failure(description: "bind 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
