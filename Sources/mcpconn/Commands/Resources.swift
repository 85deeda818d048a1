import ArgumentParser
import MCPConnCore

struct Resources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resources",
        abstract: "List a connector's resources, or its resource templates (asks the server).",
        discussion: "A server that offers no resources has none: nothing is printed (`[]` with --json).")

    @Argument(help: "The connector's id or name.") var ref: String
    @Flag(help: "List the resource templates (URI templates, RFC 6570) instead.") var templates = false
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let sessions = try global.manager().sessions
        let settings = network.settings()
        let items =
            templates
            ? try await sessions.list(ref, ListResourceTemplates.self, settings: settings)
            : try await sessions.list(ref, ListResources.self, settings: settings)
        if global.json {
            Output.json(.array(items))
        } else if !items.isEmpty {
            Output.print(templates ? TextTable.resourceTemplates(items) : TextTable.resources(items))
        }
    }
}
