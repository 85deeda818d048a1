import ArgumentParser
import MCPConnCore

extension ScanSeverity: ExpressibleByArgument {}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Look for tool poisoning in the stored tools, prompts and resources.",
        discussion: """
            Reads what the last verify or refresh stored, and no server. Finds hidden text, instructions to the \
            model, paths to secrets, exfiltration URLs, other connectors' tool names, fields asking for secrets. \
            One line per finding: CONNECTOR KIND ITEM FIELD: SEVERITY RULE "EXCERPT" (DETAIL), the excerpt escaped \
            (invisible characters as \\u{…}). Pattern-based: no finding does not make a server honest. Exit 1 when \
            any finding is at or above --fail-on; a connector never verified is named on stderr and does not fail \
            the scan.
            """)

    @OptionGroup var selection: ConnectorSelection
    @Option(help: ArgumentHelp("Exit 1 on a finding of this severity or worse.", valueName: "severity"))
    var failOn: ScanSeverity = .medium
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let report = try global.manager().storage.scan(selection.refs, all: selection.all)
        if global.json {
            Output.json(.array(report.findings.map(\.json)))
        } else {
            for f in report.findings { Output.line(f.line) }
        }
        for name in report.unverified {
            Output.error("connector '\(name)' has no discovered tools yet: run `mcpconn verify \(name)` (not scanned)")
        }
        let failing = report.findings.filter { $0.severity >= failOn }
        guard !failing.isEmpty else { return }
        var connectors: [String] = []
        for f in failing where connectors.last != f.connector { connectors.append(f.connector) }
        throw MCPConnError(
            .failure,
            "\(failing.count) finding\(failing.count == 1 ? "" : "s") at or above \(failOn.rawValue) in \(connectors.joined(separator: ", "))"
        )
    }
}
