import ArgumentParser
import MCPConnCore

struct Approve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve tools in the form the last verify or refresh stored (pins them).",
        discussion: """
            Records each item's form (a SHA-256 of its name, description, schemas and annotations; for prompts \
            their arguments, for resources and templates their name, description and media type), who approved it \
            and when. With --server, the server's name and version as last seen and, over HTTPS, its certificate's \
            public key are pinned too. `mcpconn pins REF` shows what changed since.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Argument(
        help: ArgumentHelp(
            "The tools to approve (with --kind, prompts, resource URIs or templates).", valueName: "tool"))
    var names: [String] = []
    @Flag(help: "Approve every stored tool, prompt, resource and template, and drop approvals of those gone.")
    var all = false
    @Flag(help: "Approve the server's name, version and (HTTPS) certificate key as last seen.") var server = false
    @Option(help: "What the names are (templates: resource templates).") var kind: SurfaceKind = .tools
    @Flag(help: "Approve items with a high scan finding too.") var force = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if all, !names.isEmpty { throw ValidationError("give the names of the tools to approve, or --all") }
        if !all, names.isEmpty, !server {
            throw ValidationError("give the names of the tools to approve, --all or --server")
        }
        if all, kind != .tools { throw ValidationError("--all approves every kind: leave --kind out") }
    }

    func run() throws {
        let storage = try global.manager().storage
        let (c, pins, serverPin) = try storage.approve(
            ref, kind: kind, names: names, all: all, server: server, by: OSUser.name, force: force,
            shown: { Output.stderr($0.line + "\n") })
        if all, c.storedText(.tools) == nil {
            // As `tools` says it: nothing stored yet, nothing approved.
            Output.error("connector '\(c.name)' has no discovered tools yet: run `mcpconn verify \(c.name)`")
        }
        if global.json { Output.json(.array(pins.map(\.json) + (serverPin.map { [$0.json] } ?? []))) }
    }
}
