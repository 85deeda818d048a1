import ArgumentParser
import MCPConnCore

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the recorded outcomes of verify, refresh and health for a connector, newest first.",
        discussion: "mcpconn keeps the last 1000 entries per connector.")

    @Argument(help: "The connector's id or name.") var ref: String
    @Option(help: ArgumentHelp("How many entries.", valueName: "n")) var limit: Int = 20
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if limit < 1 || limit > 1000 { throw ValidationError("--limit must be 1…1000") }
    }

    func run() throws {
        let (_, entries) = try global.manager().storage.history(ref, limit: limit)
        if global.json {
            Output.json(.array(entries.map(\.json)))
        } else if !entries.isEmpty {
            Output.print(HistoryEntry.table(entries))
        }
    }
}
