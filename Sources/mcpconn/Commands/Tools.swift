import ArgumentParser
import MCPConnCore

struct Tools: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "Show the tools stored at the last verify or refresh.")

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let c = try global.manager().storage.get(ref)
        if global.json {
            Output.json(.array(c.tools))
        } else if c.tools.isEmpty {
            if c.lastVerifiedAt == nil {
                Output.error("connector '\(c.name)' has no discovered tools yet: run `mcpconn verify \(c.name)`")
            }
        } else {
            Output.print(TextTable.tools(c.tools))
        }
    }
}
