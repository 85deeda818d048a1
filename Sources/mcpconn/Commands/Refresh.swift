import ArgumentParser
import MCPConnCore

struct Refresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Re-discover tools, prompts and resources; store them, report what changed.",
        discussion: """
            One line per connector: its tool count and the drift: tools as +added -removed ~changed, the \
            others as `prompt NAME changed`, `resource URI removed`, `template URI added`. Failures go to \
            stderr. --quiet prints only changes and failures. Exit 0 when all succeeded (and, with \
            --fail-on-change, nothing changed); one target: its own exit code on failure; several: 1.
            """)

    @OptionGroup var targets: TargetOptions
    @Flag(help: "Exit 1 when any tool, prompt, resource or template changed (drift detection in CI).")
    var failOnChange = false
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let m = try global.manager()
        let reports = try await m.sessions.refresh(targets.selection.connectors(m), settings: network.settings(targets))
        if global.json {
            Output.json(.array(reports.map(\.refreshJSON)))
        } else {
            for r in reports where r.ok && !(targets.quiet && (r.diff?.isEmpty ?? true)) { Output.line(r.refreshLine) }
        }
        targets.noteSkipped(reports)
        try FleetExit.check(reports, single: targets.single)
        let changed = reports.filter { !($0.diff?.isEmpty ?? true) }
        if failOnChange && !changed.isEmpty {
            // The kinds that changed anywhere: `tools changed on a`, `prompts, templates changed on a, b`.
            let kinds = SurfaceKind.allCases.filter { kind in changed.contains { !($0.diff?[kind].isEmpty ?? true) } }
            throw MCPConnError(
                .failure,
                "\(kinds.map(\.rawValue).joined(separator: ", ")) changed on \(changed.map(\.name).joined(separator: ", "))"
            )
        }
    }
}
