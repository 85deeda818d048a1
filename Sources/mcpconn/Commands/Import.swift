import ArgumentParser
import MCPConnCore

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import the MCP servers of a client's config file as connectors.",
        discussion: """
            Reads the servers of a Claude Desktop, Claude Code, VS Code, Cursor, Codex or Gemini CLI config file \
            (the format is told by the file's name and shape unless --from gives it). Header and environment \
            values are sealed like any secret; ${VAR}, ${VAR:-default}, ${env:VAR} and Codex's *_env_var keys \
            are read from the environment now. One line per entry: added, updated, unchanged, conflict or \
            skipped (with why). Exit 1 when an entry was skipped or is a conflict; the others are imported.
            """)

    @Argument(help: "The client's config file.") var file: String
    @Option(
        help: ArgumentHelp(
            "The client whose file it is: \(ClientFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "format"))
    var from: String?
    @Flag(help: "Update connectors that differ from the file (else they are reported as conflicts).")
    var replace = false
    @Flag(help: "Show what would happen; change nothing.")
    var dryRun = false
    @Option(
        help: ArgumentHelp(
            "The value of VS Code's ${input:ID}, read from environment variable VAR (repeatable).", valueName: "ID=VAR")
    )
    var input: [String] = []
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let manager = try global.manager()
        var options = ImportOptions(
            format: try from.map { f throws(MCPConnError) in try ClientFormat.parse(f) },
            environment: global.environment,
            storePath: manager.store.path)
        options.replace = replace
        options.dryRun = dryRun
        options.inputVariables = try inputVariables()
        let report = try manager.storage.importConfig(file, options)
        if global.json { Output.json(report.json(dryRun: dryRun)) } else { Output.print(report.text(dryRun: dryRun)) }
        // Like the fleet verbs: each problem also on stderr, one line, then the count as the error.
        let problems = report.outcomes.filter(\.isProblem)
        guard !problems.isEmpty else { return }
        Output.flush()
        for p in problems {
            Output.error("\(p.name): \(p.action == .conflict ? "conflict, " : "")\(p.note ?? p.action.rawValue)")
        }
        throw MCPConnError(
            .failure, "\(problems.count) of \(report.outcomes.count) entries of \(file) were not imported")
    }

    private func inputVariables() throws(MCPConnError) -> [String: String] {
        var out: [String: String] = [:]
        for pair in input {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex, pair.index(after: eq) != pair.endIndex
            else {
                throw MCPConnError(
                    .usage,
                    "--input takes ID=VAR (the environment variable holding the value), not '\(pair.prefix(40))'")
            }
            out[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        return out
    }
}
