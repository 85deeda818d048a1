import Foundation

/// What sessions learn, written back: a server's identity, its tool, prompt and resource lists and their drift,
/// failures, history. Each write is one short transaction; network work never happens inside one. They come from
/// concurrent fleet work, so they suspend rather than block a thread of Swift's pool (``Store/writeOffPool(_:)``).
extension ConnectorStorage {
    /// Stores what a session learnt about its server (a short write; failures here are not the caller's).
    func remember(_ id: ServerIdentity, for c: Connector) async {
        _ = try? await store.writeOffPool { db in
            typealias C = Connector.Columns
            try db.update(
                id: c.id ?? 0, userID: c.userID,
                [
                    (C.protocolVersion, .text(id.protocolVersion)), (C.protocolEra, .text(id.era.rawValue)),
                    (C.transport, .text(id.transport)), (C.serverName, StoredText.of(id.name).sqlValue),
                    (C.serverVersion, StoredText.of(id.version).sqlValue),
                    (C.serverInstructions, StoredText.of(id.instructions).sqlValue),
                ])
        }
    }

    /// Stores what a discovery found (tools, prompts, resources, templates), its drift and a history entry;
    /// returns the drift (nil if the connector is gone).
    func recordSurface(
        _ c: Connector, _ surface: DiscoveredSurface, serverKey: String? = nil, kind: HistoryEntry.Kind,
        latencyMs: Int?
    ) async throws(MCPConnError) -> SurfaceDiff? {
        typealias C = Connector.Columns
        let lists = SurfaceKind.allCases.filter { !surface.unknown.contains($0) }.map { kind in
            (kind.column, SQLValue.text(JSONValue.array(surface[kind]).compactText()))
        }
        return try await store.writeOffPool { db -> SurfaceDiff? in
            guard let row = try db.connector(ConnectorFilter(userID: c.userID, id: c.id ?? 0), lock: true) else {
                return nil
            }
            let diff = SurfaceDiff.between(old: row.storedLists, new: surface)
            let now = Date()
            try db.update(
                id: row.id ?? 0, userID: row.userID,
                lists + (serverKey.map { [(C.serverKey, .text($0))] } ?? []) + [
                    (C.toolCount, .int(Int64(surface.tools.count))), (C.isVerified, .bool(true)),
                    (C.lastVerifiedAt, .date(now)), (C.lastError, .null), (C.updatedAt, .date(now)),
                ])
            try History.append(
                db, connectorID: c.id!, kind: kind, ok: true, latencyMs: latencyMs, error: nil, diff: diff)
            return diff
        }
    }

    /// Records a failure as the connector's last error and in history; returns the error if it could not be.
    func recordFailure(_ c: Connector, _ error: MCPConnError, kind: HistoryEntry.Kind, latencyMs: Int?)
        async -> MCPConnError?
    {
        typealias C = Connector.Columns
        let values: [(ConnectorColumn, SQLValue)] =
            [(C.lastError, .text(StoredText.of(error.message))), (C.updatedAt, .date(Date()))]
            + (kind == .verify ? [(C.isVerified, .bool(false))] : [])
        do throws(MCPConnError) {
            try await store.writeOffPool { db in
                if try db.update(id: c.id ?? 0, userID: c.userID, values) > 0 {
                    try History.append(
                        db, connectorID: c.id!, kind: kind, ok: false, latencyMs: latencyMs, error: error.message,
                        diff: nil)
                }
            }
            return nil
        } catch {
            return Self.unsaved(c, error)
        }
    }

    /// A result that could not be written: the store's error, naming the connector.
    static func unsaved(_ c: Connector, _ error: MCPConnError) -> MCPConnError {
        MCPConnError(error.status, "connector '\(c.name)': the result could not be stored: \(error.message)")
    }

    /// Records a health check in history; nothing when the connector was deleted meanwhile. Locked, so a
    /// delete on another host waits for this entry instead of racing it.
    /// An HTTPS server's certificate key seen by the check is stored too (`serverKey`; nil: none seen).
    func recordHealth(_ c: Connector, ok: Bool, latencyMs: Int?, error: String?, serverKey: String? = nil)
        async throws(MCPConnError)
    {
        try await store.writeOffPool { db in
            if try db.connector(ConnectorFilter(userID: c.userID, id: c.id ?? 0), lock: true) != nil {
                try History.append(
                    db, connectorID: c.id!, kind: .health, ok: ok, latencyMs: latencyMs, error: error, diff: nil)
                if let serverKey, serverKey != c.serverKey {
                    try db.update(id: c.id ?? 0, userID: c.userID, [(Connector.Columns.serverKey, .text(serverKey))])
                }
            }
        }
    }
}
