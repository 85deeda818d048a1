import ArgumentParser
import MCPConnCore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Connect to servers, list their tools, prompts and resources, store them.",
        discussion: """
            On success a connector is verified; on failure it is marked unverified with the error. Quiet on \
            success. One target: its own exit code on failure; several: 1.
            """)

    @OptionGroup var targets: TargetOptions
    @Option(
        name: .customLong("expect-tool"),
        help: ArgumentHelp("Fail (exit 1) unless the server has this tool; repeatable.", valueName: "name"))
    var expectTools: [String] = []
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let m = try global.manager()
        let reports = try await m.sessions.verify(
            try targets.selection.connectors(m), expectTools: expectTools, settings: network.settings(targets))
        if global.json {
            // One target is one object; with --claim it may have been left to another runner: null.
            Output.json(targets.single ? reports.first?.refreshJSON ?? .null : .array(reports.map(\.refreshJSON)))
        }
        targets.noteSkipped(reports)
        try FleetExit.check(reports, single: targets.single)
        let lacking = reports.filter { !$0.missingTools.isEmpty }
        if !lacking.isEmpty {
            for r in lacking.dropLast() {
                Output.error("connector '\(r.name)' lacks tools: \(r.missingTools.joined(separator: ", "))")
            }
            let last = lacking.last!
            throw MCPConnError(
                .failure, "connector '\(last.name)' lacks tools: \(last.missingTools.joined(separator: ", "))")
        }
    }
}
