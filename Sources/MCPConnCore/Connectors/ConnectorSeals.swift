import Foundation

/// What keeps a writer of the store without its key (another role of a shared PostgreSQL store) from reading
/// secrets or running commands (docs/security.md): each row's credentials sealed with an AEAD bound to the user, the
/// row and what they are for, and the row's security-relevant columns (``Connector/Columns/sealed``) authenticated by a
/// ``RecordSeal``. A row whose seal does not match is refused before anything connects or runs.
struct ConnectorSeals: Sendable {
    /// The store key the seals derive from (for ``KeyGuard`` checks in write transactions).
    let key: EncryptionKey
    private let box: CredentialBox
    private let record: RecordSeal

    init(key: EncryptionKey) {
        self.key = key
        box = CredentialBox(key: key)
        record = RecordSeal(key: key)
    }

    /// What a connector's credentials are for: its URL's origin, or its launch (program, arguments, working
    /// directory, environment names). Whatever a credential is sent to or handed to is in here.
    static func purpose(of row: Connector) -> String {
        guard let argv = row.commandLine else {
            return "origin " + (Origin(row.serverURL)?.text ?? row.serverURL)
        }
        var launch = JSONObject()
        launch["argv"] = .array(argv.map(JSONValue.string))
        launch["cwd"] = row.workingDirectory.map(JSONValue.string) ?? .null
        launch["env"] = .array(row.environmentNames.map(JSONValue.string))
        return "command " + JSONValue.object(launch).compactText()
    }

    private func binding(_ row: Connector) -> CredentialBinding {
        CredentialBinding(userID: row.userID, recordID: row.id ?? 0, purpose: Self.purpose(of: row))
    }

    private func fields(_ row: Connector, _ columns: [ConnectorColumn] = Connector.Columns.sealed)
        -> [RecordSeal.Field]
    {
        columns.map { RecordSeal.Field(name: $0.name, value: $0.value(row).sealBytes) }
    }

    /// Seals `credentials` for what `row` now says, then the row itself. The row must have its id.
    func seal(_ row: inout Connector, credentials: Credentials?) {
        precondition(row.id != nil, "a connector is sealed once it has an id")
        row.authConfig = credentials.map { box.seal($0.fields.jsonBytes, binding: binding(row)) }
        row.rowSeal = record.seal(kind: Connector.table, id: row.id!, fields(row))
    }

    /// Renews the row's seal after a change that leaves its credentials as they are (name, activity, auth type).
    /// Fails when the credentials no longer open for what the row says: they are never carried over to another
    /// origin or command this way.
    func reseal(_ row: inout Connector) throws(MCPConnError) {
        _ = try open(row)
        row.rowSeal = record.seal(kind: Connector.table, id: row.id ?? 0, fields(row))
    }

    /// Whether the row is intact under an earlier seal format, for ``SealMigration``: format 2 (before the `tls`
    /// column) or 3 (before `pinned` and `tool_filter`), the columns they did not seal at what those formats always
    /// wrote.
    func isIntactInEarlierFormat(_ row: Connector) -> Bool {
        guard !row.isPinned, row.toolFilterText == nil else { return false }
        func intact(_ columns: [ConnectorColumn]) -> Bool {
            record.changedFields(row.rowSeal, kind: Connector.table, id: row.id ?? 0, fields(row, columns)).isEmpty
        }
        return intact(Connector.Columns.sealedInFormat3)
            || (row.tlsConfig == nil && intact(Connector.Columns.sealedInFormat2))
    }

    /// The sealed columns whose values are not the ones mcpconn wrote; empty when the row is intact.
    func changedColumns(_ row: Connector) -> [String] {
        record.changedFields(row.rowSeal, kind: Connector.table, id: row.id ?? 0, fields(row))
    }

    /// Fails, naming the connector, what changed and how to accept it, unless the row is as mcpconn wrote it.
    func check(_ row: Connector) throws(MCPConnError) {
        let changed = changedColumns(row)
        guard !changed.isEmpty else { return }
        throw Self.changedOutside(row, changed)
    }

    static func changedOutside(_ row: Connector, _ changed: [String]) -> MCPConnError {
        let what =
            row.rowSeal == nil
            ? "was not written by mcpconn (it has no seal)"
            : "was changed outside mcpconn (\(changed.joined(separator: ", ")))"
        return .data(
            "connector '\(row.name)' \(what): nothing was run or sent; check it with `mcpconn get \(row.id ?? 0)`, then accept it with `mcpconn update \(row.id ?? 0) --accept-change`"
        )
    }

    /// The row's credentials, opened; nil when it has none. Fails when they do not open for this user, row and
    /// purpose (moved from another row, made for another origin or command, or damaged).
    func open(_ row: Connector) throws(MCPConnError) -> Credentials? {
        guard let sealed = row.authConfig else { return nil }
        guard let plain = box.open(sealed, binding: binding(row)), let v = try? JSONValue.parse(plain),
            let fields = v.objectValue
        else {
            throw .config(
                "the credentials of connector '\(row.name)' do not open: they were sealed for another connector, origin or command, or damaged; set them again with `mcpconn update \(row.id ?? 0) --secret-stdin`"
            )
        }
        return Credentials(fields: fields)
    }
}

extension SQLValue {
    /// The value's canonical bytes for a seal; nil for NULL.
    var sealBytes: [UInt8]? {
        switch self {
        case .null: return nil
        case .int(let i): return Array("i\(i)".utf8)
        case .double(let d): return Array("d\(d)".utf8)
        case .text(let t): return Array(("t" + t).utf8)
        case .bool(let b): return Array((b ? "b1" : "b0").utf8)
        case .date(let d): return Array("D\(d.timeIntervalSince1970)".utf8)
        }
    }
}
