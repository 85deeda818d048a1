import ArgumentParser
import MCPConnCore

struct Call: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, agent }

    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a tool of a connector and print its result.",
        discussion: """
            Arguments: --args JSON, --args @FILE or --args - (stdin), plus --arg key=value pairs (the value is JSON \
            if it parses, else a string). A result with isError exits 1 with its text on stderr; a server that asks \
            for input instead (2026-07-28's input_required) exits 79.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Argument(help: "The tool's name.") var tool: String
    @Option(help: ArgumentHelp("Arguments as a JSON object, @FILE, or - for stdin.", valueName: "json"))
    var args: String?
    @Option(name: .customLong("arg"), help: ArgumentHelp("One argument; repeatable.", valueName: "key=value"))
    var pairs: [String] = []
    @Option(
        help: ArgumentHelp(
            "text (default), json, or agent: `[connector:tool] text` lines for streaming UIs.", valueName: "format"))
    var format: Format?
    @OptionGroup var request: RequestOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let arguments = try CallArguments.build(args: args, pairs: pairs)
        let (settings, display) = try request.settings(connector: ref, json: global.json)
        defer { display.finish() }
        let manager = try global.manager()
        let result = try await manager.sessions.call(ref, tool: tool, arguments: arguments, settings: settings)
        display.finish()
        // A 2026-07-28 server may ask for input instead of answering: the call did not complete.
        let asked = CallResultText.inputRequired(result)
        let failed = CallResultText.isError(result)
        switch format ?? (global.json ? .json : .text) {
        case .json: Output.json(result)
        case .text where !failed && asked == nil: for line in CallResultText.lines(result) { Output.line(line) }
        case .agent where !failed:
            let name = try manager.storage.get(ref).name
            for line in CallResultText.agentLines(result, connector: name, tool: tool) { Output.line(line) }
        default: break
        }
        if asked != nil { try InputRequired.check(result, "tool '\(tool)'") }
        if failed {
            throw MCPConnError(.failure, "tool '\(tool)' failed: \(CallResultText.errorText(result))")
        }
    }
}
