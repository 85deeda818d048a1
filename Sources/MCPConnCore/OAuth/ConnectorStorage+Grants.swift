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
        let seals = try self.seals()
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
            try seals.check(row)
            try KeyGuard.checkForWrite(seals.key, db)
            if switchToOAuth { row.authType = .oauth }
            seals.seal(&row, credentials: creds)
            row.tokenExpiresAt = creds.accessToken == nil ? nil : creds.expiresAt
            row.tokenRefreshable = creds.accessToken != nil && creds.refreshToken != nil
            row.updatedAt = Date()
            try db.update(row)
            return row
        }
    }

    /// Removes a connector's credentials and token state (a logout of a static token).
    func clearCredentials(of c: Connector) throws(MCPConnError) {
        let seals = try self.seals()
        let uid = userID
        try store.write { db in
            guard var row = try db.connector(ConnectorFilter(userID: uid, id: c.id ?? 0), lock: true) else { return }
            try seals.check(row)
            seals.seal(&row, credentials: nil)
            row.tokenExpiresAt = nil
            row.tokenRefreshable = false
            row.updatedAt = Date()
            try db.update(row)
        }
    }
}
