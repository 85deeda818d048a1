import Foundation

/// One recorded outcome of verify, refresh or health for a connector.
public struct HistoryEntry: Sendable, Equatable {
    public enum Kind: String, Sendable { case verify, refresh, health }

    public var id: Int64
    public var connectorID: Int64
    public var at: Date
    public var kind: Kind
    public var ok: Bool
    public var latencyMs: Int?
    public var error: String?
    public var diff: SurfaceDiff?

    /// The `history --json` entry.
    public var json: JSONValue {
        var o = JSONObject()
        o["id"] = .int(id)
        o["connector_id"] = .int(connectorID)
        o["at"] = .string(Timestamp.iso8601(at))
        o["kind"] = .string(kind.rawValue)
        o["ok"] = .bool(ok)
        o["latency_ms"] = latencyMs.map { .int($0) } ?? .null
        o["error"] = .optional(error)
        if let diff { for (key, value) in diff.json { o[key] = value } }
        return .object(o)
    }
}

/// The history table: appends, bounded per connector, and reads.
enum History {
    /// Entries kept per connector; older ones are dropped as new ones arrive.
    static let keepPerConnector = 1000

    static func append(
        _ db: any StoreSession, connectorID: Int64, kind: HistoryEntry.Kind, ok: Bool, latencyMs: Int?, error: String?,
        diff: SurfaceDiff?
    ) throws {
        try db.execute(
            """
            INSERT INTO connector_history (connector_id, at, kind, ok, latency_ms, error, diff)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .int(connectorID), .date(Date()), .text(kind.rawValue), .bool(ok), latencyMs.sqlValue,
                StoredText.of(error).sqlValue, diff.map { .text(JSONValue.object($0.json).compactText()) } ?? .null,
            ])
        try db.execute(
            """
            DELETE FROM connector_history WHERE connector_id = ? AND id <= (
              SELECT id FROM connector_history WHERE connector_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
            """, [.int(connectorID), .int(connectorID), .int(Int64(keepPerConnector))])
    }

    static func entries(_ db: any StoreSession, connectorID: Int64, limit: Int) throws -> [HistoryEntry] {
        var out: [HistoryEntry] = []
        try db.query(
            """
            SELECT id, connector_id, at, kind, ok, latency_ms, error, diff FROM connector_history
            WHERE connector_id = ? ORDER BY id DESC LIMIT ?
            """, [.int(connectorID), .int(Int64(limit))]
        ) { r in
            out.append(
                HistoryEntry(
                    id: r.int64(0), connectorID: r.int64(1), at: Date.read(r, 2),
                    kind: r.text(3).flatMap(HistoryEntry.Kind.init) ?? .health, ok: r.bool(4),
                    latencyMs: Int?.read(r, 5), error: r.text(6),
                    diff: r.text(7).flatMap { try? JSONValue.parse($0) }.map(SurfaceDiff.init(json:))))
        }
        return out
    }
}

extension ConnectorStorage {
    /// The newest `limit` history entries of a connector, newest first.
    public func history(_ ref: String, limit: Int = 20) throws(MCPConnError) -> (Connector, [HistoryEntry]) {
        let c = try get(ref)
        let entries = try store.read { db in try History.entries(db, connectorID: c.id!, limit: limit) }
        return (c, entries)
    }
}

extension HistoryEntry {
    /// The `history` table.
    public static func table(_ entries: [HistoryEntry]) -> String {
        var t = TextTable(header: ["TIME", "KIND", "OK", "LATENCY", "DETAIL"])
        for e in entries {
            let detail = e.error ?? e.diff?.summary ?? ""
            t.append([
                Timestamp.iso8601(e.at), e.kind.rawValue, e.ok ? "yes" : "no", e.latencyMs.map { "\($0) ms" } ?? "-",
                detail,
            ])
        }
        return t.render()
    }
}
