/// One user's connectors in one store, in three parts with a seam between each: ``storage`` (the connectors,
/// their sealed credentials and history), ``sessions`` (MCP sessions to their servers, one at a time or over a
/// fleet) and ``oauth`` (logins and token refreshes). The command line holds one of these per process.
public final class ConnectorManager: Sendable {
    public let storage: ConnectorStorage
    public let sessions: ConnectorSessions
    public let oauth: OAuthGrants

    public init(store: Store, userID: Int64, keys: KeyProvider) {
        storage = ConnectorStorage(store: store, userID: userID, keys: keys)
        oauth = OAuthGrants(storage: storage)
        sessions = ConnectorSessions(storage: storage, oauth: oauth)
    }

    public var store: Store { storage.store }
    public var userID: Int64 { storage.userID }
}
