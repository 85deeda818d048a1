import ArgumentParser
import MCPConnCore

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that servers answer: connect, ping, report latency and server identity.",
        discussion: "Exit 0 when all are healthy. One target: its own exit code on failure; several: 1.")

    @OptionGroup var targets: TargetOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let m = try global.manager()
        let reports = await m.health(try m.targets(targets.refs, all: targets.all), settings: network.settings(concurrency: targets.concurrency))
        if global.json {
            Output.json(.array(reports.map(\.healthJSON)))
        } else {
            for r in reports { Output.line(r.healthLine) }
        }
        try FleetExit.check(reports, single: !targets.all && reports.count == 1, printErrors: global.json)
    }
}
