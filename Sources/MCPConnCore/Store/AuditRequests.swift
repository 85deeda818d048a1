import Foundation

/// The `gateway_audit` table (schema v16): one row per `tools/call` through `serve` (``AuditWriter``).
enum AuditTable {
    static let name = "gateway_audit"
    static let columns = [
        "at", "user_id", "client", "connector", "tool", "args_digest", "args_sealed", "outcome", "latency_ms", "bytes",
    ]
}

/// One row of the audit trail: a call as ``AuditWriter`` made it from a ``CallRecord``.
public struct AuditEntry: Sendable, Equatable {
    public var time: Date
    public var user: Int64
    /// The client of `serve --http --clients`; nil for serve's single token or stdio.
    public var client: String?
    public var connector: String
    public var tool: String
    /// SHA-256 (hex) of the arguments as canonical JSON (``AuditEntry/digest(_:)``).
    public var argumentsDigest: String
    /// The arguments sealed under the store key (`serve --audit-args`); nil otherwise.
    var sealedArguments: String?
    /// A ``CallRecord/Outcome`` raw value.
    public var outcome: String
    public var milliseconds: Int
    /// The size of the answer as serialized (compact JSON).
    public var bytes: Int

    /// SHA-256 (lowercase hex) of `arguments` as canonical JSON (keys sorted by their UTF-8 bytes, no spaces):
    /// equal arguments, in whatever key order, give equal digests. No arguments count as `{}`.
    public static func digest(_ arguments: JSONValue?) -> String {
        PinnedForm.sha256(Array(canonicalText(arguments).utf8))
    }

    static func canonicalText(_ arguments: JSONValue?) -> String {
        (arguments ?? .object([:])).pinCanonical.compactText()
    }

    public var hasSealedArguments: Bool { sealedArguments != nil }

    /// The row as `audit --json` shows it; `arguments` when opened (`--show-args`).
    public func json(arguments: JSONValue? = nil) -> JSONValue {
        var o: JSONObject = [
            "time": .string(Timestamp.iso8601(time)), "user": .int(user),
            "client": client.map(JSONValue.string) ?? .null,
            "connector": .string(connector), "tool": .string(tool), "args_digest": .string(argumentsDigest),
            "outcome": .string(outcome), "latency_ms": .int(Int64(milliseconds)), "bytes": .int(Int64(bytes)),
            "args_sealed": .bool(sealedArguments != nil),
        ]
        if let arguments { o["arguments"] = arguments }
        return .object(o)
    }
}

/// What `audit` asks for: a user's rows, narrowed by client, connector and time; newest first.
public struct AuditQuery: Sendable {
    public var user: Int64
    public var client: String?
    public var connector: String?
    public var since: Date?
    public var limit: Int

    public init(user: Int64, client: String? = nil, connector: String? = nil, since: Date? = nil, limit: Int = 100) {
        self.user = user
        self.client = client
        self.connector = connector
        self.since = since
        self.limit = limit
    }
}

extension StoreSession {
    /// Adds `entries` (a batch, in this transaction).
    func insertAudit(_ entries: [AuditEntry]) throws {
        // One statement for up to 256 rows (2,560 values: within SQLite's and PostgreSQL's limits): on PostgreSQL
        // one round trip a batch, not one a row, while the store's connection is held.
        let row = "(" + Array(repeating: "?", count: AuditTable.columns.count).joined(separator: ", ") + ")"
        var start = 0
        while start < entries.count {
            let chunk = entries[start..<min(start + 256, entries.count)]
            start += chunk.count
            let sql =
                "INSERT INTO \(AuditTable.name) (\(AuditTable.columns.joined(separator: ", "))) VALUES "
                + Array(repeating: row, count: chunk.count).joined(separator: ", ")
            try execute(
                sql,
                chunk.flatMap { e -> [SQLValue] in
                    [
                        .date(e.time), .int(e.user), e.client.map(SQLValue.text) ?? .null, .text(e.connector),
                        .text(e.tool), .text(e.argumentsDigest), e.sealedArguments.map(SQLValue.text) ?? .null,
                        .text(e.outcome), .int(Int64(e.milliseconds)), .int(Int64(e.bytes)),
                    ]
                })
        }
    }

    /// The rows `q` asks for, newest first.
    func audit(_ q: AuditQuery) throws -> [AuditEntry] {
        var conditions = ["user_id = ?"]
        var arguments: [SQLValue] = [.int(q.user)]
        if let client = q.client {
            conditions.append("client = ?")
            arguments.append(.text(client))
        }
        if let connector = q.connector {
            conditions.append("connector = ?")
            arguments.append(.text(connector))
        }
        if let since = q.since {
            conditions.append("at >= ?")
            arguments.append(.date(since))
        }
        var out: [AuditEntry] = []
        try query(
            """
            SELECT \(AuditTable.columns.joined(separator: ", ")) FROM \(AuditTable.name) \
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY at DESC, id DESC LIMIT ?
            """,
            arguments + [.int(Int64(q.limit))]
        ) { c in
            out.append(
                AuditEntry(
                    time: c.date(0) ?? .distantPast, user: c.int64(1), client: c.text(2), connector: c.text(3) ?? "",
                    tool: c.text(4) ?? "", argumentsDigest: c.text(5) ?? "", sealedArguments: c.text(6),
                    outcome: c.text(7) ?? "", milliseconds: Int(c.int64(8)), bytes: Int(c.int64(9))))
        }
        return out
    }

    /// Removes a user's rows older than `before`; how many.
    func pruneAudit(user: Int64, before: Date) throws -> Int {
        try execute("DELETE FROM \(AuditTable.name) WHERE user_id = ? AND at < ?", [.int(user), .date(before)])
    }
}

/// `audit --since WHEN` and `--prune-before WHEN`: a time ago (`90s`, `15m`, `2h`, `7d`) or a UTC date
/// (`2026-12-01`, `2026-12-01T08:00:00Z`).
public enum AuditTime {
    public static func parse(_ text: String, now: Date = Date()) throws(MCPConnError) -> Date {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last.flatMap({ units[$0] }), let n = Int(text.dropLast()), n >= 0, n <= 100_000 * 365 {
            return now.addingTimeInterval(-Double(n) * unit)
        }
        var t = text.hasSuffix("Z") ? String(text.dropLast()) : text
        if t.utf8.count == 10 { t += " 00:00:00" }
        if let date = Timestamp.parse(t) { return date }
        throw .usage(
            "WHEN is a time ago (like 15m, 2h, 7d) or a UTC date (like 2026-12-01 or 2026-12-01T08:00:00Z), not '\(TerminalText.escape(text))'"
        )
    }
}
