import GRDB

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
    static func checkForRead(_ key: EncryptionKey, _ db: Database) throws {
        if let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [metaKey]),
            stored != key.fingerprint
        {
            throw mismatch()
        }
    }

    /// Checks `key` before credentials are written, recording its fingerprint with the first secret.
    /// A store whose sealed values are all gone may adopt a new key: nothing is lost by that.
    static func checkForWrite(_ key: EncryptionKey, _ db: Database) throws {
        let fp = key.fingerprint
        let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [metaKey])
        if stored == fp { return }
        if stored != nil {
            let sealed = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM user_mcp_connections WHERE auth_config IS NOT NULL") ?? 0
            if sealed > 0 { throw mismatch() }
        }
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [metaKey, fp])
    }
}
