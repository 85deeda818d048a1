import Foundation
import MCPConnTestSupport
import Testing

/// The PostgreSQL harness itself: fresh databases, the superuser's psql, password checks, a restart. Its calls
/// block, so they run in offPool, off the cooperative pool.
@Suite("PostgreSQL test server", .timeLimit(.minutes(2)))
struct PostgresServerTests {
    /// The database name, the last path component of a URL from createDatabase.
    static func name(_ url: String) -> String { String(url.split(separator: "/").last!) }

    /// `psql URL -c 'SELECT current_user'` as a client would connect, with PGPASSWORD when given; never prompts.
    static func connect(_ url: String, password: String?) async throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(PostgresServer.binDir) + "/psql")
        p.arguments = ["-X", "-w", "-A", "-t", "-c", "SELECT current_user", url]
        p.environment = ["PATH": "/usr/bin:/bin"].merging(password.map { ["PGPASSWORD": $0] } ?? [:]) { $1 }
        let out = await Pipe.closeOnExec()  // a line or two: the pipe cannot fill
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        let watch = ExitWatch(p)
        try await p.runOffPool()
        let status = await watch.wait()
        let text = String(decoding: await out.readToEnd(), as: UTF8.self)
        return (status, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func eachDatabaseIsNewAndEmpty() async throws {
        let (a, b, readBack, tablesInB) = try await offPool {
            let pg = try PostgresServer.shared()
            let (a, b) = (try pg.createDatabase(), try pg.createDatabase())
            try pg.psql(Self.name(a), "CREATE TABLE t (v text); INSERT INTO t VALUES ('hello');")
            return (
                a, b, try pg.psql(Self.name(a), "SELECT v FROM t"),
                try pg.psql(Self.name(b), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
        }
        #expect(a != b && a.hasPrefix("postgresql://db_") && a.contains("@127.0.0.1:"))
        #expect(readBack == "hello")
        #expect(tablesInB == "0")
        // The URL's own role gets in (trusted) and owns its database.
        let user = Self.name(a)
        #expect(try await Self.connect(a, password: nil) == (0, user))
    }

    @Test func aPasswordRoleNeedsItsPassword() async throws {
        let db = try await offPool { try PostgresServer.shared().createDatabaseWithPassword() }
        #expect(!db.url.contains(db.password) && db.url.contains(db.user))
        let wrong = try await Self.connect(db.url, password: "not-" + db.password)
        #expect(wrong.status != 0 && wrong.output.contains("password authentication failed"))
        let none = try await Self.connect(db.url, password: nil)
        #expect(none.status != 0 && none.output.contains("no password supplied"))
        #expect(try await Self.connect(db.url, password: db.password) == (0, db.user))
    }

    @Test func aRestartKeepsTheData() async throws {
        let (before, after) = try await offPool {
            // A server of its own: a restart of the shared one would cut the connections of tests running alongside.
            let pg = try PostgresServer()
            let db = Self.name(try pg.createDatabase())
            try pg.psql(db, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42);")
            let before = try pg.psql(db, "SELECT pg_postmaster_start_time()")
            try pg.restart()
            return (before, try pg.psql(db, "SELECT pg_postmaster_start_time() || ' ' || (SELECT v FROM kept)"))
        }
        #expect(after.hasSuffix(" 42"))
        #expect(!after.hasPrefix(before))  // a new postmaster
    }
}
