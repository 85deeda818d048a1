import Foundation

/// OAuth grants as stored: sealed with the other credentials, their non-secret token state in clear columns.
extension ConnectorStorage {
    /// Seals and stores a grant with its (non-secret) token state in one short write. With `onlyIfUnchanged`,
    /// only over the sealed credentials `c` holds: a refresh or logout must not write its result over an
    /// `update` or `login` another process made meanwhile (their change wins; this one fails, exit 1).
    @discardableResult
    func storeGrant(_ creds: Credentials, for c: Connector, switchToOAuth: Bool = false, onlyIfUnchanged: Bool = false)
        throws(MCPConnError) -> Connector
    {
        let key = try sealingKey()
        let uid = userID
        let id = c.id!
        return try store.write { db in
            guard var row = try db.connector(ConnectorFilter(userID: uid, id: id), lock: true) else {
                throw MCPConnError.notFound("connector '\(c.name)' was deleted meanwhile")
            }
            if onlyIfUnchanged, row.authConfig != c.authConfig || row.authType != c.authType {
                throw MCPConnError(
                    .failure,
                    "connector '\(c.name)': its credentials were changed by another process meanwhile; run the command again"
                )
            }
            try KeyGuard.checkForWrite(key, db)
            row.authConfig = SecretBox(key: key).seal(creds.fields.jsonBytes)
            row.tokenExpiresAt = creds.accessToken == nil ? nil : creds.expiresAt
            row.tokenRefreshable = creds.accessToken != nil && creds.refreshToken != nil
            if switchToOAuth { row.authType = .oauth }
            row.updatedAt = Date()
            try db.update(row)
            return row
        }
    }
}
