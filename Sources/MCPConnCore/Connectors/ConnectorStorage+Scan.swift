extension ConnectorStorage {
    /// `scan`: the connectors `refs` name (or with `all` every active one) scanned as stored, with the tool names
    /// of all the user's connectors for the shadowing rule. Reads the store only: no server is asked.
    public func scan(_ refs: [String], all: Bool) throws(MCPConnError) -> ScanReport {
        let ids = try targets(refs, all: all).compactMap(\.id)
        let uid = userID
        let every = try store.read { db in try db.connectors(ConnectorFilter(userID: uid)) }
        let byID = Dictionary(every.map { ($0.id ?? 0, $0) }, uniquingKeysWith: { first, _ in first })
        return ToolScanner.scan(ids.compactMap { byID[$0] }, among: every)
    }
}
