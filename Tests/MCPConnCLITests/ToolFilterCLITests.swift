import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// A connector's own tool allow-list (issue 26: `update REF --allow-tools GLOB... --deny-tools GLOB...`), applied
/// for everyone: `serve` (the official Python SDK client in both eras, over stdio and HTTP) neither lists a tool
/// outside it nor calls it (-32602 saying why) and tells a connected client when the list changes; `call` refuses
/// one with exit 80 and nothing sent (the reference server's access log); `agents` exports only what passes.
@Suite("CLI: a connector's tool allow-list (serve, call, agents)", .timeLimit(.minutes(4)))
struct ToolFilterCLITests {
    /// `ref`, the reference server, verified, with the allow-list echo and add, add denied: only echo passes.
    static func filtered(_ s: CLISandbox) async throws -> TestServer {
        let server = try await TestServer.start("reference_server.py", [])
        #expect(await s.run(["add", "ref", server.base + "/mcp"]).status == 0)
        #expect(await s.run(["verify", "ref"]).status == 0)
        let set = await s.run(["update", "ref", "--allow-tools", "ec*", "--allow-tools", "a?d", "--deny-tools", "add"])
        #expect(set.status == 0, "\(set)")
        return server
    }

    static let steps: JSONValue = [
        ["call": "echo", "arguments": ["text": "hi"]], ["call": "add", "arguments": ["a": 1, "b": 2]],
        ["call": "fail", "arguments": ["message": "no"]], ["watchTools": true], ["pause": true],
        ["toolsChanged": true], ["call": "add", "arguments": ["a": 1, "b": 2]],
    ]

    static func expectFiltered(_ r: PythonClient.Outcome, serveLog: String, _ what: String) {
        #expect(r.status == 0, "\(what): \(r.stderr)")
        let tools = (r.listed["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(tools == ["echo"], "\(what): \(tools)")
        let lines = r.lines
        guard lines.count == 6 else {
            Issue.record("\(what): \(lines) \(r.stderr)")
            return
        }
        #expect(lines[0]["text"] == "hi" && lines[0]["isError"] == false, "\(what): \(lines[0])")
        #expect(lines[1]["code"] == -32602, "\(what): \(lines[1])")
        #expect(
            lines[1]["text"]?.stringValue?.contains("tool 'add' of connector 'ref' is denied (--deny-tools 'add')")
                == true, "\(what): \(lines[1])")
        #expect(lines[2]["code"] == -32602, "\(what): \(lines[2])")
        #expect(
            lines[2]["text"]?.stringValue?.contains(
                "tool 'fail' of connector 'ref' is not in its allow-list (--allow-tools 'ec*' 'a?d')") == true,
            "\(what): \(lines[2])")
        #expect(lines[3]["watchingTools"] == true, "\(what): \(lines[3])")
        // The deny-list cleared while connected: the client is told, and lists add (fail stays out).
        #expect(lines[4]["toolsChanged"] == true, "\(what): \(lines[4])")
        let after = (lines[4]["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(Set(after) == ["echo", "add"], "\(what): \(after)")
        #expect(lines[5]["text"] == "3" && lines[5]["isError"] == false, "\(what): \(lines[5])")
        // Policy, not an alarm: no warning per filtered tool.
        #expect(!serveLog.contains("warning"), "\(what): \(serveLog)")
    }

    /// While the client waits, the operator clears the deny-list.
    @Test(arguments: ServedClient.transports, ["legacy", "auto"])
    func aFilteredToolIsNotListedNorCalled(transport: String, mode: String) async throws {
        let s = CLISandbox()
        let server = try await Self.filtered(s)
        defer { server.stop() }
        let (r, log) = try await ServedClient.run(
            s, serving: ["ref"], transport: transport, mode: mode, steps: Self.steps,
            pause: { #expect(await s.run(["update", "ref", "--deny-tools", ""]).status == 0) })
        #expect(r.listed["protocolVersion"]?.stringValue == ServedClient.era(mode))
        Self.expectFiltered(r, serveLog: log, "\(mode) over \(transport)")
    }

    /// With pinned mode, both apply (the allow-list first): a tool approved but denied is not offered, a tool
    /// allowed but never approved neither; only the latter is warned about.
    @Test func withPinnedModeBothApply() async throws {
        let s = CLISandbox()
        let server = try await Self.filtered(s)
        defer { server.stop() }
        #expect(await s.run(["approve", "ref", "add"]).status == 0)
        #expect(await s.run(["update", "ref", "--pinned"]).status == 0)
        let r = try await PythonClient.run(
            ServeCLITests.client, ["--mode", "legacy", "--", CLISandbox.binary, "serve", "ref"],
            environment: s.environment, steps: [["call": "add", "arguments": ["a": 1, "b": 2]]])
        #expect(r.listed["tools"] == [], "\(r.listed)")
        #expect(r.lines.first?["text"]?.stringValue?.contains("is denied (--deny-tools 'add')") == true, "\(r.lines)")
        #expect(r.stderr.contains("withheld: tool 'echo' of connector 'ref' was never approved"), "\(r.stderr)")
        #expect(!r.stderr.contains("withheld: tool 'add'") && !r.stderr.contains("tool 'fail'"), "\(r.stderr)")
    }

    @Test func callOfAFilteredToolExits80WithNothingSent() async throws {
        let f = try await PinnedModeCLITests.Fixture(["deploy": "Deploy the app."])
        defer { f.server.stop() }
        #expect(await f.s.run(["update", "ref", "--deny-tools", "dep*"]).status == 0)
        #expect(json(await f.s.run(["get", "ref", "--json"]))["tool_filter"] == ["allow": [], "deny": ["dep*"]])

        let (denied, deniedSent) = await f.run(["call", "ref", "deploy"])
        #expect(denied.status == 80 && denied.stdout.isEmpty, "\(denied)")
        #expect(
            denied.stderr
                == "mcpconn: tool 'deploy' of connector 'ref' is denied (--deny-tools 'dep*'): nothing was called\n",
            "\(denied)")
        #expect(deniedSent.isEmpty, "nothing sent: \(deniedSent)")
        // No flag lifts it, and call --task goes through the same check.
        let (unpinned, unpinnedSent) = await f.run(["call", "ref", "deploy", "--allow-unpinned"])
        #expect(unpinned.status == 80 && unpinnedSent.isEmpty, "\(unpinned) \(unpinnedSent)")
        let (task, taskSent) = await f.run(["call", "ref", "deploy", "--task"])
        #expect(task.status == 80 && taskSent.isEmpty, "\(task) \(taskSent)")

        // A tool that passes is called as before: no listing first.
        let (echo, echoSent) = await f.run(["call", "ref", "echo", "--arg", "text=hi"])
        #expect(echo.status == 0 && echo.stdout == "hi\n", "\(echo)")
        #expect(echoSent == ["tools/call echo"], "\(echoSent)")

        #expect(await f.s.run(["update", "ref", "--allow-tools", "add"]).status == 0)
        let (outside, outsideSent) = await f.run(["call", "ref", "echo", "--arg", "text=hi"])
        #expect(outside.status == 80 && outsideSent.isEmpty, "\(outside) \(outsideSent)")
        #expect(outside.stderr.contains("is not in its allow-list (--allow-tools 'add')"), "\(outside)")

        // "" clears each list.
        #expect(await f.s.run(["update", "ref", "--allow-tools", "", "--deny-tools", ""]).status == 0)
        #expect(json(await f.s.run(["get", "ref", "--json"]))["tool_filter"] == .null)
        let (cleared, clearedSent) = await f.run(["call", "ref", "deploy"])
        #expect(cleared.status == 1 && clearedSent == ["tools/call deploy"], "\(cleared) \(clearedSent)")
    }

    @Test func agentsExportsOnlyTheToolsThatPass() async throws {
        let f = try await PinnedModeCLITests.Fixture(["deploy": "Deploy the app."])
        defer { f.server.stop() }
        // Set on add too.
        let added = await f.s.run(["add", "other", f.server.base + "/mcp", "--deny-tools", "deploy", "--json"])
        #expect(json(added)["tool_filter"] == ["allow": [], "deny": ["deploy"]], "\(added)")
        #expect(await f.s.run(["verify", "other"]).status == 0)
        #expect(await f.s.run(["update", "ref", "--allow-tools", "echo", "--allow-tools", "dep*"]).status == 0)

        func tools(_ connector: String) async -> [String] {
            let entries = json(await f.s.run(["agents", "--json"])).arrayValue ?? []
            let entry = entries.first { $0["connector_name"]?.stringValue == connector }
            return (entry?["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        }
        #expect(Set(await tools("ref")) == ["echo", "deploy"])
        let other = await tools("other")
        #expect(!other.contains("deploy") && other.contains("add") && other.contains("echo"), "\(other)")

        #expect(await f.s.run(["update", "ref", "--allow-tools", ""]).status == 0)
        #expect(Set(await tools("ref")).isSuperset(of: ["echo", "deploy", "add"]))
    }

    @Test func aGlobWithAControlCharacterIsAUsageError() async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "ref", "https://a.example/mcp"]).status == 0)
        let r = await s.run(["update", "ref", "--allow-tools", "get_\u{1B}[2J"])
        #expect(r.status == 64 && !r.stderr.contains("\u{1B}"), "\(r)")
        #expect(r.stderr.hasPrefix("mcpconn: --allow-tools 'get_"), "\(r)")
        let long = await s.run([
            "add", "other", "https://b.example/mcp", "--deny-tools", String(repeating: "x", count: 257),
        ])
        #expect(long.status == 64 && long.stderr.contains("at most 256 bytes"), "\(long)")
    }
}
