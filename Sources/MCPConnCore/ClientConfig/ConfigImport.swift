import Foundation

/// What `import` was asked to do.
public struct ImportOptions: Sendable {
    public var format: ClientFormat?
    /// Update connectors whose stored definition differs from the file's (else they are conflicts).
    public var replace = false
    /// Report what would happen; write nothing.
    public var dryRun = false
    /// `${input:ID}` → the environment variable holding its value (`--input ID=VAR`).
    public var inputVariables: [String: String] = [:]
    public var environment: [String: String]
    /// The store being imported into: a bridge entry (`mcpconn serve NAME`) naming it refers to its own
    /// connector and must not become a connector that runs mcpconn on itself.
    public var storePath: String

    public init(format: ClientFormat? = nil, environment: [String: String], storePath: String) {
        self.format = format
        self.environment = environment
        self.storePath = storePath
    }
}

/// What happened to one entry of the file.
public struct ImportOutcome: Sendable, Equatable {
    public enum Action: String, Sendable {
        case added, updated, unchanged, conflict, skipped
    }

    public var name: String
    public var action: Action
    public var id: Int64?
    /// Why it was skipped or is a conflict, or a note (`run mcpconn login NAME`).
    public var note: String?

    /// True when the entry did not get into the store as the file has it: the command exits 1.
    public var isProblem: Bool { action == .conflict || action == .skipped }
}

public struct ImportReport: Sendable {
    public var path: String
    public var format: ClientFormat
    public var outcomes: [ImportOutcome]
}

extension ConnectorStorage {
    /// Imports the servers of a client's config file: each becomes a connector (secrets sealed), in one
    /// transaction. An entry that cannot be imported is reported and skipped; the others go in.
    public func importConfig(_ path: String, _ options: ImportOptions) throws(MCPConnError) -> ImportReport {
        let named = options.format ?? ClientFormat.detect(path: path)
        let file = try ConfigFile.read(path, toml: named?.isTOML ?? path.lowercased().hasSuffix(".toml"))
        guard let format = named ?? ClientFormat.detect(document: file.document) else {
            throw .data(
                "\(path): no MCP servers found (no mcpServers, servers or mcp_servers key); give --from FORMAT if it is a client's config"
            )
        }
        let folder = URL(fileURLWithPath: Validate.absolute(path)).deletingLastPathComponent()
        let entries = try ConfigEntry.entries(
            of: file, format: format, project: FileManager.default.currentDirectoryPath)
        let resolver = ImportResolver(
            format: format, options: options, configFolder: folder.path, userID: userID)
        let planned = entries.map { resolver.resolve($0) }
        let outcomes = try apply(planned, options)
        return ImportReport(path: path, format: format, outcomes: outcomes)
    }

    /// Writes the planned connectors in one transaction (or, for a dry run, only compares them).
    private func apply(_ planned: [PlannedImport], _ options: ImportOptions) throws(MCPConnError) -> [ImportOutcome] {
        // Every row written is sealed; a dry run only compares, with the store's key if there is one yet.
        let seals = options.dryRun ? (try? keys.key(create: false)).map(ConnectorSeals.init) : try self.seals()
        let uid = userID
        let work = { (db: any StoreSession) throws -> [ImportOutcome] in
            if db.dialect == .postgres, !options.dryRun {
                try db.execute("SELECT pg_advisory_xact_lock(?)", [.int(PostgresStore.importLockKey(uid))])
            }
            if let seals, !options.dryRun { try KeyGuard.checkForWrite(seals.key, db) }
            var byName: [String: Connector] = [:]
            for row in try db.connectors(ConnectorFilter(userID: uid), lock: !options.dryRun) { byName[row.name] = row }
            var session = ImportSession(seals: seals, replace: options.replace, dryRun: options.dryRun, byName: byName)
            return try planned.map { p in try session.apply(p, db) }
        }
        if options.dryRun { return try store.read(work) }
        return try store.write(work)
    }
}

/// An entry resolved against the environment: the connector it describes, a bridge to a connector of this
/// store, or the reason it is skipped.
struct PlannedImport {
    enum Kind {
        /// The row to store, its credentials, and a note for the summary.
        case connector(Connector, Credentials?, note: String?)
        /// `mcpconn serve NAME…` (or `--all`) on this very store: nothing to import, the connectors are already
        /// here (or not).
        case bridge(to: [String], all: Bool)
        case skipped(String)
    }

    let name: String
    let kind: Kind
}

/// Turns file entries into connectors: variables expanded, secrets gathered into credentials.
struct ImportResolver {
    let format: ClientFormat
    let options: ImportOptions
    let userID: Int64
    /// Where relative paths start (see `project(of:)`); worked out once, not per entry.
    let workspace: String
    let substitution: Substitution
    /// The current directory, where a bridge's relative `--db` may also start.
    let currentDirectory = FileManager.default.currentDirectoryPath

    init(format: ClientFormat, options: ImportOptions, configFolder: String, userID: Int64) {
        self.format = format
        self.options = options
        self.userID = userID
        workspace = Self.project(of: configFolder, format: format, environment: options.environment)
        var s = Substitution(
            syntax: format.substitution, environment: options.environment, inputs: options.inputVariables,
            workspaceFolder: workspace)
        s.isRefused = StdioLaunch.isForbiddenEnvironmentName
        substitution = s
    }

    func resolve(_ entry: ConfigEntry) -> PlannedImport {
        do {
            return PlannedImport(name: entry.name, kind: try kind(entry))
        } catch let f as Substitution.Failure {
            return PlannedImport(name: entry.name, kind: .skipped(f.reason))
        } catch let e as MCPConnError {
            return PlannedImport(name: entry.name, kind: .skipped(e.message))
        } catch {
            return PlannedImport(name: entry.name, kind: .skipped("\(error)"))
        }
    }

    /// The project a config file belongs to: the folder holding its `.vscode/`, `.cursor/`, `.gemini/` or
    /// `.codex/` folder, else the file's own folder. A user-level file (in the home folder, `~/.claude.json`,
    /// VS Code's `User/mcp.json` and its profiles, Claude Desktop's) belongs to no project: the client runs its
    /// servers where it was started, which for `import` is the current directory. `${workspaceFolder}` and
    /// relative paths start there.
    static func project(of configFolder: String, format: ClientFormat, environment: [String: String]) -> String {
        let folder = URL(fileURLWithPath: configFolder)
        let project = folder.lastPathComponent.hasPrefix(".") ? folder.deletingLastPathComponent().path : configFolder
        let home = URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).standardizedFileURL.path
        let vscodeUser = ["/Code/User", "/Code - Insiders/User", "/VSCodium/User"].contains {
            configFolder.contains($0)
        }
        if project == home || vscodeUser || format == .claudeDesktop {
            return FileManager.default.currentDirectoryPath
        }
        return project
    }

    private func kind(_ entry: ConfigEntry) throws -> PlannedImport.Kind {
        if let reason = entry.unsupported { return .skipped(reason) }
        let name = try Validate.name(entry.name)
        let sub = substitution
        var row: Connector
        var credentials: Credentials?
        var note = entry.note
        switch entry.launch {
        case .stdio(let s)?:
            // Arguments keep their variables as `${NAME}`, the values sealed (a token in argv would be in clear).
            let program = try sub.expand(s.command)
            var words = [program]
            var fromArguments: [(name: String, value: String)] = []
            var templates: [Int] = []
            // HOME, PATH, USER…: what every server inherits anyway, and no secret.
            let plain = Set(StdioLaunch.inheritedEnvironmentNames)
            for (i, a) in s.args.enumerated() {
                let (text, variables) = try sub.expandKeepingVariables(a) { !plain.contains($0) }
                words.append(text)
                fromArguments += variables
                if !variables.isEmpty { templates.append(i) }
            }
            let entryFolder = try s.cwd.map { try absolute(sub.expand($0)) }
            let expanded = [program] + (try s.args.map(sub.expand))
            if let bridge = bridgeToThisStore(expanded, from: [entryFolder ?? workspace, currentDirectory]) {
                return .bridge(to: bridge.names, all: bridge.all)
            }
            // `./server` runs from the client's project, not from wherever `import` runs.
            if words[0].contains("/"), s.cwd == nil { words[0] = absolute(words[0]) }
            // `node ./build/index.js`: the client starts it in the project, so mcpconn will too.
            let relative = words.dropFirst().contains { $0.hasPrefix("./") || $0.hasPrefix("../") }
            let cwd = entryFolder ?? (relative ? workspace : nil)
            let launch = StdioInput(
                commandLine: words, workingDirectory: cwd,
                environment: try environment(s, sub, arguments: fromArguments))
            (row, credentials) = try stdioConnector(name, launch)
            if !templates.isEmpty { credentials?.fields["arg_templates"] = .array(templates.map { .int($0) }) }
        case .remote(let r)?:
            let remote = try remoteConnector(name, r, sub, oauth: entry.usesOAuth)
            (row, credentials) = (remote.0, remote.1)
            if let login = remote.2 { note = note.map { $0 + "; " + login } ?? login }
        case nil:
            return .skipped("has neither command nor url")
        }
        row.description = entry.description.flatMap { $0.isEmpty ? nil : $0 }
        row.isActive = entry.isActive
        if !entry.toolFilters.isEmpty {
            let filters =
                "its tool filter (\(entry.toolFilters.joined(separator: ", "))) is not kept: every tool is served"
            note = note.map { $0 + "; " + filters } ?? filters
        }
        return .connector(row, credentials, note: note)
    }

    /// A path made absolute against the config file's project (a client resolves it there).
    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: workspace + "/" + path).standardizedFileURL.path
    }

    /// The server's sealed environment: its `envFile`, forwarded variables and `env`, then the variables its
    /// arguments read (a name both set differently is refused: the server would see two values).
    private func environment(_ s: ConfigEntry.Stdio, _ sub: Substitution, arguments: [(name: String, value: String)])
        throws -> [EnvironmentVariable]
    {
        var vars: [EnvironmentVariable] = []
        if let envFile = s.envFile {
            vars += try EnvironmentVariable.read(envFile: absolute(try sub.expand(envFile)), regularOnly: true)
        }
        for name in s.forwarded { vars.append(EnvironmentVariable(name: name, value: try sub.variable(name))) }
        for (name, value) in s.env { vars.append(EnvironmentVariable(name: name, value: try sub.expand(value))) }
        for (name, value) in arguments {
            if let set = vars.last(where: { $0.name == name }) {
                guard set.value == value else {
                    throw Substitution.Failure(
                        reason: "its arguments read ${\(name)}, which its env sets to another value")
                }
                continue
            }
            vars.append(EnvironmentVariable(name: name, value: value))
        }
        for v in vars {
            try Validate.environmentName(v.name)
            try Validate.environmentValue(v.value, of: v.name)
        }
        return vars
    }

    private func stdioConnector(_ name: String, _ launch: StdioInput) throws(MCPConnError) -> (Connector, Credentials?)
    {
        let words = try ConnectorStorage.resolvedCommandLine(
            launch.commandLine ?? [], workingDirectory: launch.workingDirectory)
        let cwd = try launch.workingDirectory.map { d throws(MCPConnError) in try Validate.workingDirectory(d) }
        let credentials = try ConnectorStorage.stdioCredentials(
            auth: .none, secret: nil, keyHeader: nil, launch: launch, existing: nil)
        var row = Connector.new(
            userID: userID, name: name, description: nil, serverURL: "",
            type: Registry.detect(commandLine: words, name: name).id, auth: .none)
        row.setLaunch(words, workingDirectory: cwd)
        row.setEnvironmentNames(from: credentials)
        return (row, credentials)
    }

    /// A remote entry: `Authorization: Bearer …` becomes the oauth connector's static token (as `add --auth
    /// oauth` stores it); the first key-like header (`X-API-Key`, `X-Goog-Api-Key`, `Api-Token`) an api_key with
    /// that header; every other header is sealed beside them and sent too.
    private func remoteConnector(_ name: String, _ r: ConfigEntry.Remote, _ sub: Substitution, oauth: Bool)
        throws -> (Connector, Credentials?, String?)
    {
        // mcpconn stores and shows a URL in clear: a variable in its query (`?api_key=${KEY}`) is a secret.
        if let query = r.url.firstIndex(of: "?"), format.substitution.isEmpty == false, r.url[query...].contains("$") {
            throw Substitution.Failure(
                reason:
                    "its URL's query reads a variable (a key, most likely), and mcpconn keeps URLs in clear: add it with a header instead"
            )
        }
        let url: String
        do {
            url = try Validate.serverURL(try sub.expand(r.url))
        } catch let e as MCPConnError {
            // The message would show the expanded URL, and with it whatever the variables held.
            throw MCPConnError(e.status, "invalid server URL '\(Validate.redactedURL(r.url))'")
        }
        var headers: [(name: String, value: String)] = []
        // mcp-remote fills `${VAR}` in its headers from its own environment: the entry's `env` (expanded as the
        // client expands it) over the user's.
        var headerSub = sub
        if let entryEnvironment = r.headerEnvironment {
            var environment = options.environment
            for v in entryEnvironment { environment[v.name] = try sub.expand(v.value) }
            headerSub = Substitution(
                syntax: sub.syntax.union([.braced, .withDefault]), environment: environment, inputs: sub.inputs,
                workspaceFolder: sub.workspaceFolder)
            headerSub.isRefused = sub.isRefused
        }
        for h in r.headers { headers.append((h.name, try headerSub.expand(h.value))) }
        // Codex's indirections read the environment by name, under the same rules as `${VAR}`.
        for h in r.environmentHeaders { headers.append((h.name, try sub.variable(h.variable))) }
        if let variable = r.bearerTokenVariable {
            headers.append(("Authorization", "Bearer " + (try sub.variable(variable))))
        }
        for h in headers {
            _ = try Validate.headerName(h.name)
            if h.value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) {
                throw MCPConnError.data("the value of header \(h.name) contains control characters")
            }
        }
        var auth = AuthType.none
        var fields = JSONObject()
        if let i = headers.firstIndex(where: {
            $0.name.lowercased() == "authorization" && $0.value.lowercased().hasPrefix("bearer ")
        }) {
            auth = .oauth
            fields = Credentials.bearer(try Validate.secret(String(headers[i].value.dropFirst(7)))).fields
            headers.remove(at: i)
        } else if let i = headers.firstIndex(where: { Self.isKeyHeader($0.name) }) {
            auth = .apiKey
            fields = Credentials.apiKey(try Validate.secret(headers[i].value), header: headers[i].name).fields
            headers.remove(at: i)
        } else if oauth {
            auth = .oauth
        }
        if !headers.isEmpty { fields["headers"] = .object(JSONObject(headers.map { ($0.name, .string($0.value)) })) }
        let row = Connector.new(
            userID: userID, name: name, description: nil, serverURL: url,
            type: Registry.detect(url: url, name: name).id, auth: auth)
        let note = auth == .oauth && fields["access_token"] == nil ? "run `mcpconn login \(name)`" : nil
        return (row, fields.isEmpty ? nil : Credentials(fields: fields), note)
    }

    static func isKeyHeader(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.contains("key") || n.contains("token") || n.contains("secret")
    }

    /// What a bridge entry (`mcpconn [--db PATH] [--user ID] serve NAME… | --all [options]`) reaches, when it
    /// reaches this store for this user: imported as a local server, it would be a connector that runs mcpconn on
    /// itself, again and again. Nil for any other command, and for a bridge to another store (a local server
    /// like any other).
    /// A relative `--db` is tried against each of `folders` (where the client may start it).
    func bridgeToThisStore(_ words: [String], from folders: [String]) -> (names: [String], all: Bool)? {
        guard let serve = words.firstIndex(of: "serve"), Self.isMcpconn(words[0]) else { return nil }
        // serve's and the global options that take a value: their values are no connector names.
        let valued: Set = ["--db", "--user", "--http", "--timeout", "--max-response-mb"]
        var db: String?
        var user: Int64?
        var names: [String] = []
        var all = false
        var i = 1
        while i < words.count {
            var option = words[i]
            var value: String?
            if option.hasPrefix("--"), let eq = option.firstIndex(of: "=") {
                value = String(option[option.index(after: eq)...])
                option = String(option[..<eq])
                i += 1
            } else if valued.contains(option) {
                value = i + 1 < words.count ? words[i + 1] : nil
                i += 2
            } else {
                if option == "--all" { all = true } else if i > serve, !option.hasPrefix("-") { names.append(option) }
                i += 1
                continue
            }
            if option == "--db" { db = value } else if option == "--user" { user = value.flatMap { Int64($0) } }
        }
        let path = db ?? Paths.databasePath(option: nil, environment: options.environment)
        if PostgresStore.isURL(path) || PostgresStore.isURL(options.storePath) {
            guard PostgresStore.sameDatabase(path, options.storePath), (user ?? 1) == userID else { return nil }
            return (names, all)
        }
        let candidates = path.hasPrefix("/") ? [path] : folders.map { $0 + "/" + path }
        let store = Validate.absolute(options.storePath)
        guard candidates.contains(where: { Validate.absolute($0) == store }), (user ?? 1) == userID else { return nil }
        return (names, all)
    }

    /// `mcpconn` by name, or this very program by any name (`--bridge-command /opt/bin/mc`).
    static func isMcpconn(_ program: String) -> Bool {
        if program.split(separator: "/").last == "mcpconn" { return true }
        guard program.contains("/"), let me = Bundle.main.executablePath, let mine = realpath(me, nil) else {
            return false
        }
        defer { free(mine) }
        guard let theirs = realpath(program, nil) else { return false }
        defer { free(theirs) }
        return strcmp(mine, theirs) == 0
    }
}

/// The write transaction's view of the store while entries go in: the connectors by name, updated as it goes.
struct ImportSession {
    /// Nil only for a dry run in a store without a key yet.
    let seals: ConnectorSeals?
    let replace: Bool
    let dryRun: Bool
    var byName: [String: Connector]

    mutating func apply(_ p: PlannedImport, _ db: any StoreSession) throws -> ImportOutcome {
        switch p.kind {
        case .skipped(let reason):
            return ImportOutcome(name: p.name, action: .skipped, note: reason)
        case .bridge(let targets, let all):
            if all {
                return ImportOutcome(
                    name: p.name, action: .unchanged, note: "a bridge to every connector of this store")
            }
            let missing = targets.filter { byName[$0] == nil }
            guard !targets.isEmpty, missing.isEmpty else {
                let what = missing.map { "'\($0)'" }.joined(separator: ", ")
                return ImportOutcome(
                    name: p.name, action: .skipped,
                    note: targets.isEmpty
                        ? "a bridge that names no connector" : "a bridge to \(what), which this store does not have")
            }
            let ids = targets.compactMap { byName[$0]?.id }
            return ImportOutcome(
                name: p.name, action: .unchanged, id: ids.count == 1 ? ids[0] : nil,
                note: "a bridge to this store's \(targets.map { "'\($0)'" }.joined(separator: ", "))")
        case .connector(let desired, let credentials, let note):
            guard let current = byName[desired.name] else {
                var row = desired
                if !dryRun, let seals { try db.insert(&row, sealing: credentials, with: seals) }
                byName[row.name] = row
                return ImportOutcome(name: p.name, action: .added, id: row.id, note: note)
            }
            if same(current, desired, credentials) {
                return ImportOutcome(name: p.name, action: .unchanged, id: current.id)
            }
            guard replace else {
                return ImportOutcome(
                    name: p.name, action: .conflict, id: current.id,
                    note: "differs from the stored connector: --replace updates it")
            }
            let row = try replaced(current, with: desired, credentials)
            if !dryRun { try db.update(row) }
            byName[row.name] = row
            return ImportOutcome(name: p.name, action: .updated, id: row.id, note: note)
        }
    }

    /// Whether the stored connector already is what the file says. Credentials are compared opened; an OAuth
    /// connector whose entry carries no token keeps whatever grant `login` gave it. A row changed outside mcpconn
    /// is never the same: `--replace` seals it again as the file says.
    private func same(_ c: Connector, _ d: Connector, _ credentials: Credentials?) -> Bool {
        guard seals?.changedColumns(c).isEmpty ?? true, c.serverURL == d.serverURL, c.command == d.command,
            c.arguments == d.arguments,
            c.workingDirectory == d.workingDirectory, c.authType == d.authType, d.isActive || !c.isActive,
            d.description == nil || c.description == d.description
        else { return false }
        if d.authType == .oauth, credentials?.fields["access_token"] == nil {
            return opened(c)?.fields["headers"] == credentials?.fields["headers"]
        }
        return opened(c)?.fields == credentials?.fields
    }

    /// The stored credentials, when they open for the row as stored (never ones moved from another row).
    private func opened(_ c: Connector) -> Credentials? {
        guard let seals else { return nil }
        return (try? seals.open(c)) ?? nil
    }

    /// The stored row changed to the file's definition; what was learnt of the server stays unless its address
    /// or command changed.
    private func replaced(_ current: Connector, with d: Connector, _ credentials: Credentials?) throws -> Connector {
        var row = current
        if row.serverURL != d.serverURL || row.command != d.command || row.arguments != d.arguments {
            row.isVerified = false
            row.protocolVersion = nil
            row.protocolEra = nil
            row.transport = d.transport
        }
        row.serverURL = d.serverURL
        row.command = d.command
        row.commandArgs = d.commandArgs
        row.workingDirectory = d.workingDirectory
        row.envNames = d.envNames
        // The file can disable a connector; one disabled here (`toggle`) stays so.
        if !d.isActive { row.isActive = false }
        if let description = d.description { row.description = description }
        let keepGrant = d.authType == .oauth && current.authType == .oauth && credentials?.fields["access_token"] == nil
        row.authType = d.authType
        var sealing = credentials
        if keepGrant {
            // Opened for the row as stored: a grant made for another origin is not carried to this one.
            if var grant = opened(current), Origin(current.serverURL) == Origin(row.serverURL) {
                grant.fields["headers"] = credentials?.fields["headers"]
                sealing = grant
            } else {
                sealing = nil
                row.tokenExpiresAt = nil
                row.tokenRefreshable = false
            }
        } else {
            row.tokenExpiresAt = nil
            row.tokenRefreshable = false
        }
        // TLS settings are mcpconn's own (no client's file carries them): kept, with the client certificate's key,
        // while the server is still reached over https.
        if row.isStdio || Origin(row.serverURL)?.scheme != "https" {
            row.tlsConfig = nil
        } else if let key = opened(current)?.clientKey {
            sealing = Credentials.settingClientKey(key, in: sealing)
        }
        seals?.seal(&row, credentials: sealing)
        row.updatedAt = Date()
        return row
    }
}
