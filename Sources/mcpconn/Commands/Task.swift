import ArgumentParser
import MCPConnCore

/// `task`: follows a tool call started with `call --task`, in a session of its own.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Show, wait for or cancel a task started with `call --task`.",
        discussion: """
            Prints the task's status (working, input_required, completed, failed, cancelled) and its message; \
            --json the server's task. --wait polls it (at the server's pollInterval, 0.1…5 s) until it ends and \
            prints its result as `call` does, with call's exit codes; a task still working at --timeout exits 75, \
            one that failed or was cancelled exits 1, one that needs input 79. Only a remote server's task can be \
            followed (a local server's process ends with each invocation, exit 64), and some servers know a task \
            only in the session that started it.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Argument(help: "The task's id, as `call --task` printed it.") var id: String
    @Flag(help: "Wait for the task to end and print its result.") var wait = false
    @Flag(help: "Cancel the task.") var cancel = false
    @OptionGroup var request: RequestOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if wait && cancel { throw ValidationError("give --wait or --cancel, not both") }
    }

    func run() async throws {
        let (settings, display) = try request.settings(connector: ref, json: global.json)
        defer { display.finish() }
        let sessions = try global.manager().sessions
        guard wait else {
            let state = try await sessions.task(ref, id: id, cancel: cancel, settings: settings)
            if global.json { Output.json(state) } else { Output.line(TaskText.status(state)) }
            return
        }
        let (state, result) = try await sessions.waitForTask(ref, id: id, settings: settings) { display.task($0) }
        display.finish()
        let task = TaskState(state)
        let what = "task \(TaskText.id(state))"
        switch task.status {
        case "completed":
            try Call.report(
                result ?? .null, format: global.json ? .json : .text, connector: ref, tool: "", what: what)
        case "failed":
            if global.json { Output.json(result ?? state) }
            let error = result.map(CallResultText.errorText).flatMap { $0.isEmpty ? nil : $0 }
            throw MCPConnError(.failure, "\(what) failed: \(error ?? TaskText.message(state) ?? "no reason given")")
        case "cancelled":
            if global.json { Output.json(state) }
            throw MCPConnError(.failure, "\(what) was cancelled")
        case "input_required":
            if global.json { Output.json(state) }
            throw MCPConnError(
                .inputRequired, "\(what) needs input (input_required): mcpconn cannot answer a task's questions")
        default:
            if global.json { Output.json(state) }
            let status = TerminalText.escape(task.status ?? "unknown", .line)
            let message = TaskText.message(state).map { ": " + $0 } ?? ""
            throw MCPConnError(
                .timeout,
                "\(what) is still \(status) after \(request.network.timeout.formatted()) s (--timeout)\(message)")
        }
    }
}

/// A task as printed: server text, escaped.
enum TaskText {
    static func id(_ task: JSONValue?) -> String { TerminalText.escape(task?["taskId"]?.stringValue ?? "?", .line) }

    static func message(_ task: JSONValue) -> String? {
        TaskState(task).statusMessage.map { TerminalText.escape(String($0.prefix(1000)), .line) }
    }

    /// `working: 3/5`, `completed`.
    static func status(_ task: JSONValue) -> String {
        let status = TerminalText.escape(TaskState(task).status ?? "unknown", .line)
        return message(task).map { "\(status): \($0)" } ?? status
    }
}
