import ArgumentParser
import MCPConnCore

/// `client`: the identities `serve --http --clients` accepts (issue 26).
struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Add, rotate, remove or list the clients of `serve --http --clients`.",
        discussion: """
            A client is a name, a token and what the token may use: the connectors of one user (--user, as for \
            every verb), narrowed by --allow and --deny rules (CONNECTOR or CONNECTOR:TOOL-GLOB, fnmatch globs), \
            and a rate. Its token is printed once, by `client add` and `client rotate`, as the last line of \
            stdout; the store keeps only its SHA-256. Clients are sealed under the store key: one changed outside \
            mcpconn is refused by serve, and `client list` exits 65 naming it.
            """,
        subcommands: [ClientAdd.self, ClientRotate.self, ClientRemove.self, ClientList.self])
}

struct ClientAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Create a client and print its token once.")

    @Argument(help: "The client's name: letters, digits, '-', '_', '.'.") var name: String
    @Option(
        name: .customLong("allow"),
        help: ArgumentHelp("A connector, or CONNECTOR:TOOL-GLOB, the client may use (repeatable).", valueName: "rule"))
    var allow: [String] = []
    @Option(
        name: .customLong("deny"),
        help: ArgumentHelp(
            "A connector, or CONNECTOR:TOOL-GLOB, refused to the client (repeatable).", valueName: "rule"))
    var deny: [String] = []
    @Option(help: ArgumentHelp("At most N requests a minute (HTTP 429 beyond).", valueName: "N/min")) var rate: String?
    @Flag(help: "The client may read the gateway's metrics.") var metrics = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let access = try ClientAccess(allow: allow, deny: deny)
        let perMinute = try rate.map { r throws(MCPConnError) in try ClientRate.parse(r) }
        let storage = try global.manager().storage
        let (client, token) = try storage.addClient(
            name: name, access: access, ratePerMinute: perMinute, metrics: metrics)
        if global.json {
            var o = client.json.objectValue ?? [:]
            o["token"] = .string(token)
            Output.json(.object(o))
        } else {
            Output.line("client '\(client.name)' added for user \(client.user); its token (shown only now):")
            Output.line(token)
        }
    }
}

struct ClientRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Give a client a new token (printed once); the old one stops working.")

    @Argument(help: "The client's name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let token = try global.manager().storage.rotateClient(name)
        if global.json {
            Output.json(.object(["name": .string(name), "token": .string(token)]))
        } else {
            Output.line("client '\(name)' has a new token (shown only now):")
            Output.line(token)
        }
    }
}

struct ClientRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a client: its token stops working.")

    @Argument(help: "The client's name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.manager().storage.removeClient(name)
        if global.json { Output.json(.object(["name": .string(name), "removed": .bool(true)])) }
    }
}

struct ClientList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the clients (never their tokens nor hashes).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let found = try global.manager().storage.clients()
        if global.json {
            Output.json(.array(found.intact.map(\.json)))
        } else {
            for c in found.intact {
                let rules =
                    c.access.allow.map { "+" + $0.text } + c.access.deny.map { "-" + $0.text }
                Output.line(
                    "\(c.name)\tuser \(c.user)\t\(rules.isEmpty ? "all" : rules.joined(separator: " "))\t"
                        + (c.ratePerMinute.map { "\($0)/min" } ?? "no rate") + (c.metrics ? "\tmetrics" : ""))
            }
        }
        if !found.changedOutside.isEmpty {
            throw MCPConnError(
                .dataError,
                "client(s) changed outside mcpconn, refused by serve: "
                    + found.changedOutside.map { "'\(TerminalText.escape($0))'" }.joined(separator: ", ")
                    + " (client remove, then add again)")
        }
    }
}
