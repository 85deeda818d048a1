import ArgumentParser
import MCPConnCore

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a tool of a connector and print its result.",
        discussion: """
            Arguments: --args JSON, --args @FILE or --args - (stdin), plus --arg key=value pairs (the value is JSON \
            if it parses, else a string). A result with isError exits 1 with its text on stderr.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Argument(help: "The tool's name.") var tool: String
    @Option(help: ArgumentHelp("Arguments as a JSON object, @FILE, or - for stdin.", valueName: "json"))
    var args: String?
    @Option(name: .customLong("arg"), help: ArgumentHelp("One argument; repeatable.", valueName: "key=value"))
    var pairs: [String] = []
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let arguments = try CallArguments.build(args: args, pairs: pairs)
        let result = try await global.manager().call(ref, tool: tool, arguments: arguments, settings: network.settings())
        if global.json {
            Output.json(result)
        } else if !CallResultText.isError(result) {
            for line in CallResultText.lines(result) { Output.line(line) }
        }
        if CallResultText.isError(result) {
            throw MCPConnError(.failure, "tool '\(tool)' failed: \(CallResultText.errorText(result))")
        }
    }
}
