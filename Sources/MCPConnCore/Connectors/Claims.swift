import Foundation

/// `--claim SECONDS`: runners sharing a store (cron lines on several hosts, or several processes on one) split a
/// fleet. A runner works on a connector only after claiming it: no runner finished the same kind of check on it in
/// the last `freshFor` seconds, and none holds it now. A claim is a lease: a runner killed mid-work holds its
/// connectors only until `lease` seconds have passed.
public struct ClaimPolicy: Sendable {
    public var freshFor: Double
    public var lease: Double
    /// Who claims, for people looking at the table: `host:pid`.
    public var runner: String

    public init(freshFor: Double, lease: Double, runner: String = ClaimPolicy.thisRunner) {
        self.freshFor = freshFor
        self.lease = lease
        self.runner = runner
    }

    public static var thisRunner: String { "\(ProcessInfo.processInfo.hostName):\(getpid())" }
}

extension StoreSession {
    /// Claims one connector for `kind` if it is free: no lease on it, and not done within `freshFor`. One
    /// statement, so two runners racing for it cannot both win (PostgreSQL re-checks the condition on the row the
    /// winner committed; SQLite writes one at a time). The database's clock decides, not the runners'. False
    /// when another runner has it or did it recently, or the connector is gone.
    func claim(_ connectorID: Int64, userID: Int64, kind: HistoryEntry.Kind, policy: ClaimPolicy) throws -> Bool {
        let sql = """
            INSERT INTO connector_claims (connector_id, kind, runner, lease_until)
            SELECT id, ?, ?, \(dialect.nowPlusSeconds) FROM \(Connector.table) WHERE id = ? AND user_id = ?
            ON CONFLICT (connector_id, kind) DO UPDATE SET runner = excluded.runner, lease_until = excluded.lease_until
            WHERE connector_claims.lease_until < \(dialect.now)
              AND (connector_claims.done_at IS NULL OR connector_claims.done_at < \(dialect.nowPlusSeconds))
            """
        let changed = try execute(
            sql,
            [
                .text(kind.rawValue), .text(policy.runner), .double(policy.lease), .int(connectorID), .int(userID),
                .double(-policy.freshFor),
            ])
        return changed > 0
    }

    /// Ends a claim: done now, the lease over. A runner killed mid-work never gets here: its lease runs out and
    /// the connector, not done, is free again.
    func release(_ connectorID: Int64, kind: HistoryEntry.Kind, policy: ClaimPolicy) throws {
        try execute(
            """
            UPDATE connector_claims SET lease_until = \(dialect.now), done_at = \(dialect.now)
            WHERE connector_id = ? AND kind = ? AND runner = ?
            """,
            [.int(connectorID), .text(kind.rawValue), .text(policy.runner)])
    }
}

extension ConnectorSessions {
    /// Runs `work` on `c` if this runner can claim it (always, without a claim policy); nil when another runner
    /// has it or did it within the policy's window. A claim the store cannot record is the connector's failure.
    func claimed(
        _ c: Connector, kind: HistoryEntry.Kind, settings: NetworkSettings,
        _ work: @Sendable (Connector) async -> ConnectorReport
    ) async -> ConnectorReport? {
        // A lost store: nothing more can be recorded, so nothing more is started (the verb ends with its error).
        if store.lostError != nil { return nil }
        guard let policy = settings.claim else { return await work(c) }
        let uid = storage.userID
        let id = c.id ?? 0
        do throws(MCPConnError) {
            guard try await store.writeOffPool({ db in try db.claim(id, userID: uid, kind: kind, policy: policy) })
            else {
                return nil
            }
        } catch {
            return ConnectorReport(id: id, name: c.name, ok: false, error: ConnectorStorage.unsaved(c, error))
        }
        let report = await work(c)
        _ = try? await store.writeOffPool { db in try db.release(id, kind: kind, policy: policy) }
        return report
    }
}
