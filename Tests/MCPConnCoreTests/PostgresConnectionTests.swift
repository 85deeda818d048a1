import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `url` with `query` added to its query string (libpq applies query parameters after the URL's other parts).
private func adding(_ query: String, to url: String) -> String {
    url + (url.contains("?") ? "&" : "?") + query
}

/// The error `body` throws, nil if none.
private func postgresError(_ body: () throws -> Void) -> PostgresError? {
    do {
        try body()
        return nil
    } catch {
        return error as? PostgresError
    }
}

/// The connect error, nil if the connect succeeded.
private func connectError(_ url: String) -> MCPConnError? {
    do {
        _ = try PostgresConnection.connect(url: url, connectTimeout: 5)
        return nil
    } catch {
        return error
    }
}

@Suite("PostgresConnection without a server")
struct PostgresConnectionOfflineTests {
    @Test func closedPortIsAConfigurationErrorNamingTheStoreWithoutThePassword() throws {
        let error = try #require(connectError("postgresql://u:s3cretpw@127.0.0.1:1/x"))
        #expect(error.status == .configuration)
        #expect(error.message.hasPrefix("cannot connect to the PostgreSQL store at 127.0.0.1:1/x: "))
        #expect(!error.message.contains("s3cretpw"))
        #expect(!error.message.contains("\n"))
    }

    @Test func invalidURLIsAConfigurationErrorWithoutThePassword() throws {
        // libpq quotes the bad token, here the password itself.
        for url in [
            "postgresql://u:s3c%zzretpw@127.0.0.1:1/x", "postgresql://u:s3cretpw@127.0.0.1:1/x?bogus=1",
            "postgresql://u@127.0.0.1:1/x?password=s3c%zzretpw",
        ] {
            let error = try #require(connectError(url))
            #expect(error.status == .configuration)
            #expect(error.message.hasPrefix("invalid PostgreSQL URL: "), "\(error.message)")
            #expect(!error.message.contains("s3c"), "\(error.message)")
        }
    }

    @Test func urlPasswordsAreFoundAsWrittenAndDecoded() {
        #expect(
            PostgresConnection.urlPasswords("postgresql://u:p%40ss@h/db?password=q") == ["p%40ss", "p@ss", "q", "q"])
        #expect(PostgresConnection.urlPasswords("postgres://u@h:5432/db").isEmpty)
        #expect(PostgresConnection.scrub("a pw and pw2", ["pw", "pw2"]) == "a *** and ***")
    }
}

/// libpq's calls block their thread, so each test runs its connection's work in offPool (off Swift's 2-thread
/// cooperative pool) and checks what it returns.
@Suite("PostgresConnection against a server", .timeLimit(.minutes(2)))
struct PostgresConnectionTests {
    /// Runs `body` off the pool with a connection to a fresh database and that database's URL.
    func withFreshDatabase<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, String) throws -> T
    ) async throws -> T {
        try await offPool {
            let url = try PostgresServer.shared().createDatabase()
            return try body(try PostgresConnection.connect(url: url), url)
        }
    }

    @Test func parametersRoundTripAsText() async throws {
        let text = "hé ✓ 'quoted' \"and\" $1 \\"
        let (affected, rows, columns, values, nulls, textBytes, encoding) = try await withFreshDatabase { c, _ in
            try c.run("CREATE TABLE t (a text, b text, c boolean, d integer, e timestamptz)")
            let affected = try c.execute(
                "INSERT INTO t VALUES ($1, $2, $3, $4, $5)", [text, nil, "true", "-42", "2026-01-02T03:04:05.25+02:00"]
            ).affectedRows
            let r = try c.execute("SELECT e, d, c, b, a FROM t WHERE d = $1", ["-42"])
            let columns = ["a", "b", "c", "d", "e", "missing"].map { r.columnIndex($0) }
            return (
                affected, r.rowCount, columns, (0..<r.columnCount).map { r.string(0, $0) },
                (0..<r.columnCount).map { r.isNull(0, $0) }, r.bytes(0, 4).count,
                try c.execute("SHOW client_encoding", []).string(0, 0)
            )
        }
        #expect(affected == 1 && rows == 1)
        #expect(columns == [4, 3, 2, 1, 0, nil])
        // TimeZone=UTC and DateStyle=ISO, set at connect.
        #expect(values == ["2026-01-02 01:04:05.25+00", "-42", "t", nil, text])
        #expect(nulls == [false, false, false, true, false])
        #expect(textBytes == text.utf8.count)
        #expect(encoding == "UTF8")
    }

    @Test func uniqueViolationHasItsSQLState() async throws {
        let (error, count) = try await withFreshDatabase { c, _ in
            try c.run("CREATE TABLE u (k text PRIMARY KEY)")
            _ = try c.execute("INSERT INTO u VALUES ($1)", ["a"])
            let error = postgresError { _ = try c.execute("INSERT INTO u VALUES ($1)", ["a"]) }
            return (error, try c.execute("SELECT count(*) FROM u", []).string(0, 0))
        }
        #expect(error?.sqlState == "23505")
        #expect(error?.message.contains("duplicate key") == true)
        #expect(error?.connectionLost == false)
        #expect(count == "1")
    }

    @Test func nulInAParameterIsRefused() async throws {
        let (error, connected) = try await withFreshDatabase { c, _ in
            (postgresError { _ = try c.execute("SELECT $1::text", ["a\u{0}b"]) }, c.isConnected)
        }
        #expect(error?.sqlState == "22021" && error?.connectionLost == false)
        #expect(connected)
    }

    @Test func urlOptionsAreKeptButTimeZoneStaysUTC() async throws {
        let settings = try await withFreshDatabase { _, url in
            let options = "options=-c%20statement_timeout%3D1234%20-c%20TimeZone%3DEurope/Paris"
            let c = try PostgresConnection.connect(url: adding(options, to: url))
            return try ["statement_timeout", "TimeZone", "application_name"].map {
                try c.execute("SHOW \($0)", []).string(0, 0)
            }
        }
        #expect(settings == ["1234ms", "UTC", "mcpconn"])
    }

    @Test func notices() async throws {
        // Nothing to see here: libpq's default would print them on stderr, where mcpconn writes only its errors.
        let status = try await withFreshDatabase { c, _ in
            try c.run("DO $$ BEGIN RAISE NOTICE 'not for stderr'; RAISE WARNING 'nor this'; END $$")
            return c.isConnected
        }
        #expect(status)
    }

    @Test func passwordIsCheckedAndNeverShown() async throws {
        let (db, good, location, wrong) = try await offPool {
            let db = try PostgresServer.shared().createDatabaseWithPassword()
            let c = try PostgresConnection.connect(url: adding("password=\(db.password)", to: db.url))
            let wrong = connectError(adding("password=wr0ngpw", to: db.url))
            return (db, c.displayName, c.location, wrong)
        }
        #expect(good == db.url)
        #expect(location == db.url.split(separator: "@").last.map(String.init))
        #expect(wrong?.status == .configuration)
        #expect(wrong?.message.contains("password authentication failed") == true, "\(wrong?.message ?? "")")
        #expect(wrong.map { !$0.message.contains("wr0ngpw") && !$0.message.contains(db.password) } == true)
    }

    @Test func terminatedBackendIsAConnectionLost() async throws {
        let (own, ownConnected, other, otherConnected) = try await withFreshDatabase { c, url in
            let own = postgresError { _ = try c.execute("SELECT pg_terminate_backend(pg_backend_pid())", []) }
            let victim = try PostgresConnection.connect(url: url)
            let killer = try PostgresConnection.connect(url: url)
            let pid = try victim.execute("SELECT pg_backend_pid()", []).string(0, 0)
            // The timeout makes it wait until the backend has exited.
            _ = try killer.execute("SELECT pg_terminate_backend($1::int, 5000)", [pid])
            let other = postgresError { try victim.run("SELECT 1") }
            return (own, c.isConnected, other, victim.isConnected)
        }
        #expect(own?.connectionLost == true && !ownConnected)
        #expect(other?.connectionLost == true && !otherConnected)
    }

    @Test func closedConnectionFailsAsLost() async throws {
        let (error, connected) = try await withFreshDatabase { c, _ in
            c.close()
            c.close()
            return (postgresError { try c.run("SELECT 1") }, c.isConnected)
        }
        #expect(error?.connectionLost == true && !connected)
    }
}
