import ArgumentParser
import Foundation
import MCPConnCore

/// The options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "SQLite database file, or a postgresql:// URL for a store shared by many hosts (env MCPCONN_DB).",
            valueName: "path|url"))
    var db: String?

    @Option(help: ArgumentHelp("The user whose connectors to use (env MCPCONN_USER, default 1).", valueName: "id"))
    var user: Int64?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if let user, user <= 0 { throw ValidationError("--user must be a positive integer") }
    }

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The user id: `--user`, else `$MCPCONN_USER`, else 1.
    func userID() throws(MCPConnError) -> Int64 {
        if let user { return user }
        guard let text = environment["MCPCONN_USER"], !text.isEmpty else { return 1 }
        guard let id = Int64(text), id > 0 else {
            throw MCPConnError(.usage, "MCPCONN_USER must be a positive integer, not '\(text)'")
        }
        return id
    }

    /// `--db`, else `$MCPCONN_DB`, else the default file. A PostgreSQL URL may hold a password: never shown.
    var storeLocation: String { Paths.databasePath(option: db, environment: environment) }

    /// Opens the store and scopes it to the user.
    func manager() throws(MCPConnError) -> ConnectorManager {
        let uid = try userID()
        let store = try Store.open(storeLocation)
        let keys = KeyProvider(environment: environment, notice: { Output.error($0) })
        return ConnectorManager(store: store, userID: uid, keys: keys)
    }
}

/// Where a secret comes from: never argv.
struct SecretOptions: ParsableArguments {
    @Flag(help: "Read the secret (API key or token) from standard input.")
    var secretStdin = false

    @Option(help: ArgumentHelp("Read the secret from this environment variable.", valueName: "VAR"))
    var secretEnv: String?

    @Option(help: ArgumentHelp("Read the secret from this file.", valueName: "path"))
    var secretFile: String?

    func validate() throws {
        if [secretStdin, secretEnv != nil, secretFile != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give at most one of --secret-stdin, --secret-env, --secret-file")
        }
    }

    /// The secret, read from its source; nil when no source was given.
    func read() throws(MCPConnError) -> String? {
        try SecretSource(stdin: secretStdin, env: secretEnv, file: secretFile)?.read()
    }
}

/// Connector fields shared by `add` and `update`.
struct ConnectorOptions: ParsableArguments {
    @Option(help: "A description for people.")
    var description: String?

    @Option(help: ArgumentHelp("The connector type (detected from the URL or name if not given).", valueName: "type"))
    var type: String?

    @Option(help: ArgumentHelp("How to authenticate: none, api_key or oauth.", valueName: "auth"))
    var auth: String?

    @Option(help: ArgumentHelp("The header carrying an api_key (default X-API-Key).", valueName: "header"))
    var keyHeader: String?

    @OptionGroup var secret: SecretOptions
    @OptionGroup var tls: TLSOptions

    @Option(
        help: ArgumentHelp(
            "Use only the tools whose name matches this glob (repeatable; replaces the list; \"\" clears it).",
            valueName: "glob"))
    var allowTools: [String] = []

    @Option(
        help: ArgumentHelp(
            "Never use the tools whose name matches this glob (repeatable; replaces the list; \"\" clears it).",
            valueName: "glob"))
    var denyTools: [String] = []

    func input(name: String?, url: String?, stdio: StdioInput? = nil) throws(MCPConnError) -> ConnectorInput {
        var input = ConnectorInput(
            name: name, serverURL: url, description: description, type: type,
            authType: try auth.map { a throws(MCPConnError) in try AuthType.parse(a) }, keyHeader: keyHeader,
            secret: try secret.read(), stdio: stdio)
        input.tls = try tls.input()
        input.allowTools = allowTools.isEmpty ? nil : allowTools
        input.denyTools = denyTools.isEmpty ? nil : denyTools
        return input
    }
}

/// An HTTPS connector's TLS settings, shared by `add` and `update` (an empty value clears one in `update`).
struct TLSOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Trust the CAs in this PEM bundle for the server, on top of the system's (the path is stored).",
            valueName: "path"))
    var caFile: String?

    @Option(
        help: ArgumentHelp("Present this PEM client certificate (mutual TLS; the path is stored).", valueName: "path"))
    var clientCert: String?

    @Option(
        help: ArgumentHelp(
            "The client certificate's PEM private key: read once and sealed in the store.", valueName: "path"))
    var clientKeyFile: String?

    @Option(
        name: .customLong("pin-sha256"),
        help: ArgumentHelp(
            "Accept only a server key with this base64 SHA-256 (repeatable; as curl's --pinnedpubkey).",
            valueName: "base64"))
    var pins: [String] = []

    func input() throws(MCPConnError) -> TLSInput? {
        let key = try clientKeyFile.map { p throws(MCPConnError) in try PEMFile.readPrivateKey(path: p) }
        let input = TLSInput(caFile: caFile, clientCert: clientCert, clientKey: key, pins: pins.isEmpty ? nil : pins)
        return input.isEmpty ? nil : input
    }
}

/// How a local server (a stdio connector) is started, shared by `add` and `update`.
struct StdioOptions: ParsableArguments {
    @Option(
        name: .customLong("env"),
        help: ArgumentHelp(
            "An environment variable for a local server (repeatable). Values are sealed; for a secret prefer --env-file or --key-env, which keep it off the command line.",
            valueName: "NAME=VALUE"))
    var env: [String] = []

    @Option(help: ArgumentHelp("Environment variables for a local server from a dotenv file.", valueName: "path"))
    var envFile: String?

    @Option(help: ArgumentHelp("The working directory of a local server.", valueName: "dir"))
    var cwd: String?

    @Option(help: ArgumentHelp("The variable that hands the api_key secret to a local server.", valueName: "VAR"))
    var keyEnv: String?

    /// The launch these options describe, with `commandLine` (the words after `--`, if any).
    func input(commandLine: [String], unset: [String] = []) throws(MCPConnError) -> StdioInput {
        var environment = try envFile.map { f throws(MCPConnError) in try EnvironmentVariable.read(envFile: f) } ?? []
        for e in env { environment.append(try EnvironmentVariable.parse(e)) }
        return StdioInput(
            commandLine: commandLine.isEmpty ? nil : commandLine, workingDirectory: cwd, environment: environment,
            unsetEnvironment: unset, keyEnv: keyEnv)
    }
}
