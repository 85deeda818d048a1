import ArgumentParser
import MCPConnCore

struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a connector; prints its id.",
        discussion: "The secret of api_key/oauth connectors comes from --secret-stdin, --secret-env or --secret-file.")

    @Argument(help: "A name, unique for the user.") var name: String
    @Argument(help: "The MCP server's URL (http or https).") var url: String
    @OptionGroup var connector: ConnectorOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let added = try global.manager().add(connector.input(name: name, url: url))
        if global.json { Output.json(added.json()) } else { Output.line(String(added.id ?? 0)) }
    }
}
