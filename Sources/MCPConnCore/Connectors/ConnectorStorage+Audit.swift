import Foundation

/// The audit trail of `serve` (issue 26; `audit`), and the secret values the gateway keeps in.
extension ConnectorStorage {
    /// This user's audit rows `query` asks for (its user is this storage's), newest first.
    public func audit(client: String?, connector: String?, since: Date?, limit: Int) throws(MCPConnError)
        -> [AuditEntry]
    {
        let q = AuditQuery(user: userID, client: client, connector: connector, since: since, limit: limit)
        return try store.read { db in try db.audit(q) }
    }

    /// Removes this user's audit rows older than `before`; how many went.
    public func pruneAudit(before: Date) throws(MCPConnError) -> Int {
        let uid = userID
        return try store.write { db in try db.pruneAudit(user: uid, before: before) }
    }

    /// The arguments of a row written with `serve --audit-args`, opened with the store key; nil for a row without.
    /// Fails when they do not open (another key, or moved from another row).
    public func auditArguments(_ entry: AuditEntry) throws(MCPConnError) -> JSONValue? {
        guard let sealed = entry.sealedArguments else { return nil }
        let box = CredentialBox(key: try seals().key)
        guard let plain = box.open(sealed, binding: Self.auditBinding(entry)),
            let value = try? JSONValue.parse(plain)
        else {
            throw .data("the sealed arguments of an audit row do not open: another key, or changed outside mcpconn")
        }
        return value
    }

    /// Seals arguments for `entry`: with the store's credential box, bound to the row's user, connector, tool and
    /// digest, so they open only beside the row they were written for (or one of the same call).
    func auditSealer() throws(MCPConnError) -> @Sendable (AuditEntry, String) -> String {
        let box = CredentialBox(key: try seals().key)
        return { entry, text in box.seal(Array(text.utf8), binding: Self.auditBinding(entry)) }
    }

    static func auditBinding(_ e: AuditEntry) -> CredentialBinding {
        CredentialBinding(
            userID: e.user, recordID: 0,
            purpose: "audit arguments \(e.argumentsDigest) \(e.connector) \(e.tool)")
    }

    /// Writes a batch of audit rows in one transaction, without blocking Swift's pool (``Store/writeOffPool(_:)``).
    func appendAudit(_ entries: [AuditEntry]) async throws(MCPConnError) {
        try await store.writeOffPool { db in try db.insertAudit(entries) }
    }

    /// Every secret value sealed in the store that this process can open, of every user's connectors: their
    /// credentials, OAuth tokens, client secrets, header and environment values (``Credentials/secretValues``).
    /// Rows whose credentials do not open are left out (nothing runs with them either).
    func storedSecrets() throws(MCPConnError) -> [String] {
        let seals = try self.seals()
        // Without the tool lists: a fleet's rows are read again at every change of the store.
        let rows = try store.read { db in
            try db.everyConnector(lock: false, columns: Connector.Columns.withoutLists)
        }
        var found = Set<String>()
        for row in rows where row.authConfig != nil {
            guard let creds = try? seals.open(row) else { continue }
            found.formUnion(creds.secretValues)
        }
        return Array(found)
    }
}
