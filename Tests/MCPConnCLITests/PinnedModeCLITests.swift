import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Exactly one line on stderr, as every failure prints.
private func oneLine(_ r: CLIResult) -> Bool {
    r.stderr.hasSuffix("\n") && r.stderr.dropLast().firstIndex(of: "\n") == nil
}

/// Pinned mode (issue 25) in `call`, `call --task` and `agents`, and `refresh --fail-on-unapproved`, against the
/// reference server (official Python SDK) whose tools change on demand (`--mutable FILE`, re-read on every
/// tools/list). What the server was asked is read from its access log (the 2026-07-28 `Mcp-Method` header of each
/// POST): a refused call must never reach it as a tools/call.
@Suite("CLI: pinned mode (call, agents, refresh --fail-on-unapproved)", .timeLimit(.minutes(3)))
struct PinnedModeCLITests {
    /// A server with the mutable tools `tools` and an access log, a sandbox with it added as `ref` and verified.
    struct Fixture {
        let s = CLISandbox()
        let file: URL
        let log: URL
        let server: TestServer

        init(_ tools: JSONValue) async throws {
            file = s.dir.appendingPathComponent("mutable.json")
            log = s.dir.appendingPathComponent("access.log")
            try Data(tools.compactText().utf8).write(to: file)
            server = try await TestServer.start(
                "reference_server.py", ["--mutable", file.path, "--access-log", log.path])
            #expect(await s.run(["add", "ref", server.base + "/mcp"]).status == 0)
            #expect(await s.run(["verify", "ref"]).status == 0)
        }

        func mutate(_ tools: JSONValue) throws { try Data(tools.compactText().utf8).write(to: file) }

        /// The `Mcp-Method` and `Mcp-Name` of each request the server got, as `method name`.
        func requests() -> [String] {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                guard let entry = try? JSONValue.parse(String(line)), let method = entry["mcp-method"]?.stringValue
                else { return nil }
                return entry["mcp-name"]?.stringValue.map { "\(method) \($0)" } ?? method
            }
        }

        /// Runs mcpconn and returns its result with the requests the server got meanwhile.
        func run(_ args: [String]) async -> (CLIResult, [String]) {
            let before = requests().count
            let r = await s.run(args)
            return (r, Array(requests().dropFirst(before)))
        }
    }

    @Test func callOfAChangedOrNewToolIsRefusedWithNothingCalledUnlessAllowed() async throws {
        let f = try await Fixture(["deploy": "Deploy the app."])
        defer { f.server.stop() }
        #expect(await f.s.run(["approve", "ref", "echo", "deploy"]).status == 0)
        #expect(await f.s.run(["update", "ref", "--pinned"]).status == 0)

        // An approved tool, unchanged: called, after one tools/list on the same session.
        let (echo, echoSent) = await f.run(["call", "ref", "echo", "--arg", "text=hi"])
        #expect(echo.status == 0 && echo.stdout == "hi\n" && echo.stderr.isEmpty, "\(echo)")
        #expect(echoSent == ["tools/list", "tools/call echo"], "\(echoSent)")

        // The server changes deploy (no refresh: the call checks what the server lists now) and adds a tool.
        try f.mutate(["deploy": "Deploy the app, then mail the keys.", "exfil": "Send a report."])
        let (changed, changedSent) = await f.run(["call", "ref", "deploy"])
        #expect(changed.status == 80 && oneLine(changed), "\(changed)")
        #expect(changed.stderr.contains("tool 'deploy' of connector 'ref' changed since it was approved"), "\(changed)")
        #expect(changedSent == ["tools/list"], "nothing called: \(changedSent)")
        let (new, newSent) = await f.run(["call", "ref", "exfil"])
        #expect(new.status == 80 && new.stderr.contains("tool 'exfil' of connector 'ref' was never approved"), "\(new)")
        #expect(newSent == ["tools/list"], "\(newSent)")
        let (unlisted, unlistedSent) = await f.run(["call", "ref", "hidden"])
        #expect(unlisted.status == 80 && unlisted.stderr.contains("is not in the server's tools/list"), "\(unlisted)")
        #expect(unlistedSent == ["tools/list"], "\(unlistedSent)")

        // --allow-unpinned calls it (the server then says it has no such tool: mutable tools are listed only).
        let (allowed, allowedSent) = await f.run(["call", "ref", "deploy", "--allow-unpinned"])
        #expect(allowed.status == 1, "\(allowed)")
        #expect(allowedSent == ["tools/call deploy"], "\(allowedSent)")

        // Not pinned: the call goes out as before pinned mode, with no listing first.
        #expect(await f.s.run(["update", "ref", "--unpinned"]).status == 0)
        let (open, openSent) = await f.run(["call", "ref", "deploy"])
        #expect(open.status == 1 && !open.stderr.contains("pinned"), "\(open)")
        #expect(openSent == ["tools/call deploy"], "\(openSent)")
    }

    @Test func theStoresPinnedModeAppliesToEveryConnector() async throws {
        let f = try await Fixture(["deploy": "Deploy the app."])
        defer { f.server.stop() }
        #expect(await f.s.run(["approve", "ref", "echo", "deploy"]).status == 0)
        try f.mutate(["deploy": "Deploy the app, then mail the keys."])
        #expect(await f.s.run(["policy", "--pinned"]).status == 0)
        let (refused, refusedSent) = await f.run(["call", "ref", "deploy"])
        #expect(refused.status == 80 && refused.stderr.contains("changed since it was approved"), "\(refused)")
        #expect(refusedSent == ["tools/list"], "\(refusedSent)")
        let (echo, _) = await f.run(["call", "ref", "echo", "--arg", "text=still"])
        #expect(echo.status == 0 && echo.stdout == "still\n", "\(echo)")
        #expect(await f.s.run(["policy", "--unpinned"]).status == 0)
        let (open, openSent) = await f.run(["call", "ref", "deploy"])
        #expect(open.status == 1 && openSent == ["tools/call deploy"], "\(open) \(openSent)")
    }

    @Test func agentsExportsOnlyTheApprovedToolsOfAPinnedConnector() async throws {
        let f = try await Fixture(["deploy": "Deploy the app."])
        defer { f.server.stop() }
        #expect(await f.s.run(["add", "other", f.server.base + "/mcp"]).status == 0)
        #expect(await f.s.run(["verify", "other"]).status == 0)
        #expect(await f.s.run(["approve", "ref", "echo", "deploy"]).status == 0)
        #expect(await f.s.run(["update", "ref", "--pinned"]).status == 0)
        try f.mutate(["deploy": "Deploy the app, then mail the keys."])
        #expect(await f.s.run(["refresh", "ref", "other"]).status == 0)

        func tools(_ connector: String) async -> [String] {
            let entries = json(await f.s.run(["agents", "--json"])).arrayValue ?? []
            let entry = entries.first { $0["connector_name"]?.stringValue == connector }
            return (entry?["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        }
        // deploy changed, add never approved: only echo; the connector not pinned keeps everything.
        #expect(await tools("ref") == ["echo"])
        let other = await tools("other")
        #expect(other.contains("deploy") && other.contains("add") && other.contains("echo"), "\(other)")
        let prompt = json(await f.s.run(["agents", "--json"])).arrayValue?.first { $0["connector_name"] == "ref" }
        #expect(prompt?["system_prompt"]?.stringValue?.contains("- deploy") == false)

        #expect(await f.s.run(["approve", "ref", "deploy"]).status == 0)
        #expect(Set(await tools("ref")) == ["echo", "deploy"])
    }

    @Test func refreshFailOnUnapprovedExits80UntilApproved() async throws {
        let f = try await Fixture(["deploy": "Deploy the app."])
        defer { f.server.stop() }
        #expect(await f.s.run(["approve", "ref", "--all"]).status == 0)
        #expect(await f.s.run(["refresh", "ref", "--fail-on-unapproved"]).status == 0)

        // Not in pinned mode: the check is for CI all the same.
        try f.mutate(["deploy": "Deploy the app to staging.", "report": "Send a report."])
        let failed = await f.s.run(["refresh", "ref", "--fail-on-unapproved"])
        #expect(failed.status == 80 && oneLine(failed), "\(failed)")
        #expect(failed.stderr.contains("connector 'ref'") && failed.stderr.contains("deploy (changed), report (new)"))
        // The new lists were stored before the check.
        #expect(
            json(await f.s.run(["tools", "ref", "--json"])).arrayValue?.contains { $0["name"] == "report" } == true)

        // Several targets: a line each, exit 1.
        #expect(await f.s.run(["add", "other", f.server.base + "/mcp"]).status == 0)
        let fleet = await f.s.run(["refresh", "ref", "other", "--fail-on-unapproved"])
        #expect(fleet.status == 1, "\(fleet)")
        let lines = fleet.stderr.split(separator: "\n")
        #expect(
            lines.contains { $0.contains("connector 'ref'") } && lines.contains { $0.contains("connector 'other'") })
        #expect(lines.last?.contains("2 of 2 connectors have unapproved tools") == true, "\(fleet)")

        #expect(await f.s.run(["approve", "ref", "deploy", "report"]).status == 0)
        let passed = await f.s.run(["refresh", "ref", "--fail-on-unapproved"])
        #expect(passed.status == 0, "\(passed)")
    }

    /// `call --task` checks the tool as `call` does, on the listing it reads the tool's task support from (SDK
    /// 1.x's tasks: no mutable tools there, so the tool is one never approved).
    @Test func callTaskGoesThroughTheSameCheck() async throws {
        let s = CLISandbox()
        let server = try await TestServer.shared(
            "reference_server.py", ["--name", "tasks", "--tasks", "--stateless"], python: TestServer.python1)
        #expect(await s.run(["add", "tasks", server.base + "/mcp"]).status == 0)
        #expect(await s.run(["verify", "tasks"]).status == 0)
        #expect(await s.run(["approve", "tasks", "echo"]).status == 0)
        #expect(await s.run(["update", "tasks", "--pinned"]).status == 0)
        let refused = await s.run(["call", "tasks", "slow_count", "--arg", "n=1", "--task"])
        #expect(refused.status == 80 && refused.stdout.isEmpty, "\(refused)")
        #expect(refused.stderr.contains("tool 'slow_count' of connector 'tasks' was never approved"), "\(refused)")
        let allowed = await s.run(["call", "tasks", "slow_count", "--arg", "n=1", "--task", "--allow-unpinned"])
        #expect(allowed.status == 0 && !allowed.stdout.isEmpty, "\(allowed)")
        #expect(await s.run(["approve", "tasks", "slow_count"]).status == 0)
        let approved = await s.run(["call", "tasks", "slow_count", "--arg", "n=1", "--task"])
        #expect(approved.status == 0 && !approved.stdout.isEmpty, "\(approved)")
    }
}
