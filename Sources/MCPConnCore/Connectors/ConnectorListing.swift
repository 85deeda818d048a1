import Foundation
import GRDB
import GRDBSQLite

/// `mcpconn list` read with SQLite's C API straight into output bytes.
///
/// A listing can cover tens of thousands of connectors, and the command is scripted in loops: building a
/// ``Connector`` (twenty-odd fields, a dozen strings) per row cost more than SQLite's own work. Here each cell
/// goes from SQLite's buffer to the output buffer once.
public enum ConnectorListing {
    /// Which output to produce.
    public enum Format: Sendable { case table, json }

    /// How a column is read and written.
    enum Kind { case int, text, optionalText, bool, date, optionalDate, presence, optionalJSONArray }

    /// One output column: its SQL expression, its JSON key or table header, and how to render it.
    struct Column {
        let sql: String
        let name: String
        let kind: Kind
    }

    static let tableColumns: [Column] = [
        Column(sql: "id", name: "ID", kind: .int),
        Column(sql: "name", name: "NAME", kind: .text),
        Column(sql: "connector_type", name: "TYPE", kind: .text),
        // OAuth token state without decrypting anything: renews itself, or expired (needs `login`).
        Column(
            sql: """
                CASE WHEN auth_type <> 'oauth' THEN auth_type WHEN token_refreshable THEN 'oauth (refreshable)' \
                WHEN token_expires_at < strftime('%Y-%m-%d %H:%M:%f', 'now') THEN 'oauth (expired)' ELSE 'oauth' END
                """, name: "AUTH", kind: .text),
        Column(sql: "is_active", name: "ACTIVE", kind: .bool),
        Column(sql: "is_verified", name: "VERIFIED", kind: .bool),
        Column(sql: "tool_count", name: "TOOLS", kind: .int),
        Column(sql: "server_url", name: "URL", kind: .text),
    ]

    /// The keys of ``Connector/json(includeTools:)``, in its order.
    static let jsonColumns: [Column] = [
        Column(sql: "id", name: "id", kind: .int),
        Column(sql: "user_id", name: "user_id", kind: .int),
        Column(sql: "name", name: "name", kind: .text),
        Column(sql: "description", name: "description", kind: .optionalText),
        Column(sql: "server_url", name: "server_url", kind: .text),
        Column(sql: "connector_type", name: "connector_type", kind: .text),
        Column(sql: "auth_type", name: "auth_type", kind: .text),
        Column(sql: "auth_config", name: "has_credentials", kind: .presence),
        Column(sql: "is_active", name: "is_active", kind: .bool),
        Column(sql: "is_verified", name: "is_verified", kind: .bool),
        Column(sql: "tool_count", name: "tool_count", kind: .int),
        Column(sql: "last_verified_at", name: "last_verified_at", kind: .optionalDate),
        Column(sql: "last_error", name: "last_error", kind: .optionalText),
        Column(sql: "protocol_version", name: "protocol_version", kind: .optionalText),
        Column(sql: "protocol_era", name: "protocol_era", kind: .optionalText),
        Column(sql: "transport", name: "transport", kind: .optionalText),
        Column(sql: "command", name: "command", kind: .optionalText),
        Column(sql: "command_args", name: "args", kind: .optionalJSONArray),
        Column(sql: "working_directory", name: "cwd", kind: .optionalText),
        Column(sql: "env_names", name: "env", kind: .optionalJSONArray),
        Column(sql: "server_name", name: "server_name", kind: .optionalText),
        Column(sql: "server_version", name: "server_version", kind: .optionalText),
        Column(sql: "token_expires_at", name: "token_expires_at", kind: .optionalDate),
        Column(sql: "token_refreshable", name: "token_refreshable", kind: .bool),
        Column(sql: "created_at", name: "created_at", kind: .date),
        Column(sql: "updated_at", name: "updated_at", kind: .date),
    ]

    /// Renders the rows matching `filter` (SQL after WHERE, with `arguments`) ordered by id, handing the
    /// output to `sink` in chunks of about 64 KiB. An empty table is empty output (no header); empty JSON is
    /// `[]`.
    static func render(
        _ db: Database, filter: String, arguments: StatementArguments, format: Format,
        to sink: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws {
        let columns = format == .table ? tableColumns : jsonColumns
        let sql = "SELECT \(columns.map(\.sql).joined(separator: ", ")) FROM user_mcp_connections WHERE \(filter) ORDER BY id"
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(arguments)
        let handle = statement.sqliteStatement
        // Kinds apart from the columns' strings: the per-cell loop then retains nothing.
        let kinds = columns.map(\.kind)
        var out = ChunkWriter(sink: sink)
        switch format {
        case .table:
            // Every width must be known before the first line, so cells are kept.
            var table = CellTable(header: columns.map(\.name))
            try step(handle, db) {
                for i in kinds.indices { table.appendCell(handle, Int32(i), kinds[i]) }
            }
            if table.rowCount > 0 { table.render(into: &out) }
        case .json:
            let keys = columns.map { "\"\($0.name)\": " }
            out.bytes.append(UInt8(ascii: "["))
            var first = true
            try step(handle, db) {
                out.bytes.append(first ? "\n  {" : ",\n  {")
                first = false
                for i in kinds.indices {
                    out.bytes.append(i == 0 ? "\n    " : ",\n    ")
                    out.bytes.append(keys[i])
                    writeJSON(handle, Int32(i), kinds[i], into: &out.bytes)
                }
                out.bytes.append("\n  }")
                out.flushIfFull()
            }
            out.bytes.append(first ? "]\n" : "\n]\n")
        }
        out.flush()
    }

    /// An output buffer handed to a sink each time it passes 64 KiB, so memory stays flat however many rows.
    struct ChunkWriter: ~Copyable {
        static let chunkSize = 1 << 16
        let sink: (UnsafeRawBufferPointer) -> Void
        var bytes = ByteBuffer(capacity: chunkSize + 4096)

        init(sink: @escaping (UnsafeRawBufferPointer) -> Void) { self.sink = sink }

        mutating func flushIfFull() { if bytes.count >= Self.chunkSize { flush() } }

        mutating func flush() {
            guard bytes.count > 0 else { return }
            sink(bytes.bytes)
            bytes.removeAll()
        }
    }

    /// Steps through every row, calling `body` on each.
    private static func step(_ handle: OpaquePointer, _ db: Database, _ body: () -> Void) throws {
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
            }
            body()
        }
    }

    // MARK: JSON cells

    private static func writeJSON(_ h: OpaquePointer, _ i: Int32, _ kind: Kind, into out: inout ByteBuffer) {
        var isNull: Bool { sqlite3_column_type(h, i) == SQLITE_NULL }
        switch kind {
        case .int: out.appendDecimal(sqlite3_column_int64(h, i))
        case .bool: out.append(sqlite3_column_int64(h, i) != 0 ? "true" : "false")
        case .presence: out.append(isNull ? "false" : "true")
        case .text, .optionalText:
            if isNull {
                out.append(kind == .text ? "\"\"" : "null")
            } else {
                JSONValue.writeString(utf8: text(h, i), to: &out)
            }
        case .optionalJSONArray:
            // Written compact by mcpconn itself (``Connector/strings(_:)`` reads it back); anything else is null.
            let t = isNull ? UnsafeBufferPointer<UInt8>(start: nil, count: 0) : text(h, i)
            if t.first == UInt8(ascii: "["), t.last == UInt8(ascii: "]") { out.append(t) } else { out.append("null") }
        case .date, .optionalDate:
            if isNull {
                out.append(kind == .date ? "\"1970-01-01T00:00:00Z\"" : "null")
            } else {
                out.append(UInt8(ascii: "\""))
                appendISO8601(text(h, i), to: &out)
                out.append(UInt8(ascii: "\""))
            }
        }
    }

    /// The text of a column, valid until the next step.
    private static func text(_ h: OpaquePointer, _ i: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let p = sqlite3_column_text(h, i) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(h, i)))
    }

    /// GRDB's storage format `YYYY-MM-DD HH:MM:SS[.SSS]` (UTC) becomes `YYYY-MM-DDTHH:MM:SSZ` by moving bytes;
    /// anything else goes through the date parser.
    static func appendISO8601(_ s: UnsafeBufferPointer<UInt8>, to out: inout ByteBuffer) {
        if Timestamp.hasStorageShape(s) {
            out.append(UnsafeBufferPointer(rebasing: s[0..<10]))
            out.append(UInt8(ascii: "T"))
            out.append(UnsafeBufferPointer(rebasing: s[11..<19]))
            out.append(UInt8(ascii: "Z"))
        } else {
            let value = String(decoding: s, as: UTF8.self).databaseValue
            let date = Timestamp.database(value) ?? Date(timeIntervalSince1970: 0)
            out.append(Timestamp.iso8601(date))
        }
    }

    /// Whether every byte is printable ASCII (0x20–0x7E), eight bytes at a time: almost every cell is.
    static func isPrintableASCII(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = s.baseAddress else { return true }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        while i + 8 <= s.count {
            let x = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            // A byte below 0x20 borrows into its high bit; one at 0x7F or above has it set after adding 1.
            if ((x &- ones &* 0x20) & ~x & highs) | (((x &+ ones) | x) & highs) != 0 { return false }
            i += 8
        }
        while i < s.count {
            if s[i] < 0x20 || s[i] >= 0x7F { return false }
            i += 1
        }
        return true
    }

    // MARK: Table cells

    /// Cells kept in one byte buffer, rendered once every column's width is known.
    struct CellTable: ~Copyable {
        /// Marks a cell end whose cell has non-ASCII bytes (its width is then counted in characters).
        static let wideFlag: UInt32 = 1 << 31
        let header: [String]
        /// Reserved large: only the pages written are ever backed by memory, and a buffer that grows by
        /// copying faults each page in again (faults were most of a 10,000-row listing's kernel time).
        var bytes = ByteBuffer(capacity: 16 << 20)
        /// Where each cell ends in `bytes`, with ``wideFlag``.
        var ends: [UInt32] = []
        var columnWidths: [Int]

        init(header: [String]) {
            self.header = header
            columnWidths = header.map(\.utf8.count)
            ends.reserveCapacity(1 << 20)
        }

        var rowCount: Int { ends.count / header.count }

        mutating func appendCell(_ h: OpaquePointer, _ i: Int32, _ kind: Kind) {
            let start = bytes.count
            var ascii = true
            switch kind {
            case .int: bytes.appendDecimal(sqlite3_column_int64(h, i))
            case .bool: bytes.append(sqlite3_column_int64(h, i) != 0 ? "yes" : "no")
            case .presence: bytes.append(sqlite3_column_type(h, i) != SQLITE_NULL ? "yes" : "no")
            case .date, .optionalDate:
                if sqlite3_column_type(h, i) != SQLITE_NULL { ConnectorListing.appendISO8601(text(h, i), to: &bytes) }
            case .text, .optionalText, .optionalJSONArray: ascii = appendText(text(h, i))
            }
            let width = ascii ? bytes.count - start : String(decoding: bytes.slice(start..<bytes.count), as: UTF8.self).count
            let column = Int(i)
            if width > columnWidths[column] { columnWidths[column] = width }
            ends.append(UInt32(bytes.count) | (ascii ? 0 : Self.wideFlag))
        }

        /// Appends text as a one-line cell: printable ASCII as it is (almost every cell, checked eight bytes
        /// at a time); anything else through ``TerminalText`` (controls, bidi and zero-width characters shown
        /// escaped, invalid UTF-8 replaced). True when the cell is all ASCII, one byte per column.
        private mutating func appendText(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
            if ConnectorListing.isPrintableASCII(s) {
                bytes.append(s)
                return true
            }
            let start = bytes.count
            TerminalText.append(s, .line, to: &bytes)
            return ConnectorListing.isPrintableASCII(bytes.slice(start..<bytes.count))
        }

        /// Header then rows, columns padded to their widest cell; the last column unpadded.
        func render(into out: inout ChunkWriter) {
            let n = header.count
            for (c, title) in header.enumerated() {
                out.bytes.append(title)
                if c < n - 1 { out.bytes.append(repeating: UInt8(ascii: " "), count: columnWidths[c] - title.utf8.count + 2) }
            }
            out.bytes.append(UInt8(ascii: "\n"))
            var start = 0
            var column = 0
            for flagged in ends {
                let end = Int(flagged & ~Self.wideFlag)
                let cell = bytes.slice(start..<end)
                out.bytes.append(cell)
                if column == n - 1 {
                    out.bytes.trimTrailing(UInt8(ascii: " "))
                    out.bytes.append(UInt8(ascii: "\n"))
                    out.flushIfFull()
                    column = 0
                } else {
                    let width = flagged & Self.wideFlag == 0 ? cell.count : String(decoding: cell, as: UTF8.self).count
                    out.bytes.append(repeating: UInt8(ascii: " "), count: columnWidths[column] - width + 2)
                    column += 1
                }
                start = end
            }
        }
    }
}

extension JSONValue {
    /// Writes UTF-8 bytes as a JSON string, repairing invalid UTF-8 as `String(decoding:)` does.
    static func writeString(utf8 s: UnsafeBufferPointer<UInt8>, to out: inout ByteBuffer) {
        if s.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
            out.append(UInt8(ascii: "\""))
            out.append(s)
            out.append(UInt8(ascii: "\""))
        } else {
            var escaped: [UInt8] = []
            writeString(String(decoding: s, as: UTF8.self), to: &escaped)
            out.append(escaped)
        }
    }
}
