import ArgumentParser
import MCPConnCore

struct Agents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Export the active, verified connectors as sub-agent definitions for a main agent.",
        discussion: """
            Text: a table. --json (or --format json): one entry per connector with tool_name, tool_description, \
            system_prompt and tools. --format openai: OpenAI function tools, one per sub-agent. A connector in \
            pinned mode (`update REF --pinned`, `policy --pinned`) brings only its tools stored in the form \
            approved with `mcpconn approve`; one with a tool allow-list (`update REF --allow-tools/--deny-tools`) \
            only the tools it lets through. See docs/agents.md.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, openai }

    @Option(help: ArgumentHelp("text, json or openai.", valueName: "format")) var format: Format?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let entries = try global.manager().storage.agents(warn: Output.error)
        switch format ?? (global.json ? .json : .text) {
        case .json: Output.json(.array(entries.map(\.json)))
        case .openai: Output.json(.array(entries.map(\.openAIFunction)))
        case .text: if !entries.isEmpty { Output.print(AgentEntry.table(entries)) }
        }
    }
}
