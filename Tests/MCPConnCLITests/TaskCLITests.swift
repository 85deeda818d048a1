import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `call --task` and `task` against the official Python SDK 1.x's experimental tasks (2025-11-25) over streamable
/// HTTP: reference_server.py --tasks adds slow_count(n) (one step every 100 ms, tasks optional) and
/// slow_count_required (tasks required). Each invocation is a new session, so the task must outlive it: the
/// stateless server keeps tasks for any session; the stateful one only for the session that started it.
@Suite("CLI: tasks (call --task, task)", .timeLimit(.minutes(5)))
struct TaskCLITests {
    /// Connectors: `tasks` (stateless, tasks across sessions), `scoped` (stateful: tasks per session), `plain`
    /// (no tasks capability), `local` (a local server).
    static func sandbox() async throws -> CLISandbox {
        let s = CLISandbox()
        let stateless = try await TestServer.shared(
            "reference_server.py", ["--name", "tasks", "--tasks", "--stateless"], python: TestServer.python1)
        let stateful = try await TestServer.shared(
            "reference_server.py", ["--name", "tasks-scoped", "--tasks"], python: TestServer.python1)
        let added = [
            await s.run(["add", "tasks", stateless.base + "/mcp"]),
            await s.run(["add", "scoped", stateful.base + "/mcp"]),
            await s.run(["add", "plain", try await CLIServers.handshake().base + "/mcp"]),
            await s.run(["add", "local", "--", TestServer.python1, SurfaceCLITests.stdioServer]),
        ]
        for a in added { #expect(a.status == 0, "\(a)") }
        return s
    }

    /// Starts slow_count(n) as a task on `ref`; its id.
    static func start(_ s: CLISandbox, _ ref: String = "tasks", n: Int) async -> String {
        let r = await s.run(["call", ref, "slow_count", "--arg", "n=\(n)", "--task"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r)")
        let id = r.stdout.trimmingCharacters(in: .newlines)
        #expect(!id.isEmpty && !id.contains("\n"), "one id alone on stdout: \(r)")
        return id
    }

    @Test func aTaskStartsInOneInvocationAndIsFollowedToItsResultInOthers() async throws {
        let s = try await Self.sandbox()
        let id = await Self.start(s, n: 5)
        let status = await s.run(["task", "tasks", id])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.hasPrefix("working") || status.stdout.hasPrefix("completed"), "\(status)")

        let waited = await s.run(["task", "tasks", id, "--wait", "--timeout", "60"])
        #expect(waited.status == 0 && waited.stdout == "counted to 5\n", "\(waited)")
        let done = await s.run(["task", "tasks", id])
        #expect(done.status == 0 && done.stdout == "completed: 5/5\n", "the status and its message: \(done)")

        let whole = await s.run(["task", "tasks", id, "--wait", "--json"])
        #expect(whole.status == 0, "\(whole)")
        #expect(json(whole)["content"]?.arrayValue?.first?["text"] == "counted to 5", "\(whole)")
        let seen = whole.stderr.split(separator: "\n").map { try? JSONValue.parse(String($0)) }
        #expect(seen.last??["method"] == "notifications/tasks/status", "the state polled, as JSON lines: \(whole)")
        #expect(seen.last??["params"]?["status"] == "completed" && seen.last??["connector"] == "tasks", "\(whole)")
        let state = json(await s.run(["task", "tasks", id, "--json"]))
        #expect(state["taskId"] == .string(id) && state["statusMessage"] == "5/5", "\(state)")
    }

    @Test func callTaskJSONIsTheCreateTaskResultWithTheTTLAsked() async throws {
        let s = try await Self.sandbox()
        let r = await s.run(["call", "tasks", "slow_count", "--arg", "n=2", "--task", "--ttl", "90", "--json"])
        #expect(r.status == 0, "\(r)")
        let task = json(r)["task"]
        #expect(task?["taskId"]?.stringValue?.isEmpty == false && task?["status"] == "working", "\(r)")
        #expect(task?["ttl"]?.doubleValue == 90_000, "--ttl in seconds, sent in milliseconds: \(r)")
        let noTask = await s.run(["call", "tasks", "slow_count", "--arg", "n=1", "--ttl", "90"])
        #expect(noTask.status == 64 && noTask.stderr.contains("--ttl needs --task"), "\(noTask)")
    }

    @Test func aTaskIsCancelledAndWaitingForItThenFails() async throws {
        let s = try await Self.sandbox()
        let id = await Self.start(s, n: 600)
        let working = await s.run(["task", "tasks", id])
        #expect(working.status == 0 && working.stdout.hasPrefix("working"), "60 s of work: \(working)")
        let cancelled = await s.run(["task", "tasks", id, "--cancel"])
        #expect(cancelled.status == 0 && cancelled.stdout.hasPrefix("cancelled"), "\(cancelled)")
        let waited = await s.run(["task", "tasks", id, "--wait"])
        #expect(waited.status == 1 && waited.stdout.isEmpty, "\(waited)")
        #expect(waited.stderr == "mcpconn: task \(id) was cancelled\n", "\(waited)")
        #expect(await s.run(["task", "tasks", id, "--wait", "--cancel"]).status == 64)
    }

    /// This test is about a timeout: a task still working when --timeout (1 s) is near exits 75.
    @Test func aTaskStillWorkingAtTheTimeoutExits75() async throws {
        let s = try await Self.sandbox()
        let id = await Self.start(s, n: 600)
        let r = await s.run(["task", "tasks", id, "--wait", "--timeout", "1"])
        #expect(r.status == 75 && r.stdout.isEmpty, "\(r)")
        #expect(r.stderr.hasPrefix("mcpconn: task \(id) is still working after 1 s (--timeout)"), "\(r)")
        #expect(await s.run(["task", "tasks", id, "--cancel"]).status == 0)
    }

    @Test func aTerminalShowsTheTaskInPlaceWhileWaiting() async throws {
        let s = try await Self.sandbox()
        let id = await Self.start(s, n: 30)
        let r = try await s.onTerminal("task tasks \(id) --wait")
        #expect(r.status == 0, "\(r.output)")
        // The polled state shows in place (working, or already completed on a loaded machine's first poll).
        #expect(r.output.contains("\r\u{1B}[K[tasks] task "), "\(r.output)")
        #expect(r.output.hasSuffix("\r\u{1B}[Kcounted to 30\r\n"), "erased before the result: \(r.output)")
    }

    @Test func whatCannotRunAsATaskIsRefusedSayingWhy() async throws {
        let s = try await Self.sandbox()
        let forbidden = await s.run(["call", "tasks", "echo", "--arg", "text=x", "--task"])
        #expect(forbidden.status == 1 && forbidden.stdout.isEmpty, "\(forbidden)")
        #expect(
            forbidden.stderr.contains("tool 'echo' does not run as a task (its execution.taskSupport is forbidden)"))
        let noCapability = await s.run(["call", "plain", "echo", "--arg", "text=x", "--task"])
        #expect(noCapability.status == 1, "\(noCapability)")
        #expect(noCapability.stderr.contains("the server declares no task support for tools/call"), "\(noCapability)")

        let required = await s.run(["call", "tasks", "slow_count_required", "--arg", "n=1"])
        #expect(required.status == 1, "\(required)")
        #expect(required.stderr.contains("runs only as a task (its execution.taskSupport is required)"), "\(required)")
        let asTask = await s.run(["call", "tasks", "slow_count_required", "--arg", "n=1", "--task"])
        #expect(asTask.status == 0 && !asTask.stdout.isEmpty, "\(asTask)")
        let plainCall = await s.run(["call", "tasks", "slow_count", "--arg", "n=2"])
        #expect(
            plainCall.status == 0 && plainCall.stdout == "counted to 2\n", "optional: a plain call too: \(plainCall)")

        for args in [["call", "local", "echo", "--arg", "text=x", "--task"], ["task", "local", "some-id"]] {
            let local = await s.run(args)
            #expect(local.status == 64 && local.stderr.contains("it is a local server"), "\(local)")
        }
    }

    @Test func aTaskTheServerDoesNotKnowIsExplained() async throws {
        let s = try await Self.sandbox()
        let unknown = await s.run(["task", "tasks", "no-such-task"])
        #expect(unknown.status == 1 && unknown.stderr.contains("Task not found"), "\(unknown)")
        #expect(unknown.stderr.contains("each mcpconn invocation is a new session"), "\(unknown)")
        // The stateful SDK server keeps a task for the session that started it: the next invocation cannot see it.
        let id = await Self.start(s, "scoped", n: 2)
        let scoped = await s.run(["task", "scoped", id])
        #expect(scoped.status == 1 && scoped.stderr.contains("Task not found: \(id)"), "\(scoped)")
    }
}
