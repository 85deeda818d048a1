import ArgumentParser
import MCPConnCore

extension SurfaceKind: ExpressibleByArgument {}

struct Tools: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "Show what the last verify or refresh stored: tools, prompts, resources.")

    @Argument(help: "The connector's id or name.") var ref: String
    @Option(help: "What to show (templates: resource templates).") var kind: SurfaceKind = .tools
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let c = try global.manager().storage.get(ref)
        let items = c.stored(kind)
        if global.json {
            Output.json(.array(items))
        } else if items.isEmpty {
            // Nothing stored yet (or only by an mcpconn that kept tools alone): say how to get it.
            if c.lastVerifiedAt == nil || c.storedText(kind) == nil {
                Output.error(
                    "connector '\(c.name)' has no discovered \(kind.rawValue) yet: run `mcpconn verify \(c.name)`")
            }
        } else {
            Output.print(Self.table(kind, items))
        }
    }

    static func table(_ kind: SurfaceKind, _ items: [JSONValue]) -> String {
        switch kind {
        case .tools: return TextTable.tools(items)
        case .prompts: return TextTable.prompts(items)
        case .resources: return TextTable.resources(items)
        case .templates: return TextTable.resourceTemplates(items)
        }
    }
}
