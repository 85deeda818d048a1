import Foundation
import GRDB

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
    public var diff: ToolDiff?

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
        if let diff {
            o["added"] = .array(diff.added.map(JSONValue.string))
            o["removed"] = .array(diff.removed.map(JSONValue.string))
            o["changed"] = .array(diff.changed.map(JSONValue.string))
        }
        return .object(o)
    }
}

/// The history table: appends, bounded per connector, and reads.
enum History {
    /// Entries kept per connector; older ones are dropped as new ones arrive.
    static let keepPerConnector = 1000

    static func append(
        _ db: Database, connectorID: Int64, kind: HistoryEntry.Kind, ok: Bool, latencyMs: Int?, error: String?,
        diff: ToolDiff?
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO connector_history (connector_id, at, kind, ok, latency_ms, error, diff)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                connectorID, Date(), kind.rawValue, ok, latencyMs, StoredText.of(error), diff.map { $0.json.compactText() },
            ])
        try db.execute(
            sql: """
                DELETE FROM connector_history WHERE connector_id = ? AND id <= (
                  SELECT id FROM connector_history WHERE connector_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
                """, arguments: [connectorID, connectorID, keepPerConnector])
    }

    static func entries(_ db: Database, connectorID: Int64, limit: Int) throws -> [HistoryEntry] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, connector_id, at, kind, ok, latency_ms, error, diff FROM connector_history
                WHERE connector_id = ? ORDER BY id DESC LIMIT ?
                """, arguments: [connectorID, limit]
        ).map { r in
            HistoryEntry(
                id: r["id"], connectorID: r["connector_id"], at: r["at"],
                kind: HistoryEntry.Kind(rawValue: r["kind"]) ?? .health, ok: r["ok"], latencyMs: r["latency_ms"],
                error: r["error"],
                diff: (r["diff"] as String?).flatMap { try? JSONValue.parse($0) }.map(ToolDiff.init(json:)))
        }
    }
}

extension ConnectorManager {
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
