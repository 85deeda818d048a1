import ArgumentParser
import MCPConnCore

struct Refresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Re-discover the tools of connectors and store them.",
        discussion: "Exit 0 when all succeeded. One target: its own exit code on failure; several: 1.")

    @OptionGroup var targets: TargetOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let m = try global.manager()
        let reports = await m.refresh(try m.targets(targets.refs, all: targets.all), settings: network.settings(concurrency: targets.concurrency))
        if global.json { Output.json(.array(reports.map(\.refreshJSON))) }
        try FleetExit.check(reports, single: !targets.all && reports.count == 1, printErrors: true)
    }
}
