import ArgumentParser
import MCPConnCore

struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a connector; prints its id.",
        usage: """
            mcpconn add <name> <url> [<options>]
            mcpconn add <name> [<options>] -- <command> [<args> ...]
            """,
        discussion: """
            A remote server is given by its URL; a local server by the command that starts it, after `--` \
            (stdio: mcpconn runs it for each operation). The secret of api_key/oauth connectors comes from \
            --secret-stdin, --secret-env or --secret-file; a local server receives it in the variable named by \
            --key-env.
            """)

    @Argument(help: "A name, unique for the user.") var name: String
    @Argument(help: "The MCP server's URL (http or https); none for a local server.") var url: String?
    @Argument(parsing: .postTerminator, help: "The command that starts a local server, and its arguments.")
    var command: [String] = []
    @OptionGroup var connector: ConnectorOptions
    @OptionGroup var stdio: StdioOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let input = try connector.input(name: name, url: url, stdio: stdio.input(commandLine: command))
        let added = try global.manager().storage.add(input)
        if global.json { Output.json(added.json()) } else { Output.line(String(added.id ?? 0)) }
    }
}
