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
            --fail-on-change, nothing changed; with --fail-on-unapproved, every tool stored is approved in that \
            form); one target: its own exit code on failure (80 for unapproved tools); several: 1.
            """)

    @OptionGroup var targets: TargetOptions
    @Flag(help: "Exit 1 when any tool, prompt, resource or template changed (drift detection in CI).")
    var failOnChange = false
    @Flag(
        help:
            "Exit 80 when any tool stored now is changed or new against the connector's approvals (`mcpconn approve`), pinned mode or not."
    )
    var failOnUnapproved = false
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
        if failOnUnapproved { try Self.checkApproved(reports, m.storage, single: targets.single) }
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

    /// `--fail-on-unapproved`, by the fleet rule: one line per connector with tools changed or new against its
    /// approvals, or a server whose identity changed since `approve --server` (a server never pinned does not
    /// count); a single target exits 80 with its line, several 1.
    static func checkApproved(_ reports: [ConnectorReport], _ storage: ConnectorStorage, single: Bool) throws {
        let unapproved = try storage.unapprovedTools(reports.map(\.id))
        var servers: [Int64: ServerPinCheck] = [:]
        for r in reports {
            if let check = try storage.serverPinCheck(String(r.id)), check.status == .changed { servers[r.id] = check }
        }
        let lines = reports.compactMap { r -> String? in
            var items = (servers[r.id].map { ["server (\($0.statusText))"] } ?? [])
            items += (unapproved[r.id] ?? []).map { "\(TerminalText.escape($0.name)) (\($0.status.rawValue))" }
            guard !items.isEmpty else { return nil }
            return
                "connector '\(r.name)' has \(unapproved[r.id] == nil ? "a server" : "tools") not approved in the form stored now: \(items.joined(separator: ", ")); see `mcpconn pins \(r.name)`"
        }
        guard !lines.isEmpty else { return }
        if single { throw MCPConnError(.unapproved, lines[0]) }
        Output.flush()
        for line in lines { Output.error(line) }
        throw MCPConnError(.failure, "\(lines.count) of \(reports.count) connectors have unapproved tools")
    }
}
