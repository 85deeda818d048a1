import Foundation

/// The `gateway_clients` table (schema v14): one row per client of `serve --http --clients`, sealed under the
/// store key like a connector's row, so that a writer of the store without the key cannot add a client, widen
/// its rules or rate, move it to another user, or swap in the hash of a token of its own (docs/security.md).
enum ClientTable {
    static let name = "gateway_clients"
    /// The sealed columns, in the order of the seal.
    static let columns = ["name", "user_id", "token_hash", "access", "rate_per_minute", "metrics"]

    static func fields(_ client: GatewayClient) -> [RecordSeal.Field] {
        let values: [String?] = [
            client.name, String(client.user), client.tokenHash, client.access.columnText,
            client.ratePerMinute.map(String.init), client.metrics ? "1" : "0",
        ]
        return zip(columns, values).map { RecordSeal.Field(name: $0, value: $1.map { Array($0.utf8) }) }
    }
}

/// The clients as read: those whose seal checks, and the names of those changed outside mcpconn (which count as
/// no client).
public struct StoredClients: Sendable, Equatable {
    public var intact: [GatewayClient] = []
    public var changedOutside: [String] = []
}

extension StoreSession {
    /// Every client, each checked against its seal; by name.
    func clients(_ seal: RecordSeal) throws -> StoredClients {
        var out = StoredClients()
        try query(
            "SELECT id, \(ClientTable.columns.joined(separator: ", ")), created_at, seal FROM \(ClientTable.name) ORDER BY name",
            []
        ) { c in
            let name = c.text(1) ?? ""
            guard let access = ClientAccess(columnText: c.text(4) ?? "") else {
                out.changedOutside.append(name)
                return
            }
            let client = GatewayClient(
                name: name, user: c.int64(2), access: access, ratePerMinute: c.isNull(5) ? nil : Int(c.int64(5)),
                metrics: c.bool(6), tokenHash: c.text(3) ?? "", createdAt: c.date(7) ?? .distantPast)
            // The access text must be the one sealed, byte for byte, not only one that reads the same.
            var fields = ClientTable.fields(client)
            fields[3].value = c.text(4).map { Array($0.utf8) }
            let changed = seal.changedFields(c.text(8), kind: ClientTable.name, id: c.int64(0), fields)
            if changed.isEmpty { out.intact.append(client) } else { out.changedOutside.append(name) }
        }
        return out
    }

    /// Adds `client`, sealed once it has its id; fails (65) when the name is taken.
    func insertClient(_ client: GatewayClient, _ seal: RecordSeal) throws {
        if try int("SELECT COUNT(*) FROM \(ClientTable.name) WHERE name = ?", [.text(client.name)]) ?? 0 > 0 {
            throw MCPConnError.data(
                "a client named '\(client.name)' exists already (client rotate gives it a new token)")
        }
        var id: Int64 = 0
        try query(
            """
            INSERT INTO \(ClientTable.name) (\(ClientTable.columns.joined(separator: ", ")), created_at, updated_at) \
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            values(client) + [.date(client.createdAt), .date(client.createdAt)]
        ) { id = $0.int64(0) }
        try execute(
            "UPDATE \(ClientTable.name) SET seal = ? WHERE id = ?",
            [.text(seal.seal(kind: ClientTable.name, id: id, ClientTable.fields(client))), .int(id)])
    }

    /// Gives client `name` the token hash `hash`, resealed; false when there is no such client.
    func setClientToken(_ name: String, hash: String, _ seal: RecordSeal) throws -> Bool {
        let stored = try clients(seal)
        guard var client = stored.intact.first(where: { $0.name == name }) else {
            if stored.changedOutside.contains(name) {
                throw MCPConnError.data(
                    "client '\(name)' was changed outside mcpconn: remove it and add it again")
            }
            return false
        }
        client.tokenHash = hash
        guard let id = try int("SELECT id FROM \(ClientTable.name) WHERE name = ?", [.text(name)]) else { return false }
        try execute(
            "UPDATE \(ClientTable.name) SET token_hash = ?, seal = ?, updated_at = ? WHERE id = ?",
            [
                .text(hash), .text(seal.seal(kind: ClientTable.name, id: id, ClientTable.fields(client))),
                .date(Date()), .int(id),
            ])
        return true
    }

    private func values(_ client: GatewayClient) -> [SQLValue] {
        [
            .text(client.name), .int(client.user), .text(client.tokenHash), .text(client.access.columnText),
            client.ratePerMinute.map { .int(Int64($0)) } ?? .null, .bool(client.metrics),
        ]
    }
}

/// The `gateway_rate_usage` table (schema v15): per client and replica of `serve --http --clients`, how many
/// requests that replica admitted since it started (a running total, written about once a second while it
/// admits any), so that every replica charges its own buckets with what the others admitted.
enum RateUsageTable {
    static let name = "gateway_rate_usage"
    /// Rows no replica wrote for this long are dropped: replicas that ended, or have long been idle.
    static let kept: TimeInterval = 24 * 3600
}

extension StoreSession {
    /// Writes this replica's running totals, and drops rows nobody wrote for a day.
    func writeRateUsage(replica: String, _ totals: [String: Int64], at now: Date) throws {
        for (client, admitted) in totals.sorted(by: { $0.key < $1.key }) {
            try execute(
                """
                INSERT INTO \(RateUsageTable.name) (client, replica, admitted, updated_at) VALUES (?, ?, ?, ?) \
                ON CONFLICT (client, replica) DO UPDATE SET admitted = excluded.admitted, updated_at = excluded.updated_at
                """,
                [.text(client), .text(replica), .int(admitted), .date(now)])
        }
        try execute(
            "DELETE FROM \(RateUsageTable.name) WHERE updated_at < ?", [.date(now - RateUsageTable.kept)])
    }

    /// The other replicas' running totals, of `clients` only when given: client → replica → admitted.
    func rateUsage(of clients: Set<String>?, except replica: String) throws -> [String: [String: Int64]] {
        var out: [String: [String: Int64]] = [:]
        try query(
            "SELECT client, replica, admitted FROM \(RateUsageTable.name) WHERE replica <> ?", [.text(replica)]
        ) { c in
            guard let client = c.text(0), clients?.contains(client) ?? true, let other = c.text(1) else { return }
            out[client, default: [:]][other] = c.int64(2)
        }
        return out
    }
}
