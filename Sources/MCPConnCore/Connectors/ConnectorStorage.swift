import Foundation

/// The storage side of a user's connectors: reading and writing them, sealing and opening their credentials,
/// and recording what sessions learn. Every lookup is scoped to `userID`, so another user's connector is
/// "not found". The same on SQLite and PostgreSQL (see ``Store``).
public final class ConnectorStorage: Sendable {
    public let store: Store
    public let userID: Int64
    public let keys: KeyProvider

    public init(store: Store, userID: Int64, keys: KeyProvider) {
        self.store = store
        self.userID = userID
        self.keys = keys
    }

    // MARK: Reading

    /// Finds a connector by id or name (an all-digit ref is an id).
    public func get(_ ref: String) throws(MCPConnError) -> Connector {
        let uid = userID
        let found = try store.read { db in try Self.lookup(ref, userID: uid, db) }
        guard let found else { throw .notFound("no connector '\(ref)' for user \(userID)") }
        return found
    }

    static func lookup(_ ref: String, userID: Int64, _ db: any StoreSession, lock: Bool = false) throws -> Connector? {
        try db.connector(.ref(ref, userID: userID), lock: lock)
    }

    /// Lists the user's connectors by id, optionally of one type and/or activity state.
    public func list(type: String? = nil, active: Bool? = nil) throws(MCPConnError) -> [Connector] {
        let filter = ConnectorFilter(userID: userID, type: type, active: active)
        return try store.read { db in try db.connectors(filter, columns: Connector.Columns.withoutLists) }
    }

    /// The connectors named by refs, or with `all` every active one; by id.
    public func targets(_ refs: [String], all: Bool) throws(MCPConnError) -> [Connector] {
        if all { return try list(active: true) }
        var out: [Connector] = []
        var seen: Set<Int64> = []
        for r in refs {
            let c = try get(r)
            if seen.insert(c.id ?? 0).inserted { out.append(c) }
        }
        return out.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
    }

    /// Writes the output of `mcpconn list` to `sink` in chunks, rendered straight from the database (see
    /// ``ConnectorListing``).
    public func listing(
        type: String? = nil, active: Bool? = nil, format: ConnectorListing.Format,
        to sink: @escaping (UnsafeRawBufferPointer) -> Void
    ) throws(MCPConnError) {
        let filter = ConnectorFilter(userID: userID, type: type, active: active)
        try store.read { db in
            if db.dialect == .sqlite {
                // A scan of the whole table reads through a mapping of the file instead of read() into SQLite's
                // page cache: no copies, and one page fault maps 16 pages (10,000 rows took ~330 faults to fill
                // the cache). Only here: an I/O error on a mapped page is a SIGBUS rather than an error SQLite
                // returns, and the other commands read a handful of pages.
                try db.execute("PRAGMA mmap_size = 268435456", [])
            }
            try ConnectorListing.render(db, filter: filter, format: format, to: sink)
        }
    }

    /// A value that changes whenever another process has written to the user's connectors: a cheap check
    /// before reading anything.
    public func storeVersion() throws(MCPConnError) -> String {
        try store.changeToken(userID: userID)
    }

    /// The stored tool list of each connector, as text (nil when never discovered), to notice a refresh.
    public func storedTools(_ ids: [Int64]) throws(MCPConnError) -> [Int64: String] {
        let uid = userID
        guard !ids.isEmpty else { return [:] }
        return try store.read { db in
            var out: [Int64: String] = [:]
            try db.query(
                """
                SELECT id, \(Connector.Columns.discoveredTools.name) FROM \(Connector.table) \
                WHERE user_id = ? AND id IN (\(ids.map { _ in "?" }.joined(separator: ", ")))
                """, [.int(uid)] + ids.map { .int($0) }
            ) { c in out[c.int64(0)] = c.text(1) }
            return out
        }
    }

    // MARK: Writing

    /// Adds a connector; the type is detected unless given.
    public func add(_ input: ConnectorInput) throws(MCPConnError) -> Connector {
        guard let rawName = input.name else { throw .usage("add needs a NAME") }
        if let launch = input.stdio, launch.commandLine != nil {
            return try addStdio(input, name: try Validate.name(rawName), launch: launch)
        }
        if let launch = input.stdio, !launch.isEmpty {
            throw .usage(
                "--env, --env-file, --cwd and --key-env are for local servers: add NAME [options] -- COMMAND [ARGS...]")
        }
        guard let rawURL = input.serverURL else {
            throw .usage("add needs a URL, or -- COMMAND [ARGS...] for a local server")
        }
        let name = try Validate.name(rawName)
        let url = try Validate.serverURL(rawURL)
        let auth = input.authType ?? .none
        let type =
            try input.type.map { t throws(MCPConnError) in try Registry.parseType(t).id }
            ?? Registry.detect(url: url, name: name).id
        var credentials = try credentials(for: auth, input: input, existing: nil)
        var row = Connector.new(
            userID: userID, name: name, description: input.description, serverURL: url, type: type, auth: auth)
        if let tlsInput = input.tls {
            let (tls, key) = try tlsInput.applied(to: ConnectorTLS(), storedKey: nil, serverURL: url)
            row.tlsConfig = tls.columnText
            credentials = Credentials.settingClientKey(key, in: credentials)
        }
        row.toolFilterText = try input.toolFilter(replacing: ToolFilter()).columnText
        return try insert(row, sealing: credentials)
    }

    /// Inserts a new connector with its credentials and columns sealed under the store's key (created on first
    /// use); the name must be free for the user. The row is sealed once it has its id, in the same transaction.
    func insert(_ new: Connector, sealing credentials: Credentials?) throws(MCPConnError) -> Connector {
        var row = new
        let seals = try self.seals()
        let uid = userID
        return try store.write { db in
            if try Self.lookup(row.name, userID: uid, db) != nil { throw Self.duplicate(row.name, uid) }
            try KeyGuard.checkForWrite(seals.key, db)
            try db.insert(&row, sealing: credentials, with: seals)
            return row
        }
    }

    /// Updates the given fields of a connector. Changing the URL marks it unverified.
    ///
    /// New credentials are merged with the stored ones (kept headers, an unchanged key) before the write
    /// transaction, where nothing may wait on a key file or a secret source. So the write checks that what the
    /// merge read is still what is stored; when another process changed it meanwhile, the update starts over
    /// rather than overwrite that change.
    public func update(_ ref: String, _ input: ConnectorInput) throws(MCPConnError) -> Connector {
        for _ in 0..<5 {
            if let updated = try updateOnce(ref, input) { return updated }
        }
        throw MCPConnError(
            .failure, "connector '\(ref)' kept changing in other processes during the update: run it again")
    }

    /// Whether what an update merged from (`read`) is still what `stored` holds.
    static func unchangedSince(_ read: Connector, _ stored: Connector) -> Bool {
        read.authConfig == stored.authConfig && read.authType == stored.authType && read.serverURL == stored.serverURL
            && read.commandLine == stored.commandLine && read.workingDirectory == stored.workingDirectory
            && read.tlsConfig == stored.tlsConfig && read.rowSeal == stored.rowSeal
    }

    /// One attempt of ``update(_:_:)``; nil when the connector changed since it was read.
    private func updateOnce(_ ref: String, _ input: ConnectorInput) throws(MCPConnError) -> Connector? {
        let name = try input.name.map { n throws(MCPConnError) in try Validate.name(n) }
        let url = try input.serverURL.map { u throws(MCPConnError) in try Validate.serverURL(u) }
        let type = try input.type.map { t throws(MCPConnError) in try Registry.parseType(t).id }
        let current = try get(ref)
        let seals = try self.seals()
        if current.isStdio { return try updateStdio(current, input, name: name, type: type, seals: seals) }
        if let launch = input.stdio, !launch.isEmpty {
            throw .usage(
                "connector '\(current.name)' is reached by URL: --env, --env-file, --cwd, --key-env and -- COMMAND are for local servers"
            )
        }
        let auth = input.authType ?? current.authType
        let needsNewCredentials = input.secret != nil || input.keyHeader != nil || auth != current.authType
        var projected = current
        if let url { projected.serverURL = url }
        let stored = try Self.storedCredentials(
            current, seals, accepting: input.acceptChange, replaced: input.secret != nil, projected: projected)
        var final = stored
        if needsNewCredentials {
            let existing = input.secret == nil && auth == current.authType ? stored : nil
            // Sealed extra headers (an imported `X-Tenant`) belong to the server, not to the credential: kept.
            final = Credentials.keeping(
                Credentials.connectorFields, of: stored,
                in: try credentials(for: auth, input: input, existing: existing))
        }
        var tls = current.tls
        if let tlsInput = input.tls {
            let key: String?
            (tls, key) = try tlsInput.applied(to: tls, storedKey: stored?.clientKey, serverURL: projected.serverURL)
            final = Credentials.settingClientKey(key, in: final)
        } else if url != nil {
            // A new URL must still be able to carry the settings (no client certificate over http).
            try tls.check(serverURL: projected.serverURL)
        }
        let uid = userID
        return try store.write { db -> Connector? in
            guard
                var row = try Self.rowToUpdate(
                    current, ref: ref, userID: uid, name: name, description: input.description, type: type,
                    policy: input, seals: input.acceptChange ? nil : seals, db)
            else { return nil }
            if let url, url != row.serverURL {
                row.serverURL = url
                row.isVerified = false
                row.protocolVersion = nil
                row.protocolEra = nil
                row.transport = nil
            }
            row.authType = auth
            row.tlsConfig = tls.columnText
            if needsNewCredentials {
                // New credentials replace any OAuth grant, and with it the token state.
                row.tokenExpiresAt = nil
                row.tokenRefreshable = false
            }
            // Sealed again whatever changed: the credentials follow a new origin only through here.
            try KeyGuard.checkForWrite(seals.key, db)
            seals.seal(&row, credentials: final)
            row.updatedAt = Date()
            try db.update(row)
            return row
        }
    }

    /// The credentials `current` holds, opened, for an update to merge from. The row must be intact unless the
    /// update accepts a change made outside mcpconn; then the credentials must open for what the row says, or for
    /// what it will say after the update (`projected`: the owner put the URL or command back), and are dropped
    /// only when the update brings new ones (`replaced`). They never follow the writer's origin or command.
    static func storedCredentials(
        _ current: Connector, _ seals: ConnectorSeals, accepting: Bool, replaced: Bool, projected: Connector
    ) throws(MCPConnError) -> Credentials? {
        guard accepting else {
            try seals.check(current)
            return try seals.open(current)
        }
        // A row without credentials has nothing to carry over.
        if current.authConfig == nil { return nil }
        if let opened = try? seals.open(current) { return opened }
        if let opened = try? seals.open(projected) { return opened }
        if replaced { return nil }
        throw .config(
            "connector '\(current.name)': its credentials were sealed for another connector, origin or command, so accepting this change needs them again: add --secret-stdin (or --env/--env-file for a local server's variables)"
        )
    }

    /// The row to update, read again (and locked) inside the write transaction, with the fields every
    /// connector has applied; nil when what the update merged from changed meanwhile (see ``update(_:_:)``).
    /// With `seals`, the row must be as mcpconn wrote it (nil: the update accepts a change made outside mcpconn).
    static func rowToUpdate(
        _ current: Connector, ref: String, userID uid: Int64, name: String?, description: String?, type: String?,
        policy: ConnectorInput, seals: ConnectorSeals?, _ db: any StoreSession
    ) throws -> Connector? {
        guard var row = try db.connector(ConnectorFilter(userID: uid, id: current.id ?? 0), lock: true) else {
            throw MCPConnError.notFound("no connector '\(ref)' for user \(uid)")
        }
        guard unchangedSince(current, row) else { return nil }
        try seals?.check(row)
        try applyCommonFields(to: &row, name: name, description: description, type: type, db)
        if let pinned = policy.pinned { row.isPinned = pinned }
        row.toolFilterText = try policy.toolFilter(replacing: row.toolFilter).columnText
        return row
    }

    /// The fields every connector has: a new name (unique for the user), description ("" clears it), type.
    static func applyCommonFields(
        to row: inout Connector, name: String?, description: String?, type: String?, _ db: any StoreSession
    ) throws {
        if let name, name != row.name {
            if try lookup(name, userID: row.userID, db) != nil { throw duplicate(name, row.userID) }
            row.name = name
        }
        if let description { row.description = description.isEmpty ? nil : description }
        if let type { row.connectorType = type }
    }

    /// Deletes a connector and returns what it was.
    public func delete(_ ref: String) throws(MCPConnError) -> Connector {
        let uid = userID
        return try store.write { db in
            guard let row = try Self.lookup(ref, userID: uid, db) else {
                throw MCPConnError.notFound("no connector '\(ref)' for user \(uid)")
            }
            try db.delete(row)
            return row
        }
    }

    /// Sets (or, with nil, flips) whether a connector is active. A connector changed outside mcpconn can be
    /// turned off, which leaves it refused as it was, but not on.
    public func setActive(_ ref: String, _ active: Bool?) throws(MCPConnError) -> Connector {
        let seals = try self.seals()
        let uid = userID
        return try store.write { db in
            guard var row = try Self.lookup(ref, userID: uid, db, lock: true) else {
                throw MCPConnError.notFound("no connector '\(ref)' for user \(uid)")
            }
            let target = active ?? !row.isActive
            guard target != row.isActive else { return row }
            let changed = seals.changedColumns(row)
            row.isActive = target
            row.updatedAt = Date()
            if changed.isEmpty {
                try seals.reseal(&row)
                try db.update(row)
            } else if target {
                throw ConnectorSeals.changedOutside(row, changed)
            } else {
                typealias C = Connector.Columns
                try db.update(
                    id: row.id ?? 0, userID: uid, [(C.isActive, .bool(false)), (C.updatedAt, .date(row.updatedAt))])
            }
            return row
        }
    }

    // MARK: Credentials

    /// Decrypts a connector's credentials (nil when none are stored), once its row is known to be as mcpconn
    /// wrote it: this is the gate before anything connects or runs.
    public func credentials(of connector: Connector) throws(MCPConnError) -> Credentials? {
        try opened(connector).credentials
    }

    /// The connector as checked, with its credentials opened: the row itself, or, when it was read before this
    /// process sealed the store (``SealMigration``), the same row as sealed since.
    func opened(_ connector: Connector) throws(MCPConnError) -> (row: Connector, credentials: Credentials?) {
        let (seals, row) = try checked(connector)
        return (row, try seals.open(row))
    }

    /// Fails unless `connector` is as mcpconn wrote it (for what needs no credentials, such as an export).
    public func authenticate(_ connector: Connector) throws(MCPConnError) {
        _ = try checked(connector)
    }

    /// The row `connector` stands for (see ``sealedSince(_:)``), once its seal is checked, and the seals.
    private func checked(_ connector: Connector) throws(MCPConnError) -> (ConnectorSeals, Connector) {
        let seals = try self.seals()
        let row = try sealedSince(connector, seals)
        try seals.check(row)
        return (seals, row)
    }

    /// A row read without a seal, or with one of an earlier format, read again: the first use of a store written
    /// by an earlier version seals its rows after they were read. The row read again stands for it only if it
    /// says the same in clear (its credentials were sealed anew meanwhile); otherwise the one read is checked,
    /// and refused.
    private func sealedSince(_ connector: Connector, _ seals: ConnectorSeals) throws(MCPConnError) -> Connector {
        guard connector.rowSeal == nil || seals.isIntactInEarlierFormat(connector), let id = connector.id else {
            return connector
        }
        let uid = userID
        guard let fresh = try store.read({ db in try db.connector(ConnectorFilter(userID: uid, id: id)) }) else {
            return connector
        }
        let clear = Connector.Columns.sealed.filter { $0.name != Connector.Columns.authConfig.name }
        let same = clear.allSatisfy { $0.value(fresh) == $0.value(connector) }
        return same ? fresh : connector
    }

    /// The seals of this store's rows, under its key (checked against the store's fingerprint, once per process).
    /// The first use of a store written by an earlier version seals its rows (``SealMigration``).
    func seals() throws(MCPConnError) -> ConnectorSeals {
        let key = try sealingKey()
        try checkKey(key)
        return ConnectorSeals(key: key)
    }

    /// The key to seal with. A new key is created only for a store that holds nothing sealed: a host lacking
    /// the key of a store that does (a shared one, say) gets a clear 78, not a key file it cannot use.
    func sealingKey() throws(MCPConnError) -> EncryptionKey {
        do {
            return try keys.key(create: false)
        } catch {
            if try store.read({ db in try KeyGuard.holdsSealedRows(db) }) { throw error }
            return try keys.key(create: true)
        }
    }

    /// Fails when the key is missing, malformed or not the store's: checked before an operation on `connectors`
    /// sends or writes anything (every row is sealed under the key, credentials or not).
    public func checkKey(for connectors: [Connector]) throws(MCPConnError) {
        guard !connectors.isEmpty else { return }
        _ = try seals()
    }

    /// Checks `key` against the store's fingerprint and brings the store's seals up to date, once per process.
    private func checkKey(_ key: EncryptionKey) throws(MCPConnError) {
        if store.checkedKey.isChecked(key) { return }
        // Another key than the store's is refused, unless nothing is sealed under that one: then the store
        // adopts this key (``KeyGuard/checkForWrite(_:_:)``, in the migration's write).
        let (format, adopting) = try store.read { db -> (String?, Bool) in
            do {
                try KeyGuard.checkForRead(key, db)
            } catch {
                if try KeyGuard.holdsSealedRows(db) { throw error }
                return (nil, true)
            }
            return (try SealMigration.format(db), false)
        }
        if adopting || format != SealMigration.current {
            try store.write { db in try SealMigration.run(key, db) }
        }
        store.checkedKey.remember(key)
    }

    private func credentials(for auth: AuthType, input: ConnectorInput, existing: Credentials?)
        throws(MCPConnError) -> Credentials?
    {
        let header = try input.keyHeader.map { h throws(MCPConnError) in try Validate.headerName(h) }
        switch auth {
        case .none:
            if input.secret != nil { throw .usage("--auth none takes no secret") }
            if header != nil { throw .usage("--key-header needs --auth api_key") }
            return nil
        case .apiKey:
            if let s = input.secret { return .apiKey(try Validate.secret(s), header: header ?? existing?.keyHeader) }
            if let existing, let key = existing.fields["api_key"]?.stringValue {
                return .apiKey(key, header: header ?? existing.keyHeader)
            }
            throw .usage("--auth api_key needs a secret: --secret-stdin, --secret-env VAR or --secret-file PATH")
        case .oauth:
            if header != nil { throw .usage("--key-header needs --auth api_key") }
            if let s = input.secret { return .bearer(try Validate.secret(s)) }
            // An oauth connector may wait for its tokens (from `login`).
            return existing
        }
    }

    static func duplicate(_ name: String, _ uid: Int64) -> MCPConnError {
        .data("a connector named '\(name)' already exists for user \(uid)")
    }
}

extension JSONObject {
    var jsonBytes: [UInt8] { JSONValue.object(self).compactBytes() }
}
