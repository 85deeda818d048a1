import Foundation

/// Which of one user's connectors a request reads. Every request is scoped to a user: another user's
/// connector is "not found".
struct ConnectorFilter {
    var userID: Int64
    var id: Int64? = nil
    var name: String? = nil
    var type: String? = nil
    var active: Bool? = nil
    var verified: Bool? = nil

    /// The connector `ref` names: an all-digit ref is an id, anything else a name.
    static func ref(_ ref: String, userID: Int64) -> ConnectorFilter {
        if let id = Int64(ref), ref.allSatisfy(\.isASCIIDigit) { return ConnectorFilter(userID: userID, id: id) }
        return ConnectorFilter(userID: userID, name: ref)
    }

    /// The condition after WHERE, with its arguments.
    var condition: (sql: String, arguments: [SQLValue]) {
        var sql = "\(Connector.Columns.userID.name) = ?"
        var arguments: [SQLValue] = [.int(userID)]
        func and(_ column: ConnectorColumn, _ value: SQLValue) {
            sql += " AND \(column.name) = ?"
            arguments.append(value)
        }
        if let id { and(Connector.Columns.id, .int(id)) }
        if let name { and(Connector.Columns.name, .text(name)) }
        if let type { and(Connector.Columns.connectorType, .text(type.lowercased())) }
        if let active { and(Connector.Columns.isActive, .bool(active)) }
        if let verified { and(Connector.Columns.isVerified, .bool(verified)) }
        return (sql, arguments)
    }
}

extension StoreSession {
    /// The connectors matching `filter`, by id, with `columns` read (the others keep their defaults).
    /// `lock` holds them for the rest of a write transaction (PostgreSQL; SQLite writers are one at a time).
    func connectors(
        _ filter: ConnectorFilter, columns: [ConnectorColumn] = Connector.Columns.all, lock: Bool = false
    ) throws -> [Connector] {
        let (condition, arguments) = filter.condition
        return try selectConnectors(where: "WHERE \(condition) ", arguments, columns: columns, lock: lock)
    }

    /// Every user's connectors, by id: only for the store-wide work of ``SealMigration``, `doctor` and serve's
    /// secrets kept in (every other read is scoped to one user through ``ConnectorFilter``).
    func everyConnector(lock: Bool, columns: [ConnectorColumn] = Connector.Columns.all) throws -> [Connector] {
        try selectConnectors(where: "", [], columns: columns, lock: lock)
    }

    private func selectConnectors(
        where condition: String, _ arguments: [SQLValue], columns: [ConnectorColumn], lock: Bool
    ) throws -> [Connector] {
        let sql = """
            SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(Connector.table) \
            \(condition)ORDER BY id\(lock ? dialect.forUpdate : "")
            """
        var out: [Connector] = []
        try query(sql, arguments) { cells in out.append(Connector(cells, columns)) }
        return out
    }

    /// The one connector matching `filter`, if any.
    func connector(_ filter: ConnectorFilter, lock: Bool = false) throws -> Connector? {
        try connectors(filter, lock: lock).first
    }

    /// Inserts a connector, setting its new id.
    func insert(_ connector: inout Connector) throws {
        let columns = Connector.Columns.all.filter { $0.name != Connector.Columns.id.name }
        let sql = """
            INSERT INTO \(Connector.table) (\(columns.map(\.name).joined(separator: ", "))) \
            VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", "))) RETURNING id
            """
        var id: Int64?
        try query(sql, columns.map { $0.value(connector) }) { id = $0.int64(0) }
        connector.id = id
    }

    /// Writes every column of a stored connector.
    func update(_ connector: Connector) throws {
        let columns = Connector.Columns.all.filter { $0.name != Connector.Columns.id.name }
        try update(id: connector.id ?? 0, userID: connector.userID, columns.map { ($0, $0.value(connector)) })
    }

    /// Inserts a connector and seals it with `credentials` once it has its id, in the caller's transaction: the
    /// seals are written with a two-column update (a whole-row one made `import` of 10,000 servers 2× slower).
    func insert(_ connector: inout Connector, sealing credentials: Credentials?, with seals: ConnectorSeals) throws {
        connector.authConfig = nil
        connector.rowSeal = nil
        try insert(&connector)
        seals.seal(&connector, credentials: credentials)
        typealias C = Connector.Columns
        try update(
            id: connector.id ?? 0, userID: connector.userID,
            [(C.authConfig, C.authConfig.value(connector)), (C.rowSeal, C.rowSeal.value(connector))])
    }

    /// A value of the `meta` table (the key's fingerprint, the seal format); nil when not set.
    func meta(_ key: String) throws -> String? {
        try string("SELECT value FROM meta WHERE key = ?", [.text(key)])
    }

    func setMeta(_ key: String, _ value: String) throws {
        try execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [.text(key), .text(value)])
    }

    /// Sets some columns of a user's connector; returns whether it exists (the number of rows changed).
    @discardableResult
    func update(id: Int64, userID: Int64, _ values: [(ConnectorColumn, SQLValue)]) throws -> Int {
        let sql = """
            UPDATE \(Connector.table) SET \(values.map { "\($0.0.name) = ?" }.joined(separator: ", ")) \
            WHERE id = ? AND user_id = ?
            """
        return try execute(sql, values.map(\.1) + [.int(id), .int(userID)])
    }

    /// Deletes a connector (its history and claims go with it).
    func delete(_ connector: Connector) throws {
        try execute(
            "DELETE FROM \(Connector.table) WHERE id = ? AND user_id = ?",
            [.int(connector.id ?? 0), .int(connector.userID)])
    }
}
