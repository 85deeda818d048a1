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
        return try store.read { db in try db.connectors(filter, columns: Connector.Columns.withoutTools) }
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
        let credentials = try credentials(for: auth, input: input, existing: nil)
        let row = Connector.new(
            userID: userID, name: name, description: input.description, serverURL: url, type: type, auth: auth)
        return try insert(row, sealing: credentials)
    }

    /// Inserts a new connector with its credentials sealed under the store's key (created on first use); the
    /// name must be free for the user.
    func insert(_ new: Connector, sealing credentials: Credentials?) throws(MCPConnError) -> Connector {
        var row = new
        let key = try credentials.map { _ throws(MCPConnError) in try sealingKey() }
        let uid = userID
        return try store.write { db in
            if try Self.lookup(row.name, userID: uid, db) != nil { throw Self.duplicate(row.name, uid) }
            if let credentials, let key {
                try KeyGuard.checkForWrite(key, db)
                row.authConfig = SecretBox(key: key).seal(credentials.fields.jsonBytes)
            }
            try db.insert(&row)
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
        read.authConfig == stored.authConfig && read.authType == stored.authType
            && read.commandLine == stored.commandLine && read.workingDirectory == stored.workingDirectory
    }

    /// One attempt of ``update(_:_:)``; nil when the connector changed since it was read.
    private func updateOnce(_ ref: String, _ input: ConnectorInput) throws(MCPConnError) -> Connector? {
        let name = try input.name.map { n throws(MCPConnError) in try Validate.name(n) }
        let url = try input.serverURL.map { u throws(MCPConnError) in try Validate.serverURL(u) }
        let type = try input.type.map { t throws(MCPConnError) in try Registry.parseType(t).id }
        let current = try get(ref)
        if current.isStdio { return try updateStdio(current, input, name: name, type: type) }
        if let launch = input.stdio, !launch.isEmpty {
            throw .usage(
                "connector '\(current.name)' is reached by URL: --env, --env-file, --cwd, --key-env and -- COMMAND are for local servers"
            )
        }
        let auth = input.authType ?? current.authType
        let authChanged = auth != current.authType
        let needsNewCredentials = input.secret != nil || input.keyHeader != nil || authChanged
        var newCredentials: Credentials?
        if needsNewCredentials {
            var existing: Credentials?
            if input.secret == nil, auth == current.authType, current.authConfig != nil {
                existing = try credentials(of: current)
            }
            newCredentials = try credentials(for: auth, input: input, existing: existing)
            // Sealed extra headers (an imported `X-Tenant`) belong to the server, not to the credential: kept.
            var stored = existing
            if stored == nil, current.authConfig != nil { stored = try credentials(of: current) }
            newCredentials = Credentials.keeping("headers", of: stored, in: newCredentials)
        }
        let key = try newCredentials.map { _ throws(MCPConnError) in try sealingKey() }
        let uid = userID
        return try store.write { db -> Connector? in
            guard
                var row = try Self.rowToUpdate(
                    current, ref: ref, userID: uid, name: name, description: input.description, type: type, db)
            else { return nil }
            if let url, url != row.serverURL {
                row.serverURL = url
                row.isVerified = false
                row.protocolVersion = nil
                row.protocolEra = nil
                row.transport = nil
            }
            row.authType = auth
            if needsNewCredentials {
                // New credentials replace any OAuth grant, and with it the token state.
                row.tokenExpiresAt = nil
                row.tokenRefreshable = false
                if let newCredentials, let key {
                    try KeyGuard.checkForWrite(key, db)
                    row.authConfig = SecretBox(key: key).seal(newCredentials.fields.jsonBytes)
                } else {
                    row.authConfig = nil
                }
            }
            row.updatedAt = Date()
            try db.update(row)
            return row
        }
    }

    /// The row to update, read again (and locked) inside the write transaction, with the fields every
    /// connector has applied; nil when what the update merged from changed meanwhile (see ``update(_:_:)``).
    static func rowToUpdate(
        _ current: Connector, ref: String, userID uid: Int64, name: String?, description: String?, type: String?,
        _ db: any StoreSession
    ) throws -> Connector? {
        guard var row = try db.connector(ConnectorFilter(userID: uid, id: current.id ?? 0), lock: true) else {
            throw MCPConnError.notFound("no connector '\(ref)' for user \(uid)")
        }
        guard unchangedSince(current, row) else { return nil }
        try applyCommonFields(to: &row, name: name, description: description, type: type, db)
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

    /// Sets (or, with nil, flips) whether a connector is active.
    public func setActive(_ ref: String, _ active: Bool?) throws(MCPConnError) -> Connector {
        let uid = userID
        return try store.write { db in
            guard var row = try Self.lookup(ref, userID: uid, db, lock: true) else {
                throw MCPConnError.notFound("no connector '\(ref)' for user \(uid)")
            }
            let target = active ?? !row.isActive
            if target != row.isActive {
                row.isActive = target
                row.updatedAt = Date()
                try db.update(row)
            }
            return row
        }
    }

    // MARK: Credentials

    /// Decrypts a connector's credentials (nil when none are stored).
    public func credentials(of connector: Connector) throws(MCPConnError) -> Credentials? {
        guard let sealed = connector.authConfig else { return nil }
        let key = try keys.key(create: false)
        try checkKey(key)
        guard let plain = SecretBox(key: key).open(sealed), let v = try? JSONValue.parse(plain),
            let fields = v.objectValue
        else {
            throw .config(
                "the credentials of connector '\(connector.name)' cannot be decrypted (corrupted or tampered with); set them again with `mcpconn update \(connector.name) --secret-stdin`"
            )
        }
        return Credentials(fields: fields)
    }

    /// The key to seal with. A new key is created only for a store that holds no sealed value: a host lacking
    /// the key of a store that does (a shared one, say) gets a clear 78, not a key file it cannot use.
    func sealingKey() throws(MCPConnError) -> EncryptionKey {
        do {
            return try keys.key(create: false)
        } catch {
            let sealed = try store.read { db in
                try db.int(
                    "SELECT COUNT(*) FROM \(Connector.table) WHERE \(Connector.Columns.authConfig.name) IS NOT NULL")
            }
            if (sealed ?? 0) > 0 { throw error }
            return try keys.key(create: true)
        }
    }

    /// Fails when some of `connectors` hold sealed credentials and the key is missing, malformed or not the
    /// store's: checked before an operation sends or writes anything.
    public func checkKey(for connectors: [Connector]) throws(MCPConnError) {
        guard connectors.contains(where: { $0.authConfig != nil }) else { return }
        try checkKey(try keys.key(create: false))
    }

    /// Checks `key` against the store's fingerprint, once per process.
    private func checkKey(_ key: EncryptionKey) throws(MCPConnError) {
        if store.checkedKey.isChecked(key) { return }
        try store.read { db in try KeyGuard.checkForRead(key, db) }
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
