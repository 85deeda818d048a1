import ArgumentParser
import MCPConnCore

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that servers answer: latency, server identity and protocol version.",
        discussion: """
            One line per connector; failures also on stderr. --quiet prints only failures. Exit 0 when all are \
            healthy; one target: its own exit code on failure; several: 1.
            """)

    @OptionGroup var targets: TargetOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let m = try global.manager()
        let reports = try await m.sessions.health(targets.selection.connectors(m), settings: network.settings(targets))
        if global.json {
            Output.json(.array(reports.map(\.healthJSON)))
        } else {
            for r in reports where r.ok && !targets.quiet { Output.line(r.healthLine) }
        }
        targets.noteSkipped(reports)
        try FleetExit.check(reports, single: targets.single)
    }
}
