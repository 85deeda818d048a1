import ArgumentParser
import MCPConnCore

struct Prompts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompts",
        abstract: "List a connector's prompts (asks the server).",
        discussion: "A server that offers no prompts has none: nothing is printed (`[]` with --json).")

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let prompts = try await global.manager().sessions.list(ref, ListPrompts.self, settings: network.settings())
        if global.json {
            Output.json(.array(prompts))
        } else if !prompts.isEmpty {
            Output.print(TextTable.prompts(prompts))
        }
    }
}
