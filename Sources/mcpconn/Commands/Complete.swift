import ArgumentParser
import MCPConnCore

struct CompleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete",
        abstract: "Ask a connector to complete an argument of a prompt or a resource template.",
        discussion: """
            Prints the server's suggestions for --arg name=partial, one per line; --json prints the whole result \
            (with total and hasMore when the server gives them). --context passes arguments already chosen.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Option(help: ArgumentHelp("The prompt whose argument to complete.", valueName: "name")) var prompt: String?
    @Option(help: ArgumentHelp("The resource template whose variable to complete.", valueName: "uri-template"))
    var resource: String?
    @Option(
        name: .customLong("arg"),
        help: ArgumentHelp("The argument and what is typed so far.", valueName: "name=partial"))
    var argument: String
    @Option(
        name: .customLong("context"),
        help: ArgumentHelp("An argument already chosen; repeatable.", valueName: "key=value"))
    var context: [String] = []
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if (prompt == nil) == (resource == nil) { throw ValidationError("give --prompt NAME or --resource URI") }
    }

    func run() async throws {
        guard let (name, partial) = try CallArguments.strings([argument], flag: "--arg").pairs.first else { return }
        let reference: Complete.Reference = prompt.map { .prompt($0) } ?? .resourceTemplate(resource ?? "")
        let params = Complete.Params(
            reference, argument: name, value: partial.stringValue ?? "",
            context: try CallArguments.strings(context, flag: "--context"))
        let result = try await global.manager().sessions.request(
            ref, Complete.self, params, settings: network.settings())
        if global.json {
            Output.json(result.value)
        } else {
            for value in result.values { Output.line(TerminalText.escape(value, .line)) }
        }
    }
}
