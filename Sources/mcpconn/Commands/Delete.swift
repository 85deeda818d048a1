import ArgumentParser
import MCPConnCore

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a connector and its credentials.")

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let deleted = try global.manager().storage.delete(ref)
        if global.json { Output.json(deleted.json()) }
    }
}
