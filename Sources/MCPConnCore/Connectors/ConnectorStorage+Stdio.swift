import Foundation

/// Adding and updating stdio connectors: local servers launched as child processes. The program, its arguments
/// and working directory are stored in clear (they are shown by `list` and `get`); the environment's values,
/// often keys, are sealed with the credentials, and only their names are stored in clear.
extension ConnectorStorage {
    func addStdio(_ input: ConnectorInput, name: String, launch: StdioInput) throws(MCPConnError) -> Connector {
        guard input.serverURL == nil else {
            throw .usage("give either a URL or -- COMMAND, not both")
        }
        try Self.refuseTLS(input)
        let words = try Self.resolvedCommandLine(launch.commandLine ?? [], workingDirectory: launch.workingDirectory)
        let cwd = try launch.workingDirectory.flatMap { d throws(MCPConnError) in
            d.isEmpty ? nil : try Validate.workingDirectory(d)
        }
        let auth = input.authType ?? .none
        let credentials = try Self.stdioCredentials(
            auth: auth, secret: input.secret, keyHeader: input.keyHeader, launch: launch, existing: nil)
        let type =
            try input.type.map { t throws(MCPConnError) in try Registry.parseType(t).id }
            ?? Registry.detect(commandLine: words, name: name).id
        var row = Connector.new(
            userID: userID, name: name, description: input.description, serverURL: "", type: type, auth: auth)
        row.setLaunch(words, workingDirectory: cwd)
        row.setEnvironmentNames(from: credentials)
        row.toolFilterText = try input.toolFilter(replacing: ToolFilter()).columnText
        return try insert(row, sealing: credentials)
    }

    /// TLS settings are for servers reached over HTTPS: a local server speaks over pipes.
    static func refuseTLS(_ input: ConnectorInput) throws(MCPConnError) {
        guard let tls = input.tls, !tls.isEmpty else { return }
        throw .usage(
            "--ca-file, --client-cert, --client-key-file and --pin-sha256 are for servers reached over HTTPS, not local servers"
        )
    }

    /// Updates a stdio connector: its launch, environment, key or the common fields. A new command line marks
    /// it unverified. Changing the environment needs the key: the values are sealed. Nil when the connector
    /// changed since `current` was read (see ``update(_:_:)``).
    func updateStdio(
        _ current: Connector, _ input: ConnectorInput, name: String?, type: String?, seals: ConnectorSeals
    ) throws(MCPConnError) -> Connector? {
        if input.serverURL != nil {
            throw .usage("connector '\(current.name)' runs a local command: delete it and add it again to use a URL")
        }
        try Self.refuseTLS(input)
        let launch = input.stdio ?? StdioInput()
        let cwdChange: String?? = try launch.workingDirectory.map { d throws(MCPConnError) in
            d.isEmpty ? nil : try Validate.workingDirectory(d)
        }
        let words = try launch.commandLine.map { w throws(MCPConnError) in
            try Self.resolvedCommandLine(w, workingDirectory: cwdChange ?? current.workingDirectory)
        }
        let auth = input.authType ?? current.authType
        // A new command line also drops the argument templates an import sealed with the old one.
        let credentialsChange =
            input.secret != nil || input.keyHeader != nil || auth != current.authType
            || !launch.environment.isEmpty || !launch.unsetEnvironment.isEmpty || launch.keyEnv != nil
            || (words != nil && current.authConfig != nil)
        var projected = current
        projected.setLaunch(words ?? current.commandLine ?? [], workingDirectory: cwdChange ?? current.workingDirectory)
        let stored = try Self.storedCredentials(
            current, seals, accepting: input.acceptChange, replaced: credentialsChange, projected: projected)
        var final = stored
        if credentialsChange {
            final = try Self.stdioCredentials(
                auth: auth, secret: input.secret, keyHeader: input.keyHeader, launch: launch, existing: stored)
            // Imported argument templates stay with their arguments; a new command line has none.
            if words == nil { final = Credentials.keeping("arg_templates", of: stored, in: final) }
        }
        let uid = userID
        return try store.write { db -> Connector? in
            guard
                var row = try Self.rowToUpdate(
                    current, ref: current.name, userID: uid, name: name, description: input.description, type: type,
                    policy: input, seals: input.acceptChange ? nil : seals, db)
            else { return nil }
            row.authType = auth
            let storedLine = row.commandLine ?? []
            if let words, words != storedLine {
                row.isVerified = false
                row.protocolVersion = nil
                row.protocolEra = nil
            }
            if credentialsChange { row.setEnvironmentNames(from: final) }
            row.setLaunch(words ?? storedLine, workingDirectory: cwdChange ?? row.workingDirectory)
            // Sealed last: the credentials are bound to the launch as it now is.
            try KeyGuard.checkForWrite(seals.key, db)
            seals.seal(&row, credentials: final)
            row.updatedAt = Date()
            try db.update(row)
            return row
        }
    }

    /// The command line with a relative program path (`./server`) made absolute against the working directory
    /// (or the current one): the connector must start the same from a cron job elsewhere.
    static func resolvedCommandLine(_ words: [String], workingDirectory: String?) throws(MCPConnError) -> [String] {
        var w = try Validate.commandLine(words)
        if w[0].contains("/"), !w[0].hasPrefix("/") {
            let base = workingDirectory.map(Validate.absolute) ?? FileManager.default.currentDirectoryPath
            w[0] = URL(fileURLWithPath: base + "/" + w[0]).standardizedFileURL.path
        }
        return w
    }

    /// The sealed part of a stdio connector: its environment and, for api_key, the key and the variable that
    /// carries it. Nil when there is nothing to seal.
    static func stdioCredentials(
        auth: AuthType, secret: String?, keyHeader: String?, launch: StdioInput, existing: Credentials?
    ) throws(MCPConnError) -> Credentials? {
        if keyHeader != nil { throw .usage("--key-header is for HTTP connectors; a local server gets --key-env VAR") }
        var env = existing?.environment ?? []
        env.removeAll { launch.unsetEnvironment.contains($0.name) }
        for v in launch.environment {
            env.removeAll { $0.name == v.name }
            env.append(v)
        }
        var fields = JSONObject()
        if !env.isEmpty { fields["env"] = .object(JSONObject(env.map { ($0.name, .string($0.value)) })) }
        switch auth {
        case .oauth:
            throw .usage(
                "--auth oauth is for HTTP connectors; give a local server its token with --auth api_key --key-env VAR")
        case .none:
            if secret != nil { throw .usage("--auth none takes no secret") }
            if launch.keyEnv != nil { throw .usage("--key-env needs --auth api_key") }
        case .apiKey:
            guard let keyEnv = launch.keyEnv ?? existing?.keyEnv else {
                throw .usage("--auth api_key on a local server needs --key-env VAR: the variable it reads its key from")
            }
            try Validate.environmentName(keyEnv)
            guard let key = try secret.map(Validate.secret) ?? existing?.fields["api_key"]?.stringValue else {
                throw .usage("--auth api_key needs a secret: --secret-stdin, --secret-env VAR or --secret-file PATH")
            }
            fields["api_key"] = .string(key)
            fields["key_env"] = .string(keyEnv)
        }
        return fields.isEmpty ? nil : Credentials(fields: fields)
    }
}

extension Connector {
    /// Sets the stored launch: program, arguments, working directory, and the command line shown in listings.
    mutating func setLaunch(_ words: [String], workingDirectory: String?) {
        command = words[0]
        commandArgs = JSONValue.array(words.dropFirst().map { .string($0) }).compactText()
        self.workingDirectory = workingDirectory
        serverURL = ShellWords.join(words)
        transport = "stdio"
    }

    /// Stores the names (never the values) of the variables `credentials` hands the server, its key's included.
    mutating func setEnvironmentNames(from credentials: Credentials?) {
        var names = credentials?.environment.map(\.name) ?? []
        if let k = credentials?.keyEnv, !names.contains(k) { names.append(k) }
        envNames = JSONValue.array(names.map { .string($0) }).compactText()
    }
}
