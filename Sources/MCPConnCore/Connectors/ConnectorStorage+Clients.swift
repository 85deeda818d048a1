import Foundation

/// Gateway clients (issue 26; `client add/rotate/remove/list`): the identities `serve --http --clients` accepts,
/// kept in the sealed `gateway_clients` table. Clients belong to the store, not to a user: each names the user
/// whose connectors it reaches.
extension ConnectorStorage {
    /// Creates a client reaching the connectors of this storage's user; returns it and its token, which
    /// nothing keeps (only its hash is stored).
    public func addClient(
        name: String, access: ClientAccess, ratePerMinute: Int?, metrics: Bool
    ) throws(MCPConnError) -> (client: GatewayClient, token: String) {
        let name = try Self.clientName(name)
        let seals = try self.seals()
        let token = ClientToken.generate()
        let client = GatewayClient(
            name: name, user: userID, access: access, ratePerMinute: ratePerMinute, metrics: metrics,
            tokenHash: ClientToken.hashHex(token), createdAt: Date())
        try store.write { db in
            try KeyGuard.checkForWrite(seals.key, db)
            try db.insertClient(client, RecordSeal(key: seals.key))
        }
        return (client, token)
    }

    /// Gives client `name` a new token (the old one stops working); returns the new token.
    public func rotateClient(_ name: String) throws(MCPConnError) -> String {
        let seals = try self.seals()
        let token = ClientToken.generate()
        let found = try store.write { db in
            try KeyGuard.checkForWrite(seals.key, db)
            return try db.setClientToken(name, hash: ClientToken.hashHex(token), RecordSeal(key: seals.key))
        }
        guard found else { throw .notFound("no client '\(TerminalText.escape(name))'") }
        return token
    }

    /// Removes client `name` (changed outside mcpconn or not): its token stops working.
    public func removeClient(_ name: String) throws(MCPConnError) {
        let removed = try store.write { db in
            try db.execute("DELETE FROM \(ClientTable.name) WHERE name = ?", [.text(name)])
        }
        guard removed > 0 else { throw .notFound("no client '\(TerminalText.escape(name))'") }
    }

    /// Every client, checked against its seal.
    public func clients() throws(MCPConnError) -> StoredClients {
        let seal = RecordSeal(key: try seals().key)
        return try store.read { db in try db.clients(seal) }
    }

    /// A client's name: 1 to 64 letters, digits, `-`, `_` or `.`; it is shown in logs and listings.
    static func clientName(_ name: String) throws(MCPConnError) -> String {
        let ok = name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
        }
        guard ok, (1...64).contains(name.utf8.count) else {
            throw .usage(
                "a client name is 1 to 64 letters, digits, '-', '_' or '.', not '\(TerminalText.escape(name))'")
        }
        return name
    }
}

extension ConnectorStorage {
    /// Writes `totals`, this replica's running counts of admitted requests per client (nothing when empty), and
    /// reads the other replicas' for `clients` (``RateUsageTable``), in one transaction.
    func exchangeRateUsage(
        replica: String, totals: [String: Int64], clients: Set<String>?
    ) throws(MCPConnError) -> [String: [String: Int64]] {
        // Nothing to write (the usual tick): a read, which takes no write lock.
        guard !totals.isEmpty else { return try store.read { db in try db.rateUsage(of: clients, except: replica) } }
        return try store.write { db in
            try db.writeRateUsage(replica: replica, totals, at: Date())
            return try db.rateUsage(of: clients, except: replica)
        }
    }
}
