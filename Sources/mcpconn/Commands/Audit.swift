import ArgumentParser
import MCPConnCore

/// `audit`: the calls `serve` recorded (issue 26), read from the store; never the arguments in clear unless asked.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the calls made through `serve`, newest first.",
        discussion: """
            serve writes a row for every tools/call (unless --no-audit): the time, the client (of --http \
            --clients), the connector, the tool, a SHA-256 of the arguments as canonical JSON (keys sorted, no \
            spaces), the outcome (ok, tool_error, refused, secret_refused, redacted, input_required), the latency \
            and the size of the answer. The arguments themselves are kept only by serve --audit-args, sealed \
            under the store key: --show-args opens them. WHEN is a time ago (15m, 2h, 7d) or a UTC date \
            (2026-12-01, 2026-12-01T08:00:00Z). --prune-before WHEN removes the user's older rows instead.
            """)

    @Option(help: ArgumentHelp("Only this client's calls.", valueName: "name")) var client: String?
    @Option(help: ArgumentHelp("Only calls to this connector.", valueName: "name")) var connector: String?
    @Option(help: ArgumentHelp("Only calls since then.", valueName: "when")) var since: String?
    @Option(help: ArgumentHelp("At most N rows.", valueName: "n")) var limit: Int = 100
    @Flag(help: "Show the arguments sealed by serve --audit-args (opened with the store key).") var showArgs = false
    @Option(help: ArgumentHelp("Remove the rows older than WHEN, and print how many.", valueName: "when"))
    var pruneBefore: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if limit < 1 || limit > 100_000 { throw ValidationError("--limit must be 1…100000") }
        if pruneBefore != nil && (client != nil || connector != nil || since != nil || showArgs) {
            throw ValidationError("--prune-before goes alone (it removes every older row of the user)")
        }
    }

    func run() throws {
        let storage = try global.manager().storage
        if let pruneBefore {
            let removed = try storage.pruneAudit(before: try AuditTime.parse(pruneBefore))
            if global.json {
                Output.json(.object(["removed": .int(Int64(removed))]))
            } else {
                Output.line("\(removed) audit row(s) removed")
            }
            return
        }
        let when = try since.map { text throws(MCPConnError) in try AuditTime.parse(text) }
        let rows = try storage.audit(client: client, connector: connector, since: when, limit: limit)
        let arguments = try rows.map { row throws(MCPConnError) in showArgs ? try storage.auditArguments(row) : nil }
        if global.json {
            Output.json(.array(zip(rows, arguments).map { $0.json(arguments: $1) }))
            return
        }
        guard !rows.isEmpty else { return }
        var table = TextTable(
            header: ["TIME", "CLIENT", "CONNECTOR", "TOOL", "OUTCOME", "MS", "BYTES", "ARGS"] + (showArgs ? [""] : []))
        for (row, args) in zip(rows, arguments) {
            var cells = [
                Timestamp.iso8601(row.time), row.client ?? "-", row.connector, row.tool, row.outcome,
                String(row.milliseconds), String(row.bytes), String(row.argumentsDigest.prefix(12)),
            ]
            if showArgs { cells.append(args?.compactText() ?? "-") }
            table.append(cells)
        }
        Output.print(table.render())
    }
}
