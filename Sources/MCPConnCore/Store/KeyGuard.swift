/// Ties a store to one encryption key through a keyed fingerprint in the `meta` table,
/// so credentials sealed under different keys are never mixed.
enum KeyGuard {
    static let metaKey = "key_fingerprint"

    static func mismatch() -> MCPConnError {
        .config(
            "this store's credentials were encrypted with another key; set TOKEN_ENCRYPTION_KEY (or the key file) to the key used before"
        )
    }

    /// Checks `key` against the stored fingerprint before credentials are read.
    static func checkForRead(_ key: EncryptionKey, _ db: any StoreSession) throws {
        if let stored = try db.meta(metaKey),
            stored != key.fingerprint
        {
            throw mismatch()
        }
    }

    /// Whether any row holds something sealed under the store's key: credentials, a row seal, a gateway client.
    static func holdsSealedRows(_ db: any StoreSession) throws -> Bool {
        let sealed = try db.int(
            "SELECT COUNT(*) FROM user_mcp_connections WHERE auth_config IS NOT NULL OR row_seal IS NOT NULL")
        if (sealed ?? 0) > 0 { return true }
        return (try db.int("SELECT COUNT(*) FROM \(ClientTable.name)") ?? 0) > 0
    }

    /// Checks `key` before credentials are written, recording its fingerprint with the first secret.
    /// A store whose sealed values are all gone may adopt a new key: nothing is lost by that.
    static func checkForWrite(_ key: EncryptionKey, _ db: any StoreSession) throws {
        let fp = key.fingerprint
        // Two hosts sealing their first secret at once under different keys: one waits for the other's commit
        // and then sees its fingerprint (SQLite's write transactions are already one at a time).
        if db.dialect == .postgres {
            try db.execute("SELECT pg_advisory_xact_lock(?)", [.int(PostgresStore.keyGuardLock)])
        }
        let stored = try db.meta(metaKey)
        if stored == fp { return }
        if stored != nil {
            if try holdsSealedRows(db) { throw mismatch() }
        }
        try db.setMeta(metaKey, fp)
    }
}
