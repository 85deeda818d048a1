import ArgumentParser
import MCPConnCore

struct Refresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Re-discover the tools of connectors, store them and report what changed.",
        discussion: """
            One line per connector: its tool count and the drift (+added -removed ~changed). Failures go to \
            stderr. --quiet prints only changes and failures. Exit 0 when all succeeded (and, with \
            --fail-on-change, nothing changed); one target: its own exit code on failure; several: 1.
            """)

    @OptionGroup var targets: TargetOptions
    @Flag(help: "Exit 1 when any tool list changed (drift detection in CI).") var failOnChange = false
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
            throw MCPConnError(.failure, "tools changed on \(changed.map(\.name).joined(separator: ", "))")
        }
    }
}
