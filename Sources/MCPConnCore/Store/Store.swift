import Foundation
import GRDB

/// The SQLite store: one database file (mode 0600, WAL) shared safely by concurrent mcpconn processes.
public final class Store: Sendable {
    /// The path of the database file.
    public let path: String
    let queue: DatabaseQueue

    /// Opens (creating if needed) and migrates the database at `path`.
    public init(path: String) throws(MCPConnError) {
        self.path = path
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
            queue = try DatabaseQueue(path: path, configuration: config)
            try Schema.migrateIfNeeded(queue)
        } catch let e as DatabaseError {
            throw .config("cannot open the database \(path): \(e.message ?? e.description)")
        } catch {
            throw .config("cannot open the database \(path): \(error)")
        }
    }

    /// Runs a read.
    func read<T>(_ body: (Database) throws -> T) throws(MCPConnError) -> T {
        do { return try queue.read(body) } catch { throw Store.map(error) }
    }

    /// Runs a write in one (immediate) transaction.
    func write<T>(_ body: (Database) throws -> T) throws(MCPConnError) -> T {
        do { return try queue.write(body) } catch { throw Store.map(error) }
    }

    static func map(_ error: any Error) -> MCPConnError {
        if let e = error as? MCPConnError { return e }
        if let e = error as? DatabaseError {
            return .config("database error: \(e.message ?? e.description)")
        }
        return .config("database error: \(error)")
    }

    /// Runs SQLite's integrity check; "ok" when the file is sound.
    public func integrityCheck() throws(MCPConnError) -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}
