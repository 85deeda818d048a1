import ArgumentParser
import MCPConnCore

struct PinsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pins",
        abstract: "Show each stored tool, prompt and resource against its approval.",
        discussion: """
            Status: approved (stored as approved), changed (approved in another form), new (never approved), \
            removed (approved, no longer stored). The server line (`approve --server`) says what changed: its \
            name, version or certificate key. Exit 0; 65 when an approval was changed outside mcpconn (it \
            counts as none).
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let report = try global.manager().storage.pins(ref)
        if global.json {
            Output.json(.array((report.server.map { [$0.json] } ?? []) + report.checks.map(\.json)))
        } else if !report.checks.isEmpty || report.server != nil {
            Output.print(Self.table(report.server, report.checks))
        } else if report.connector.storedText(.tools) == nil {
            // As `tools` says it.
            let name = report.connector.name
            Output.error("connector '\(name)' has no discovered tools yet: run `mcpconn verify \(name)`")
        }
        guard report.changedOutside.isEmpty else {
            let c = report.connector
            throw MCPConnError(
                .dataError,
                "connector '\(c.name)': the approval of \(report.changedOutside.joined(separator: ", ")) was changed outside mcpconn and counts as none; approve again with `mcpconn approve \(c.name) ...`"
            )
        }
    }

    static func table(_ server: ServerPinCheck?, _ checks: [PinCheck]) -> String {
        var t = TextTable(header: ["STATUS", "KIND", "NAME", "APPROVED BY", "APPROVED AT"])
        if let s = server {
            let name = (s.current ?? s.pin?.form).map {
                [$0.name, $0.version].compactMap { $0 }.joined(separator: " ")
            }
            t.append([
                s.statusText, "server", name ?? "", s.pin?.approvedBy ?? "-",
                s.pin.map { Timestamp.iso8601($0.approvedAt) } ?? "-",
            ])
        }
        for c in checks {
            t.append([
                c.status.rawValue, c.kind.singular, c.name, c.pin?.approvedBy ?? "-",
                c.pin.map { Timestamp.iso8601($0.approvedAt) } ?? "-",
            ])
        }
        return t.render()
    }
}
