import Foundation

/// `mcpconn list` read from the database's own row buffers (SQLite's C API, libpq's result) straight into
/// output bytes.
///
/// A listing can cover tens of thousands of connectors, and the command is scripted in loops: building a
/// ``Connector`` (twenty-odd fields, a dozen strings) per row cost more than SQLite's own work. Here each cell
/// goes from the database's buffer to the output buffer once.
public enum ConnectorListing {
    /// Which output to produce.
    public enum Format: Sendable { case table, json }

    typealias Kind = ColumnDisplay

    /// One output column: its SQL expression, its JSON key or table header, and how to render it.
    struct Column {
        let sql: String
        let name: String
        let kind: Kind
    }

    static let tableColumns: [Column] = [
        Column(sql: C.id.name, name: "ID", kind: .int),
        Column(sql: C.name.name, name: "NAME", kind: .text),
        Column(sql: C.connectorType.name, name: "TYPE", kind: .text),
        // OAuth token state without decrypting anything: renews itself, or expired (needs `login`). The one `?`
        // is the current time.
        Column(
            sql: """
                CASE WHEN \(C.authType.name) <> 'oauth' THEN \(C.authType.name) \
                WHEN \(C.tokenRefreshable.name) THEN 'oauth (refreshable)' \
                WHEN \(C.tokenExpiresAt.name) < ? THEN 'oauth (expired)' ELSE 'oauth' END
                """, name: "AUTH", kind: .text),
        Column(sql: C.isActive.name, name: "ACTIVE", kind: .bool),
        Column(sql: C.isVerified.name, name: "VERIFIED", kind: .bool),
        Column(sql: C.toolCount.name, name: "TOOLS", kind: .int),
        Column(sql: C.serverURL.name, name: "URL", kind: .text),
    ]
    private typealias C = Connector.Columns

    /// The keys of ``Connector/json(includeLists:)``, in its order.
    static let jsonColumns: [Column] = Connector.Columns.shown.compactMap { c in
        c.json.map { Column(sql: c.name, name: $0.key, kind: $0.display) }
    }

    /// Renders the rows matching `filter` (SQL after WHERE, with `arguments`) ordered by id, handing the
    /// output to `sink` in chunks of about 64 KiB. An empty table is empty output (no header); empty JSON is
    /// `[]`.
    static func render(
        _ db: any StoreSession, filter: ConnectorFilter, format: Format,
        to sink: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws {
        let columns = format == .table ? tableColumns : jsonColumns
        let (condition, filterArguments) = filter.condition
        let sql =
            "SELECT \(columns.map(\.sql).joined(separator: ", ")) FROM \(Connector.table) WHERE \(condition) ORDER BY id"
        let arguments = (format == .table ? [.date(Date())] : []) + filterArguments
        // Kinds apart from the columns' strings: the per-cell loop then retains nothing.
        let kinds = columns.map(\.kind)
        var out = ChunkWriter(sink: sink)
        switch format {
        case .table:
            // Every width must be known before the first line, so cells are kept.
            var table = CellTable(header: columns.map(\.name))
            try db.query(sql, arguments) { cells in table.appendRow(cells, kinds) }
            if table.rowCount > 0 { table.render(into: &out) }
        case .json:
            let keys = columns.map { "\"\($0.name)\": " }
            out.bytes.append(UInt8(ascii: "["))
            var first = true
            try db.query(sql, arguments) { cells in
                out.bytes.append(first ? "\n  {" : ",\n  {")
                first = false
                writeJSONRow(cells, kinds, keys, into: &out.bytes)
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

    // MARK: JSON cells

    /// One row's members; the existential is opened once per row.
    private static func writeJSONRow<C: SQLCells>(_ h: C, _ kinds: [Kind], _ keys: [String], into out: inout ByteBuffer)
    {
        for i in kinds.indices {
            out.append(i == 0 ? "\n    " : ",\n    ")
            out.append(keys[i])
            writeJSON(h, i, kinds[i], into: &out)
        }
    }

    private static func writeJSON<C: SQLCells>(_ h: C, _ i: Int, _ kind: Kind, into out: inout ByteBuffer) {
        var isNull: Bool { h.isNull(i) }
        switch kind {
        case .int: out.appendDecimal(h.int64(i))
        case .bool: out.append(h.bool(i) ? "true" : "false")
        case .presence: out.append(isNull ? "false" : "true")
        case .text, .optionalText:
            if isNull {
                out.append(kind == .text ? "\"\"" : "null")
            } else {
                JSONValue.writeString(utf8: h.bytes(i), to: &out)
            }
        case .optionalJSONArray:
            // Written compact by mcpconn itself (``Connector/strings(_:)`` reads it back); anything else is null.
            let t = h.bytes(i)
            if t.first == UInt8(ascii: "["), t.last == UInt8(ascii: "]") { out.append(t) } else { out.append("null") }
        case .optionalJSONObject:
            // Written compact by mcpconn itself (``ConnectorTLS``); anything else is null.
            let t = h.bytes(i)
            if t.first == UInt8(ascii: "{"), t.last == UInt8(ascii: "}") { out.append(t) } else { out.append("null") }
        case .date, .optionalDate:
            if isNull {
                out.append(kind == .date ? "\"1970-01-01T00:00:00Z\"" : "null")
            } else {
                out.append(UInt8(ascii: "\""))
                appendISO8601(h.bytes(i), to: &out)
                out.append(UInt8(ascii: "\""))
            }
        }
    }

    /// A stored date, `YYYY-MM-DD HH:MM:SS[.SSS][+00]` (UTC), becomes `YYYY-MM-DDTHH:MM:SSZ` by moving bytes;
    /// anything else goes through the date parser.
    static func appendISO8601(_ s: UnsafeBufferPointer<UInt8>, to out: inout ByteBuffer) {
        if let s = Timestamp.utcBody(s) {
            out.append(UnsafeBufferPointer(rebasing: s[0..<10]))
            out.append(UInt8(ascii: "T"))
            out.append(UnsafeBufferPointer(rebasing: s[11..<19]))
            out.append(UInt8(ascii: "Z"))
        } else {
            out.append(Timestamp.iso8601(Timestamp.parseAnyShape(String(decoding: s, as: UTF8.self))))
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

        /// One row's cells; the existential is opened once per row.
        mutating func appendRow<C: SQLCells>(_ h: C, _ kinds: [Kind]) {
            for i in kinds.indices { appendCell(h, i, kinds[i]) }
        }

        mutating func appendCell<C: SQLCells>(_ h: C, _ i: Int, _ kind: Kind) {
            let start = bytes.count
            var ascii = true
            switch kind {
            case .int: bytes.appendDecimal(h.int64(i))
            case .bool: bytes.append(h.bool(i) ? "yes" : "no")
            case .presence: bytes.append(!h.isNull(i) ? "yes" : "no")
            case .date, .optionalDate:
                if !h.isNull(i) { ConnectorListing.appendISO8601(h.bytes(i), to: &bytes) }
            case .text, .optionalText, .optionalJSONArray, .optionalJSONObject: ascii = appendText(h.bytes(i))
            }
            let width =
                ascii ? bytes.count - start : String(decoding: bytes.slice(start..<bytes.count), as: UTF8.self).count
            let column = i
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
                if c < n - 1 {
                    out.bytes.append(repeating: UInt8(ascii: " "), count: columnWidths[c] - title.utf8.count + 2)
                }
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
