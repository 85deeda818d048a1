import Foundation

/// A store in a PostgreSQL database that several hosts share: one connection per process, used by one
/// transaction at a time, reconnected when lost.
final class PostgresStore: Sendable {
    /// The URL as given (it may hold a password: never shown; needed for a second connection, see ``advisoryLock``).
    private let url: String
    /// The URL without its password, for messages and for bridges written into client configs.
    let displayURL: String
    /// `host:port/db`, for messages.
    let location: String
    /// One transaction at a time on the connection (a libpq connection is not thread-safe). Held across the
    /// transaction's network I/O, so a plain lock and not a `Locked`, whose sections must be short.
    private let oneTransaction = NSLock()
    private struct State {
        var connection: PostgresConnection?
        /// Why the store could not be reached again after a lost connection, and when: for a few seconds every
        /// transaction fails at once with it instead of waiting for another connect timeout.
        var unreachable: (error: MCPConnError, at: ContinuousClock.Instant)?
    }
    /// Never held across I/O, so ``lostError`` never waits for a transaction.
    private let state: Locked<State>
    /// Where ``Store/writeOffPool(_:)`` runs transactions: one serial thread, so no thread of Swift's pool waits
    /// on the network or on `oneTransaction`.
    let thread = DispatchQueue(label: "mcpconn.postgres")

    /// Keys of PostgreSQL advisory locks (one 64-bit space per database, shared with any other application):
    /// `MCPC` in the top bytes, then what is locked.
    static let migrationLock: Int64 = 0x4D43_5043_0000_0001
    static let keyGuardLock: Int64 = 0x4D43_5043_0000_0002
    static func refreshLockKey(_ connectorID: Int64) -> Int64 { 0x4D43_5044 << 32 | (connectorID & 0xFFFF_FFFF) }
    /// Held by an import's transaction: two imports of one user run one after the other, so neither fails on
    /// a name the other is inserting.
    static func importLockKey(_ userID: Int64) -> Int64 { 0x4D43_5045 << 32 | (userID & 0xFFFF_FFFF) }

    static func isURL(_ location: String) -> Bool {
        location.hasPrefix("postgresql://") || location.hasPrefix("postgres://")
    }

    /// Whether two store URLs name the same database (host, port and database name; user, password and
    /// parameters aside), so `import` knows a bridge to this very store whatever its spelling.
    static func sameDatabase(_ a: String, _ b: String) -> Bool {
        guard isURL(a), isURL(b), let x = databaseIdentity(a), let y = databaseIdentity(b) else { return false }
        return x == y
    }

    private static func databaseIdentity(_ url: String) -> String? {
        guard let u = PostgresURL(url) else { return nil }
        var host = u.hostPort.isEmpty ? "localhost" : u.hostPort.lowercased()
        // libpq's default port when none is given (an IPv6 address is bracketed: `[::1]:5433`).
        if !(host.hasPrefix("[") ? host.contains("]:") : host.contains(":")) { host += ":5432" }
        return host + "/" + u.path.dropFirst(u.path.first == "/" ? 1 : 0)
    }

    /// Connects and brings the schema up to date. A store that cannot be reached is a configuration error (78).
    init(url: String) throws(MCPConnError) {
        self.url = url
        let connection = try PostgresConnection.connect(url: url)
        displayURL = connection.displayName
        location = connection.location
        state = Locked(State(connection: connection))
        try migrateIfNeeded(connection)
    }

    // MARK: Transactions

    /// Runs `body` in one transaction (a read: each statement on its own, no BEGIN/COMMIT round trips). A
    /// deadlock or serialization failure between hosts is retried, and so, once, is a connection found lost
    /// before the commit was sent (the server rolled the work back: an idle connection a proxy or the server
    /// dropped, a restart). A connection lost at COMMIT leaves the outcome unknown: exit 69, like any loss that
    /// a new connection does not cure.
    func transaction<T>(readOnly: Bool, _ body: (any StoreSession) throws -> T) throws(MCPConnError) -> T {
        oneTransaction.lock()
        defer { oneTransaction.unlock() }
        var attempt = 0
        while true {
            attempt += 1
            let conn = try connected()
            let session = PostgresSession(connection: conn)
            var committing = false
            do {
                if readOnly { return try body(session) }
                try conn.run("BEGIN")
                let value = try body(session)
                committing = true
                try conn.run("COMMIT")
                return value
            } catch let e as PostgresError {
                if !readOnly, !e.connectionLost { try? conn.run("ROLLBACK") }
                if e.connectionLost, !committing, attempt == 1 { continue }
                if ["40001", "40P01"].contains(e.sqlState), attempt < 5 { continue }
                throw map(e)
            } catch {
                if !readOnly { try? conn.run("ROLLBACK") }
                throw Store.map(error)
            }
        }
    }

    /// Set when the store was lost and could not be reached again: the error fleet verbs end with (69), once.
    var lostError: MCPConnError? { state.withLock { $0.unreachable?.error } }

    /// The open connection, or a new one when the last was lost (a long `serve` outlives a server restart).
    /// Called with `oneTransaction` held.
    private func connected() throws(MCPConnError) -> PostgresConnection {
        let (current, recent) = state.withLock { ($0.connection, $0.unreachable) }
        if let current, current.isConnected { return current }
        current?.close()
        state.withLock { $0.connection = nil }
        if let recent, ContinuousClock.now - recent.at < .seconds(5) { throw recent.error }
        do throws(MCPConnError) {
            let fresh = try PostgresConnection.connect(url: url)
            state.withLock { $0 = State(connection: fresh, unreachable: nil) }
            return fresh
        } catch {
            // It was reached once: now it is gone.
            let lost = MCPConnError(.unavailable, "lost the PostgreSQL store: \(error.message)")
            state.withLock { $0.unreachable = (lost, .now) }
            throw lost
        }
    }

    private func map(_ e: PostgresError) -> MCPConnError {
        if e.connectionLost {
            return MCPConnError(
                .unavailable, "lost the connection to the PostgreSQL store at \(location): \(e.message)")
        }
        if e.sqlState == "23505" {
            return .data("the PostgreSQL store at \(location) refused a duplicate: \(e.message)")
        }
        return .config("PostgreSQL store at \(location): \(e.message)\(e.sqlState.map { " (SQLSTATE \($0))" } ?? "")")
    }

    // MARK: Schema

    /// Applies the migrations this store lacks, one host at a time (an advisory lock held by the transaction),
    /// and records them in `grdb_migrations` as GRDB does on SQLite.
    private func migrateIfNeeded(_ conn: PostgresConnection) throws(MCPConnError) {
        let known = Schema.migrations(.postgres)
        do throws(PostgresError) {
            let count = try conn.execute("SELECT COUNT(*) FROM grdb_migrations", [])
            if let n = count.string(0, 0).flatMap(Int.init), n >= known.count { return }
        } catch {
            // 42P01: no such table yet, a new store. Anything else is the store's problem.
            if error.sqlState != "42P01" { throw map(error) }
        }
        try transaction(readOnly: false) { db in
            try db.execute("SELECT pg_advisory_xact_lock(?)", [.int(Self.migrationLock)])
            try db.execute("CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)", [])
            let applied = Set(try db.strings("SELECT identifier FROM grdb_migrations").compactMap { $0 })
            for (name, statements) in known where !applied.contains(name) {
                for sql in statements { try db.execute(sql, []) }
                try db.execute("INSERT INTO grdb_migrations (identifier) VALUES (?)", [.text(name)])
            }
        }
    }

    // MARK: Locks held across network work

    /// A session-level advisory lock on a connection of its own, so it is held outside any transaction while a
    /// token endpoint is asked, and released by the server if this process dies. Tried without waiting and
    /// retried every 25 ms until `deadline`: no thread ever blocks on it.
    func advisoryLock(_ key: Int64, deadline: ContinuousClock.Instant) async throws(FileLock.Failure) -> any HeldLock {
        let conn: PostgresConnection
        do throws(MCPConnError) { conn = try PostgresConnection.connect(url: url) } catch {
            throw .unreachable(error.message)
        }
        let location = location
        let attempt = { () throws(FileLock.Failure) -> PostgresAdvisoryLock? in
            do throws(PostgresError) {
                let r = try conn.execute("SELECT pg_try_advisory_lock($1)", [String(key)])
                return r.string(0, 0) == "t" ? PostgresAdvisoryLock(connection: conn, key: key) : nil
            } catch {
                throw error.connectionLost
                    ? .unreachable("lost the connection to the PostgreSQL store at \(location): \(error.message)")
                    : .system("PostgreSQL store at \(location): \(error.message)")
            }
        }
        return try await FileLock.poll(until: deadline, giveUp: { conn.close() }, attempt)
    }
}

/// A lock held until released: a lock file (SQLite) or a PostgreSQL advisory lock.
protocol HeldLock: Sendable {
    func release()
}

extension FileLock: HeldLock {}

/// Its connection is its own, used by `release` only, once.
final class PostgresAdvisoryLock: HeldLock, Sendable {
    private let connection: PostgresConnection
    private let key: Int64

    init(connection: PostgresConnection, key: Int64) {
        self.connection = connection
        self.key = key
    }

    func release() {
        _ = try? connection.execute("SELECT pg_advisory_unlock($1)", [String(key)])
        connection.close()
    }
}

/// A ``StoreSession`` over a libpq connection: `?` placeholders become `$1…`, values go as text.
struct PostgresSession: StoreSession {
    let connection: PostgresConnection
    var dialect: SQLDialect { .postgres }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try connection.execute(Self.numbered(sql), arguments.map(Self.text)).affectedRows
    }

    func query(_ sql: String, _ arguments: [SQLValue], _ row: (any SQLCells) throws -> Void) throws {
        let result = try connection.execute(Self.numbered(sql), arguments.map(Self.text))
        var cells = PostgresCells(result: result, row: 0)
        for i in 0..<result.rowCount {
            cells.row = i
            try row(cells)
        }
    }

    /// `?` → `$n`, outside quoted text and identifiers (mcpconn's own SQL: no `?` operators).
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        for ch in sql {
            if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }

    static func text(_ value: SQLValue) -> String? {
        switch value {
        case .null: return nil
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        // PostgreSQL text cannot hold NUL (SQLSTATE 22021): kept as U+FFFD, as ``StoredText`` does for SQLite.
        case .text(let s): return StoredText.of(s)
        case .bool(let b): return b ? "t" : "f"
        case .date(let d): return Timestamp.storage(d) + "+00"
        }
    }
}

/// A row of a libpq result, in text format.
struct PostgresCells: SQLCells {
    let result: PostgresResult
    var row: Int

    func isNull(_ i: Int) -> Bool { result.isNull(row, i) }
    func bool(_ i: Int) -> Bool { result.bytes(row, i).first == UInt8(ascii: "t") }
    func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> { result.bytes(row, i) }

    func int64(_ i: Int) -> Int64 {
        let b = result.bytes(row, i)
        var value: Int64 = 0
        var negative = false
        for c in b {
            if c == UInt8(ascii: "-") { negative = true } else { value = value &* 10 &+ Int64(c &- 0x30) }
        }
        return negative ? -value : value
    }

    func date(_ i: Int) -> Date? {
        if isNull(i) { return nil }
        return Timestamp.parse(bytes(i)) ?? Timestamp.parseAnyShape(String(decoding: bytes(i), as: UTF8.self))
    }
}
