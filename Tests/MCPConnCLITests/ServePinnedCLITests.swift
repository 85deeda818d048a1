import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `serve` in pinned mode (issue 25), seen by the official Python SDK client in both eras, over stdio and HTTP:
/// in front of the reference server whose tools change on demand (`--mutable`), a changed or never approved tool
/// is not listed, its call is refused with a JSON-RPC error saying why, serve warns once on stderr, and approving it
/// while the client is connected tells the client (`notifications/tools/list_changed`, on a 2026-07-28 client's
/// `subscriptions/listen` stream) and lists it.
@Suite("CLI: serve in pinned mode", .timeLimit(.minutes(4)))
struct ServePinnedCLITests {
    /// A connector `ref` in pinned mode whose `echo` and `deploy` were approved, after which the server changed
    /// `deploy` (a rug pull) and added `exfil`, as a refresh stored (`pins` shows them changed and new).
    static func pinnedConnector(_ s: CLISandbox, pinned: [String] = ["--pinned"]) async throws -> TestServer {
        let file = s.dir.appendingPathComponent("mutable.json")
        try Data(#"{"deploy": "Deploy the app."}"#.utf8).write(to: file)
        let server = try await TestServer.start("reference_server.py", ["--mutable", file.path])
        #expect(await s.run(["add", "ref", server.base + "/mcp"]).status == 0)
        #expect(await s.run(["verify", "ref"]).status == 0)
        #expect(await s.run(["approve", "ref", "echo", "deploy"]).status == 0)
        if !pinned.isEmpty { #expect(await s.run(["update", "ref"] + pinned).status == 0) }
        try Data(#"{"deploy": "Deploy the app, version two.", "exfil": "Send a report."}"#.utf8).write(to: file)
        #expect(await s.run(["refresh", "ref"]).status == 0)
        return server
    }

    static let steps: JSONValue = [
        ["call": "echo", "arguments": ["text": "hi"]], ["call": "deploy"], ["call": "exfil"], ["watchTools": true],
        ["pause": true], ["toolsChanged": true], ["call": "deploy"],
    ]

    static func expectEnforced(_ r: PythonClient.Outcome, serveLog: String, _ what: String) {
        #expect(r.status == 0, "\(what): \(r.stderr)")
        let tools = (r.listed["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(tools.contains("echo") && !tools.contains("deploy") && !tools.contains("exfil"), "\(what): \(tools)")
        #expect(!tools.contains("add"), "\(what): never approved: \(tools)")
        let lines = r.lines
        guard lines.count == 6 else {
            Issue.record("\(what): \(lines) \(r.stderr)")
            return
        }
        #expect(lines[0]["text"] == "hi" && lines[0]["isError"] == false, "\(what): \(lines[0])")
        #expect(lines[1]["code"] == -32602, "\(what): \(lines[1])")
        #expect(
            lines[1]["text"]?.stringValue?.contains(
                "tool 'deploy' of connector 'ref' changed since it was approved (pinned mode)") == true,
            "\(what): \(lines[1])")
        #expect(lines[2]["code"] == -32602, "\(what): \(lines[2])")
        #expect(lines[2]["text"]?.stringValue?.contains("tool 'exfil' of connector 'ref' was never approved") == true)
        #expect(lines[3]["watchingTools"] == true, "\(what): \(lines[3])")
        // Approved while connected: the client is told, and lists it.
        #expect(lines[4]["toolsChanged"] == true, "\(what): \(lines[4])")
        let after = (lines[4]["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(after.contains("deploy") && !after.contains("exfil"), "\(what): \(after)")
        // Called now: the server's own answer (a mutable tool is listed only), not serve's refusal.
        #expect(lines[5]["text"]?.stringValue?.contains("pinned mode") == false, "\(what): \(lines[5])")
        // One warning each, whatever the number of listings and calls.
        let warned = serveLog.components(separatedBy: "mcpconn serve: warning: withheld: tool 'deploy'").count - 1
        #expect(warned == 1, "\(what): \(serveLog)")
        #expect(serveLog.contains("withheld: tool 'exfil' of connector 'ref' was never approved"), "\(what)")
    }

    /// While the client waits, the operator approves `deploy` in its new form (the only change to the store
    /// meanwhile).
    @Test(arguments: ServedClient.transports, ["legacy", "auto"])
    func theChangedToolIsWithheldThenOfferedOnceApproved(transport: String, mode: String) async throws {
        let s = CLISandbox()
        let server = try await Self.pinnedConnector(s)
        defer { server.stop() }
        let (r, log) = try await ServedClient.run(
            s, serving: ["ref"], transport: transport, mode: mode, steps: Self.steps,
            pause: { #expect(await s.run(["approve", "ref", "deploy"]).status == 0) })
        #expect(r.listed["protocolVersion"]?.stringValue == ServedClient.era(mode))
        Self.expectEnforced(r, serveLog: log, "\(mode) over \(transport)")
    }

    /// The store-wide setting pins a connector that is not pinned itself; without either, everything is offered.
    /// A pinned flag turned off by plain SQL makes the row refused: serve withholds every tool, saying why.
    @Test func theStoreWideSettingPinsAndAFlagTurnedOffOutsideMcpconnIsRefused() async throws {
        let s = CLISandbox()
        let server = try await Self.pinnedConnector(s, pinned: [])
        defer { server.stop() }
        let serve = ["--", CLISandbox.binary, "serve", "ref"]
        let open = try await PythonClient.run(
            ServeCLITests.client, ["--mode", "legacy"] + serve, environment: s.environment, steps: [])
        let all = (open.listed["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(all.contains("deploy") && all.contains("exfil"), "not pinned: \(all)")

        #expect(await s.run(["policy", "--pinned"]).status == 0)
        #expect(await s.run(["policy"]).stdout == "pinned\n")
        let pinned = try await PythonClient.run(
            ServeCLITests.client, ["--mode", "legacy"] + serve, environment: s.environment, steps: [])
        let offered = (pinned.listed["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(offered.contains("echo") && !offered.contains("deploy") && !offered.contains("exfil"), "\(offered)")
        #expect(await s.run(["policy", "--unpinned"]).status == 0)

        #expect(await s.run(["update", "ref", "--pinned"]).status == 0)
        let store = try await offPool { try Store(path: s.databasePath) }
        try await offPool {
            try store.write { db in try db.execute("UPDATE user_mcp_connections SET pinned = false", []) }
        }
        let tampered = try await PythonClient.run(
            ServeCLITests.client, ["--mode", "legacy"] + serve, environment: s.environment, steps: [])
        #expect(tampered.listed["tools"] == [], "\(tampered.listed)")
        #expect(
            tampered.stderr.contains("mcpconn serve: warning: connector 'ref' was changed outside mcpconn (pinned)"),
            "\(tampered.stderr)")
    }
}
