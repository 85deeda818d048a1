import ArgumentParser
import MCPConnCore

struct Call: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, agent }

    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a tool of a connector and print its result.",
        discussion: """
            Arguments: --args JSON, --args @FILE or --args - (stdin), plus --arg key=value pairs (the value is JSON \
            if it parses, else a string). A result with isError exits 1 with its text on stderr; a server that asks \
            for input instead (2026-07-28's input_required) exits 79. With --task the call runs as a task (where the \
            server and the tool support it) and its id is printed: follow it with `mcpconn task REF ID`. A \
            connector in pinned mode (`update REF --pinned`, `policy --pinned`) lists its tools first, on the same \
            session, and calls the tool only in the form approved with `mcpconn approve`; else nothing is called \
            and the exit is 80. A tool outside the connector's allow-list (`update REF --allow-tools/--deny-tools`) \
            is never called: exit 80, nothing sent.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Argument(help: "The tool's name.") var tool: String
    @Option(help: ArgumentHelp("Arguments as a JSON object, @FILE, or - for stdin.", valueName: "json"))
    var args: String?
    @Option(name: .customLong("arg"), help: ArgumentHelp("One argument; repeatable.", valueName: "key=value"))
    var pairs: [String] = []
    @Option(
        help: ArgumentHelp(
            "text (default), json, or agent: `[connector:tool] text` lines for streaming UIs.", valueName: "format"))
    var format: Format?
    @Flag(help: "Run the call as a task and print its id (a remote server that supports tasks).") var task = false
    @Option(help: ArgumentHelp("With --task: how long the server keeps the task.", valueName: "seconds"))
    var ttl: Double?
    @Flag(help: "In pinned mode, call the tool even if it is not approved in the form the server lists now.")
    var allowUnpinned = false
    @OptionGroup var request: RequestOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if ttl != nil && !task { throw ValidationError("--ttl needs --task") }
        if let ttl, !(ttl > 0 && ttl <= 366 * 86400) {
            throw ValidationError("--ttl must be more than 0 and at most 31622400 seconds")
        }
    }

    func run() async throws {
        let arguments = try CallArguments.build(args: args, pairs: pairs)
        let (settings, display) = try request.settings(connector: ref, json: global.json)
        defer { display.finish() }
        let manager = try global.manager()
        let format = format ?? (global.json ? .json : .text)
        if task {
            let ttl = ttl.map { Int($0 * 1000) }
            let created = try await manager.sessions.startTask(
                ref, tool: tool, arguments: arguments, ttl: ttl, settings: settings, allowUnpinned: allowUnpinned,
                warn: Output.error)
            if format == .json { Output.json(created) } else { Output.line(TaskText.id(created["task"])) }
            return
        }
        let result = try await manager.sessions.call(
            ref, tool: tool, arguments: arguments, settings: settings, allowUnpinned: allowUnpinned, warn: Output.error)
        display.finish()
        let name = format == .agent ? try manager.storage.get(ref).name : ref
        try Self.report(result, format: format, connector: name, tool: tool, what: "tool '\(tool)'")
    }

    /// Prints a CallToolResult (also a task's, see `task --wait`) and fails as the call did: `isError` exits 1,
    /// a 2026-07-28 server asking for input instead of answering (the call did not complete) 79.
    static func report(_ result: JSONValue, format: Format, connector: String, tool: String, what: String) throws {
        let asked = CallResultText.inputRequired(result)
        let failed = CallResultText.isError(result)
        switch format {
        case .json: Output.json(result)
        case .text where !failed && asked == nil: for line in CallResultText.lines(result) { Output.line(line) }
        case .agent where !failed:
            for line in CallResultText.agentLines(result, connector: connector, tool: tool) { Output.line(line) }
        default: break
        }
        if asked != nil { try InputRequired.check(result, what) }
        if failed { throw MCPConnError(.failure, "\(what) failed: \(CallResultText.errorText(result))") }
    }
}
