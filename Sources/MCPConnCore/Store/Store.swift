import Foundation
import GRDB

/// Where connectors live: one SQLite file (mode 0600, WAL) shared by the processes of one machine, or a
/// PostgreSQL database shared by many hosts. Everything above this type is the same for both.
public final class Store: Sendable {
    /// The database file, or the PostgreSQL URL without its password: safe to show.
    public let path: String
    let backend: Backend

    enum Backend: Sendable {
        case sqlite(DatabaseQueue)
        case postgres(PostgresStore)
    }

    /// Opens (creating if needed) and migrates the SQLite database at `path`.
    public init(path: String) throws(MCPConnError) {
        self.path = path
        backend = .sqlite(try Self.openSQLite(path))
    }

    private init(path: String, backend: Backend) {
        self.path = path
        self.backend = backend
    }

    /// Opens the store `location` names: a `postgresql://` (or `postgres://`) URL, else a SQLite file path.
    public static func open(_ location: String) throws(MCPConnError) -> Store {
        // `postgresql:/host/db` is a typo, not a file to create.
        if !PostgresStore.isURL(location), location.hasPrefix("postgres:") || location.hasPrefix("postgresql:") {
            // Not echoed: without `//` the URL cannot be split, so a password in it could not be left out.
            throw .usage(
                "a store location starting 'postgres:' without '//' is not a PostgreSQL URL: postgresql://[user@]host[:port]/database"
            )
        }
        if PostgresStore.isURL(location) {
            let pg = try PostgresStore(url: location)
            return Store(path: pg.displayURL, backend: .postgres(pg))
        }
        return try Store(path: location)
    }

    /// Set once a shared store was lost and could not be reached again; nil for SQLite.
    var lostError: MCPConnError? {
        if case .postgres(let pg) = backend { return pg.lostError }
        return nil
    }

    /// True for a PostgreSQL store, which several hosts may share.
    public var isShared: Bool {
        if case .postgres = backend { return true }
        return false
    }

    var dialect: SQLDialect { isShared ? .postgres : .sqlite }

    private static func openSQLite(_ path: String) throws(MCPConnError) -> DatabaseQueue {
        let dir = (path as NSString).deletingLastPathComponent
        try Paths.makeDirectory(dir)
        try Paths.createPrivateFile(path)
        var config = Configuration()
        // Several cron jobs may share one file: wait for locks instead of failing with SQLITE_BUSY.
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
            if mode.lowercased() != "wal" { try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            try Schema.migrateIfNeeded(queue)
            return queue
        } catch let e as DatabaseError {
            throw .config("cannot open the database \(path): \(e.message ?? e.description)")
        } catch {
            throw .config("cannot open the database \(path): \(error)")
        }
    }

    /// Runs a read.
    func read<T>(_ body: (any StoreSession) throws -> T) throws(MCPConnError) -> T {
        switch backend {
        case .sqlite(let queue):
            do { return try queue.read { db in try body(SQLiteSession(db: db)) } } catch { throw Store.map(error) }
        case .postgres(let pg): return try pg.transaction(readOnly: true, body)
        }
    }

    /// Runs a write like ``write(_:)`` without blocking a thread of Swift's cooperative pool meanwhile: the
    /// transaction runs on GRDB's queue (SQLite) or the store's own thread (PostgreSQL, where each statement is
    /// a network round trip and a reconnect may take seconds), and the caller suspends. For the writes of
    /// concurrent fleet work; a command doing one thing may as well block.
    func writeOffPool<T: Sendable>(_ body: @escaping @Sendable (any StoreSession) throws -> T)
        async throws(MCPConnError) -> T
    {
        switch backend {
        case .sqlite(let queue):
            do { return try await queue.write { db in try body(SQLiteSession(db: db)) } } catch {
                throw Store.map(error)
            }
        case .postgres(let pg):
            let result: Result<T, MCPConnError> = await withCheckedContinuation { continuation in
                pg.thread.async {
                    continuation.resume(
                        returning: Result { () throws(MCPConnError) in try pg.transaction(readOnly: false, body) })
                }
            }
            return try result.get()
        }
    }

    /// The key fingerprint this process has checked against the store's, so credentials opened one after the
    /// other (a fleet's) cost no read each.
    let checkedKey = CheckedKey()

    /// Runs a write in one transaction (on SQLite an immediate one: it excludes every other writer at once).
    func write<T>(_ body: (any StoreSession) throws -> T) throws(MCPConnError) -> T {
        switch backend {
        case .sqlite(let queue):
            do { return try queue.write { db in try body(SQLiteSession(db: db)) } } catch { throw Store.map(error) }
        case .postgres(let pg): return try pg.transaction(readOnly: false, body)
        }
    }

    static func map(_ error: any Error) -> MCPConnError {
        if let e = error as? MCPConnError { return e }
        if let e = error as? DatabaseError {
            return .config("database error: \(e.message ?? e.description)")
        }
        return .config("database error: \(error)")
    }

    /// A value that changes whenever another connection has written what a user's connectors hold: SQLite's
    /// `PRAGMA data_version` (any write by another connection); on PostgreSQL, which has no such counter, how
    /// many connectors the user has and when one last changed (every write of tools sets `updated_at`), how many
    /// approvals there are and the latest, how many gateway clients and the latest written, and the store's
    /// pinned-mode setting.
    func changeToken(userID: Int64) throws(MCPConnError) -> String {
        try read { s in
            if s.dialect == .sqlite { return String(try s.int("PRAGMA data_version") ?? 0) }
            var token = ""
            try s.query(
                "SELECT COUNT(*), MAX(\(Connector.Columns.updatedAt.name)) FROM \(Connector.table) WHERE user_id = ?",
                [.int(userID)]
            ) { c in token = "\(c.int64(0)) \(c.text(1) ?? "")" }
            try s.query("SELECT COUNT(*), MAX(approved_at) FROM \(PinTable.name)", []) { c in
                token += " \(c.int64(0)) \(c.text(1) ?? "")"
            }
            try s.query("SELECT COUNT(*), MAX(updated_at) FROM \(ClientTable.name)", []) { c in
                token += " \(c.int64(0)) \(c.text(1) ?? "")"
            }
            return token + " " + (try s.meta(PinPolicy.metaKey) ?? "")
        }
    }

    /// The lock that serializes the refresh of one connector's OAuth grant: across the processes of one machine
    /// (a lock file beside a SQLite store) or of every host (a PostgreSQL advisory lock).
    func refreshLock(connectorID: Int64, deadline: ContinuousClock.Instant) async throws(FileLock.Failure)
        -> any HeldLock
    {
        switch backend {
        case .sqlite: return try await FileLock.acquire(path: refreshLockName(connectorID), deadline: deadline)
        case .postgres(let pg):
            return try await pg.advisoryLock(PostgresStore.refreshLockKey(connectorID), deadline: deadline)
        }
    }

    /// What ``refreshLock(connectorID:deadline:)`` locks, for messages.
    func refreshLockName(_ connectorID: Int64) -> String {
        isShared
            ? "PostgreSQL advisory lock \(PostgresStore.refreshLockKey(connectorID))"
            : path + ".oauth-\(connectorID).lock"
    }

    /// SQLite's integrity check, "ok" when the file is sound; PostgreSQL keeps its own integrity: "ok".
    public func integrityCheck() throws(MCPConnError) -> String {
        guard case .sqlite = backend else { return "ok" }
        return try read { s in try s.strings("PRAGMA integrity_check").map { $0 ?? "" }.joined(separator: "; ") }
    }
}

/// A fingerprint remembered once checked.
final class CheckedKey: Sendable {
    private let fingerprint = Locked<String?>(nil)

    func isChecked(_ key: EncryptionKey) -> Bool { fingerprint.withLock { $0 == key.fingerprint } }
    func remember(_ key: EncryptionKey) { fingerprint.withLock { $0 = key.fingerprint } }
}
