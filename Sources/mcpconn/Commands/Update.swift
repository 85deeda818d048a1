import ArgumentParser
import MCPConnCore

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change a connector's fields or credentials.",
        discussion: "Only the options given change. Changing the URL marks the connector unverified.")

    @Argument(help: "The connector's id or name.") var ref: String
    @Option(help: "A new name.") var name: String?
    @Option(help: "A new server URL.") var url: String?
    @OptionGroup var connector: ConnectorOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let updated = try global.manager().update(ref, connector.input(name: name, url: url))
        if global.json { Output.json(updated.json()) }
    }
}
