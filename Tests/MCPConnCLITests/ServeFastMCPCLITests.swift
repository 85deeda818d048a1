import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `serve` driven by FastMCP 4's own client (Tests/Servers/fastmcp_client.py), in both of its eras (`legacy`: the
/// handshake; `auto`: 2026-07-28), over stdio and HTTP, in front of a FastMCP server (2026-07-28: its tools ask with
/// `input_required`) and the SDK 1.x surface server (the handshake era: its tools ask with requests of their own).
/// What the connectors ask reaches FastMCP's handlers and their answers come back, whichever era is on each side.
// Serialized: each client starts `serve` (stdio) or talks to one started here; the servers are shared.
@Suite("CLI: serve driven by FastMCP's client", .serialized, .timeLimit(.minutes(5)))
struct ServeFastMCPCLITests {
    static let client = TestServer.repoRoot.appendingPathComponent("Tests/Servers/fastmcp_client.py").path

    /// `fm` (FastMCP over streamable HTTP: 2026-07-28) and `old` (SDK 1.x: the handshake era).
    static func sandbox() async throws -> CLISandbox {
        let s = CLISandbox()
        let added = [
            await s.run([
                "add", "fm", try await TestServer.shared("fastmcp_server.py", ["--transport", "http"]).base + "/mcp",
            ]),
            await s.run(["add", "old", try await SurfaceCLITests.server(python: TestServer.python1).base + "/mcp"]),
        ]
        for a in added { #expect(a.status == 0, "\(a)") }
        return s
    }

    /// FastMCP's handlers answer every question: a form with these fields (FastMCP's `name`, the surface's
    /// `confirm` and `reason`), a sample, a root.
    static let answering = [
        "--elicit", #"{"name": "Ann", "confirm": true, "reason": "relayed"}"#, "--sample", "short", "--root",
        "file:///work/relay",
    ]
    static let steps: JSONValue = [
        ["call": "fm__ask_name"], ["call": "fm__ask_url"],
        ["call": "fm__summarize", "arguments": ["text": "a long text"]],
        ["call": "old__confirm_delete", "arguments": ["path": "/tmp/x"]], ["call": "old__open_link"],
        ["call": "old__summarise", "arguments": ["text": "a long text"]], ["call": "old__list_roots"],
    ]

    /// FastMCP's client in `mode` against `target` (`-- COMMAND…` or `--url URL`, the token in `SERVE_TOKEN`): what
    /// it listed, and each step's outcome and each question it was asked, in order.
    static func run(
        _ s: CLISandbox, _ target: [String], mode: String, options: [String] = [], steps: JSONValue = steps,
        token: String? = nil
    ) async throws -> (listed: JSONValue, lines: [JSONValue], status: Int32, stderr: String) {
        let r = try await PythonClient.run(
            client, ["--mode", mode] + options + target,
            environment: s.environment.merging(token.map { ["SERVE_TOKEN": $0] } ?? [:]) { $1 }, steps: steps)
        return (r.listed, r.lines, r.status, r.stderr)
    }

    static func serving(_ args: [String]) -> [String] { ["--", CLISandbox.binary, "serve"] + args }

    static func era(_ mode: String) -> String { mode == "legacy" ? "2025-11-25" : "2026-07-28" }

    /// Every answer went round: FastMCP's tools read the name, the URL elicitation's action and the sample; the
    /// surface's the form, the URL elicitation's action, the sample (with the model FastMCP's handler named) and the
    /// root; and each question reached FastMCP's handlers once.
    static func expectAnswered(
        _ r: (listed: JSONValue, lines: [JSONValue], status: Int32, stderr: String), _ what: String
    ) {
        let (results, asked) = ServeRelayCLITests.outcome(r.lines)
        #expect(r.status == 0, "\(what): \(r.stderr)")
        #expect(results["fm__ask_name"]?["text"] == "Hello, Ann", "\(what): \(r.lines)")
        #expect(results["fm__ask_url"]?["text"] == "accept", "\(what): \(r.lines)")
        #expect(results["old__open_link"]?["text"] == "accept", "\(what): \(r.lines)")
        #expect(results["fm__summarize"]?["text"] == "short", "\(what): \(r.lines)")
        #expect(results["old__confirm_delete"]?["text"] == "deleted /tmp/x (reason: relayed)", "\(what): \(r.lines)")
        #expect(results["old__summarise"]?["text"] == "summary: short (model: fastmcp-client)", "\(what): \(r.lines)")
        #expect(results["old__list_roots"]?["text"] == "file:///work/relay", "\(what): \(r.lines)")
        #expect(results.values.allSatisfy { $0["isError"] == false }, "\(what): \(r.lines)")
        #expect(asked.filter { $0 == "elicitation/create" }.count == 4, "\(what): \(r.lines)")
        #expect(asked.filter { $0 == "sampling/createMessage" }.count == 2, "\(what): \(r.lines)")
        #expect(asked.filter { $0 == "roots/list" }.count >= 1, "\(what): \(r.lines)")
    }

    /// Over stdio: a handshake-era FastMCP client is asked with requests of serve's own, the FastMCP server's
    /// `input_required` translated; a 2026-07-28 one gets that `input_required` as it came, and the SDK 1.x
    /// server's questions as serve's own `input_required`, and its retries answer both.
    @Test(arguments: ["legacy", "auto"])
    func overStdioBothErasAnswerEveryQuestion(mode: String) async throws {
        let s = try await Self.sandbox()
        let r = try await Self.run(s, Self.serving(["--all", "--verbose"]), mode: mode, options: Self.answering)
        #expect(r.listed["protocolVersion"]?.stringValue == Self.era(mode), "\(r.listed)")
        Self.expectAnswered(r, "\(mode) over stdio")
        // Each question a 2026-07-28 client was asked was an input_required: FastMCP's three, serve's four.
        let rounds = r.stderr.components(separatedBy: ": input_required in ").count - 1
        let translated = r.stderr.components(separatedBy: "serve: asking the client for input").count - 1
        #expect(rounds == (mode == "auto" ? 7 : 0), "\(r.stderr)")
        #expect(translated == (mode == "auto" ? 4 : 0), "\(r.stderr)")
    }

    /// Over HTTP: a handshake-era FastMCP client is asked on its call's event stream and POSTs its answers in its
    /// session; a 2026-07-28 one as over stdio.
    @Test(arguments: ["legacy", "auto"])
    func overHTTPBothErasAnswerEveryQuestion(mode: String) async throws {
        let s = try await Self.sandbox()
        let serve = try await HTTPServe(s, ["--all"])
        let r = try await Self.run(s, ["--url", serve.url], mode: mode, options: Self.answering, token: serve.token)
        #expect(r.listed["protocolVersion"]?.stringValue == Self.era(mode), "\(r.listed)")
        Self.expectAnswered(r, "\(mode) over HTTP")
        await serve.stopCleanly()
    }

    /// A FastMCP client with no handlers is never left waiting nor given an empty success: the handshake-era
    /// connector's elicitation is declined and its sampling refused; the FastMCP server's questions end as errors,
    /// serve's own (a handshake-era client cannot be asked) or the client's (a 2026-07-28 one got them as they came
    /// and has nothing to answer them with).
    @Test func aClientWithoutHandlersGetsCleanOutcomesInBothEras() async throws {
        let s = try await Self.sandbox()
        let serve = try await HTTPServe(s, ["--all"])
        for mode in ["legacy", "auto"] {
            let r = try await Self.run(s, ["--url", serve.url], mode: mode, token: serve.token)
            let (results, asked) = ServeRelayCLITests.outcome(r.lines)
            #expect(r.status == 0 && asked.isEmpty, "\(mode): \(r.stderr) \(r.lines)")
            #expect(results.count == 7, "\(mode): every call was answered: \(r.lines)")
            #expect(results["old__confirm_delete"]?["text"] == "declined", "\(mode): \(r.lines)")
            #expect(results["old__open_link"]?["text"] == "decline", "\(mode): \(r.lines)")
            #expect(results["old__list_roots"]?["text"] == "no roots", "\(mode): \(r.lines)")
            let sampled = results["old__summarise"]
            #expect(sampled?["isError"] == true, "\(mode): \(r.lines)")
            #expect(
                sampled?["text"]?.stringValue?.hasSuffix("the client of mcpconn serve declared no sampling capability")
                    == true, "\(mode): \(r.lines)")
            let questions = [
                ("fm__ask_name", "elicitation \"What is your name?\""),
                ("fm__ask_url", "elicitation \"Open the consent page\""), ("fm__summarize", "sampling"),
            ]
            for (tool, question) in questions {
                #expect(results[tool]?["isError"] == true, "\(mode): \(r.lines)")
                let expected =
                    mode == "legacy"
                    ? "connector 'fm' asked for input that the client of mcpconn serve did not give: \(question)"
                    : "MCPError: \(tool == "fm__summarize" ? "Sampling" : "Elicitation") not supported"
                #expect(results[tool]?["text"]?.stringValue == expected, "\(mode): \(r.lines)")
            }
        }
        await serve.stopCleanly()
    }
}
