import Foundation
import GRDB
import GRDBSQLite

/// A ``StoreSession`` over a GRDB connection. Rows are read with SQLite's C API straight from the statement:
/// no GRDB `Row` per row (fleet commands and `list` read thousands).
struct SQLiteSession: StoreSession {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    /// Statements are compiled once per connection and kept (GRDB's statement cache): a write of 10,000 rows
    /// (`import`) runs the same INSERT and UPDATE 10,000 times, and compiling each again (SQLite's parser and
    /// GRDB's authorizer) was a tenth of its time.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func query(_ sql: String, _ arguments: [SQLValue], _ row: (any SQLCells) throws -> Void) throws {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(Self.arguments(arguments))
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        let cells = SQLiteCells(handle: handle)
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
            }
            try row(cells)
        }
    }

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(
            values.map { v -> DatabaseValue in
                switch v {
                case .null: return .null
                case .int(let i): return i.databaseValue
                case .double(let d): return d.databaseValue
                case .text(let s): return s.databaseValue
                case .bool(let b): return b.databaseValue
                case .date(let d): return Timestamp.storage(d).databaseValue
                }
            })
    }
}

/// The current row of a stepping SQLite statement.
struct SQLiteCells: SQLCells {
    let handle: OpaquePointer

    func isNull(_ i: Int) -> Bool { sqlite3_column_type(handle, Int32(i)) == SQLITE_NULL }
    func int64(_ i: Int) -> Int64 { sqlite3_column_int64(handle, Int32(i)) }
    func bool(_ i: Int) -> Bool { sqlite3_column_int64(handle, Int32(i)) != 0 }

    func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        guard let p = sqlite3_column_text(handle, Int32(i)) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, Int32(i))))
    }

    func date(_ i: Int) -> Date? {
        if isNull(i) { return nil }
        if let d = Timestamp.parse(bytes(i)) { return d }
        // Another shape GRDB reads (a Julian day number, a Unix time, a zone offset): its own parser.
        let value: DatabaseValue =
            sqlite3_column_type(handle, Int32(i)) == SQLITE_TEXT
            ? String(decoding: bytes(i), as: UTF8.self).databaseValue
            : sqlite3_column_double(handle, Int32(i)).databaseValue
        return Date.fromDatabaseValue(value)
    }
}
