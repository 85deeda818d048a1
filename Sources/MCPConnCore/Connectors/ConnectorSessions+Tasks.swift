import Foundation

/// Tool calls as tasks (2025-11-25's `tasks`; on 2026-07-28 the extension `io.modelcontextprotocol/tasks`): `call
/// --task` starts one and `task` follows it, each in its own session. A task must outlive the session that started
/// it, so only a remote server's task can be followed: a local server's process ends with the invocation.
extension ConnectorSessions {
    /// The extension that carries tasks on 2026-07-28, declared in the capabilities' `extensions`.
    static let tasksExtension = "io.modelcontextprotocol/tasks"

    /// Starts a tool call as a task (kept `ttl` milliseconds; nil: the server's default) and returns the server's
    /// CreateTaskResult. Refused before the call when the server declares no task support for tools/call, or the
    /// tool's `execution.taskSupport` forbids it; a server that runs the call at once instead is a protocol error.
    public func startTask(
        _ ref: String, tool: String, arguments: JSONObject, ttl: Int?, settings: NetworkSettings,
        allowUnpinned: Bool = false, warn: (String) -> Void = { _ in }
    ) async throws(MCPConnError) -> JSONValue {
        let (c, gate) = try gated(ref, tool: tool, allowUnpinned: allowUnpinned, warn)
        try Self.requireRemote(c, "start a task")
        let outcome = try await withSession(c, settings) {
            client, identity, redactor throws(MCPClientError) -> Result<JSONValue, MCPConnError> in
            if let capabilities = identity.capabilities, !Self.declaresToolTasks(capabilities) {
                throw Self.refusal(
                    "the server declares no task support for tools/call (capabilities.tasks.requests.tools.call)")
            }
            // One listing serves both checks: the tool's pinned form and its task support.
            let listed = try await client.listTools()
            if gate.isPinned, let refused = Self.pinRefusal(tool, c, gate, listed, redactor) {
                return .failure(refused)
            }
            if Self.taskSupport(of: tool, listed) == "forbidden" {
                throw Self.refusal("tool '\(tool)' does not run as a task (its execution.taskSupport is forbidden)")
            }
            var params = CallTool.Params(name: tool, arguments: arguments)
            params.asTask(ttl: ttl)
            let result = try await client.request(CallTool.self, params, notifications: nil)
            guard TaskState(result.json["task"]).taskId != nil else {
                throw .notMCP("the server answered the call at once instead of starting a task (no task in its result)")
            }
            return .success(redactor.redact(result.value))
        }
        return try outcome.get()
    }

    /// The task's state (`tasks/get`), or with `cancel`, its state once cancelled (`tasks/cancel`).
    public func task(_ ref: String, id: String, cancel: Bool, settings: NetworkSettings) async throws(MCPConnError)
        -> JSONValue
    {
        let c = try storage.get(ref)
        try Self.requireRemote(c, "follow a task")
        return try await withSession(c, settings) { client, _, redactor throws(MCPClientError) in
            let state =
                cancel
                ? try await Self.known(id) { () throws(MCPClientError) in
                    try await client.request(CancelTask.self, TaskRef(taskId: id)).value
                }
                : try await Self.state(id, client)
            return redactor.redact(state)
        }
    }

    /// Polls the task (at the server's `pollInterval`, bounded to 0.1…5 s) until it ends, needs input, or
    /// `--timeout` is near; each state goes to `seen`. Returns the last state, and for a completed or failed task
    /// the result of its call (`tasks/result`).
    public func waitForTask(
        _ ref: String, id: String, settings: NetworkSettings, seen: @escaping @Sendable (JSONValue) -> Void
    ) async throws(MCPConnError) -> (state: JSONValue, result: JSONValue?) {
        let c = try storage.get(ref)
        try Self.requireRemote(c, "follow a task")
        // Before the session's own deadline (set when it opens): the last poll must still get its answer.
        let stopBy = ContinuousClock.now + .milliseconds(Int(settings.timeout * 900))
        return try await withSession(c, settings) { client, _, redactor throws(MCPClientError) in
            while true {
                let state = redactor.redact(try await Self.state(id, client))
                seen(state)
                let task = TaskState(state)
                if task.isTerminal {
                    guard task.status != "cancelled" else { return (state, nil) }
                    let notifications = settings.notifications?.redacted(redactor)
                    let result = try await client.request(
                        GetTaskResult.self, TaskRef(taskId: id), notifications: notifications)
                    return (state, redactor.redact(result.value))
                }
                let interval = Duration.milliseconds(Int(min(max(task.pollInterval ?? 1000, 100), 5000)))
                if task.status == "input_required" || ContinuousClock.now + interval >= stopBy { return (state, nil) }
                do { try await Task.sleep(for: interval) } catch { throw .transport(.cancelled) }
            }
        }
    }

    /// The task's state (`tasks/get`).
    static func state(_ id: String, _ client: MCPClient) async throws(MCPClientError) -> JSONValue {
        try await known(id) { () throws(MCPClientError) in
            try await client.request(GetTask.self, TaskRef(taskId: id)).value
        }
    }

    /// A request about task `id`; a server that does not know the id (-32602, as the spec has it) is told apart from
    /// other refusals, with why that happens across invocations.
    static func known(_ id: String, _ request: () async throws(MCPClientError) -> JSONValue)
        async throws(MCPClientError) -> JSONValue
    {
        do throws(MCPClientError) {
            return try await request()
        } catch {
            guard case .rpc(var e) = error, e.code == JSONRPCError.invalidParams else { throw error }
            e.message +=
                "; a task is known only to the server that started it, and some servers (the Python SDK when stateful) keep it for the session that started it: each mcpconn invocation is a new session"
            throw .rpc(e)
        }
    }

    /// Whether the server declares tasks for tools/call: in the handshake era `tasks.requests.tools.call`, on
    /// 2026-07-28 the tasks extension.
    static func declaresToolTasks(_ capabilities: JSONValue) -> Bool {
        capabilities["tasks"]?["requests"]?["tools"]?["call"] != nil
            || capabilities["extensions"]?[tasksExtension] != nil
    }

    /// The tool's `execution.taskSupport` (`forbidden` when it says nothing); nil for a tool the server does not
    /// list (the call then says what the server makes of it).
    static func taskSupport(of tool: String, _ client: MCPClient) async throws(MCPClientError) -> String? {
        taskSupport(of: tool, try await client.listTools())
    }

    /// The tool's `execution.taskSupport` as `listed` says it.
    static func taskSupport(of tool: String, _ listed: [JSONValue]) -> String? {
        guard let found = listed.first(where: { $0["name"]?.stringValue == tool }) else { return nil }
        return found["execution"]?["taskSupport"]?.stringValue ?? "forbidden"
    }

    /// A refusal of ours, reported as the server's "no" would be (exit 1).
    static func refusal(_ message: String) -> MCPClientError {
        .rpc(JSONRPCError(code: JSONRPCError.methodNotFound, message: message))
    }

    static func requireRemote(_ c: Connector, _ what: String) throws(MCPConnError) {
        guard c.isStdio else { return }
        throw MCPConnError(
            .usage,
            "cannot \(what) on connector '\(c.name)': it is a local server, whose process (and its tasks) ends when mcpconn exits"
        )
    }
}
