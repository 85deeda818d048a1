/// Brings rows written before row seals (schema v8) under them: on the first use of a store with its key, every
/// row without a seal gets one, and credentials still in the old secretbox form (`v1:`) are re-sealed bound to
/// their row (``ConnectorSeals``). Nothing is lost: a value that does not open is left as it was (and is refused
/// when used, as before). Afterwards mcpconn never writes the old form again, and a row without a seal is refused.
///
/// This trusts the rows as they are at that moment: the one time it can (docs/security.md says what that means
/// for a store someone else could write to meanwhile).
///
/// Format 3 adds the `tls` column to the sealed ones, format 4 `pinned` and `tool_filter`. A row sealed in format 2
/// or 3 is sealed again only once its seal checks in that format (and the columns added since hold what that format
/// always wrote: no `tls` for format 2, not pinned, no tool filter): nothing changed outside mcpconn is taken in on the way, and a row
/// that fails stays refused.
enum SealMigration {
    static let metaKey = "seal_format"
    static let current = "4"

    /// The store's seal format; nil before the first migration.
    static func format(_ db: any StoreSession) throws -> String? {
        try db.meta(metaKey)
    }

    /// Seals what needs it, in the caller's write transaction; returns how many rows it changed.
    @discardableResult
    static func run(_ key: EncryptionKey, _ db: any StoreSession) throws -> Int {
        // Holds the key guard's lock on PostgreSQL: hosts migrating at once take turns, and the later ones find
        // the format already current.
        try KeyGuard.checkForWrite(key, db)
        if try format(db) == current { return 0 }
        let legacy = SecretBox(key: key)
        let seals = ConnectorSeals(key: key)
        var changed = 0
        for var row in try db.everyConnector(lock: true) {
            if row.rowSeal != nil {
                // A row whose credentials no longer open stays as it is, refused as before.
                guard seals.isIntactInEarlierFormat(row), (try? seals.reseal(&row)) != nil else { continue }
                try db.update(row)
                changed += 1
                continue
            }
            var credentials: Credentials?
            if let sealed = row.authConfig {
                guard let plain = legacy.open(sealed), let fields = try? JSONValue.parse(plain).objectValue else {
                    continue
                }
                credentials = Credentials(fields: fields)
            }
            seals.seal(&row, credentials: credentials)
            try db.update(row)
            changed += 1
        }
        try db.setMeta(metaKey, current)
        return changed
    }
}
