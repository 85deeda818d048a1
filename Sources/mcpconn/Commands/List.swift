import ArgumentParser
import MCPConnCore

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List connectors.")

    @Option(help: ArgumentHelp("Only connectors of this type.", valueName: "type")) var type: String?
    @Flag(help: "Only active connectors.") var active = false
    @Flag(help: "Only inactive connectors.") var inactive = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if active && inactive { throw ValidationError("give at most one of --active and --inactive") }
    }

    func run() throws {
        let format: ConnectorListing.Format = global.json ? .json : .table
        try global.manager().storage.listing(
            type: type, active: active ? true : inactive ? false : nil, format: format, to: Output.bytes)
    }
}
