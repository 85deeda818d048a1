import ArgumentParser
import MCPConnCore

struct Prompt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompt",
        abstract: "Get a connector's prompt with its arguments and print its messages.",
        discussion: """
            Each message prints under a [role] line; --json prints the whole result. Prompt arguments are strings: \
            --arg key=value takes the value as it is.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Argument(help: "The prompt's name.") var name: String
    @Option(name: .customLong("arg"), help: ArgumentHelp("One argument; repeatable.", valueName: "key=value"))
    var pairs: [String] = []
    @OptionGroup var request: RequestOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let arguments = try CallArguments.strings(pairs, flag: "--arg")
        let (settings, display) = try request.settings(connector: ref, json: global.json)
        defer { display.finish() }
        let result = try await global.manager().sessions.request(
            ref, GetPrompt.self, .init(name: name, arguments: arguments), settings: settings)
        display.finish()
        if global.json { Output.json(result.value) }
        try InputRequired.check(result.value, "prompt '\(name)'")
        if !global.json { Output.print(PromptText.text(result.value)) }
    }
}
