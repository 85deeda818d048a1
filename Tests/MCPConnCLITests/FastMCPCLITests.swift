import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `call`, `prompt` and `read` against a FastMCP 4 server (PyPI `fastmcp`, Tests/Servers/fastmcp_server.py), the
/// framework most Python MCP servers are written with: over streamable HTTP and stdio it speaks 2026-07-28 (its
/// tools ask with `input_required`), over the legacy HTTP+SSE transport the handshake era (`ctx.elicit` and
/// sampling as server requests during the call).
// Serialized, as AnswerCLITests: every stdio call starts a Python server (about 1.5 s of CPU with FastMCP).
@Suite("CLI: a FastMCP server", .serialized, .timeLimit(.minutes(5)))
struct FastMCPCLITests {
    static let script = TestServer.repoRoot.appendingPathComponent("Tests/Servers/fastmcp_server.py").path

    /// A sandbox with `http` (streamable HTTP, 2026-07-28), `sse` (HTTP+SSE, handshake era) and `stdio`.
    static func sandbox() async throws -> CLISandbox {
        let s = CLISandbox()
        let http = try await TestServer.shared("fastmcp_server.py", ["--transport", "http"])
        let sse = try await TestServer.shared("fastmcp_server.py", ["--transport", "sse"])
        let added = [
            await s.run(["add", "http", http.base + "/mcp"]),
            await s.run(["add", "sse", sse.base + "/sse"]),
            await s.run(["add", "stdio", "--", TestServer.python, script, "--transport", "stdio"]),
        ]
        for a in added { #expect(a.status == 0, "\(a)") }
        return s
    }
    static let kinds = ["http", "sse", "stdio"]
    static let modern: Set<String> = ["http", "stdio"]

    /// `--answer` fills FastMCP's form (its schema made from a dataclass); without one and without a terminal,
    /// a 2026-07-28 call exits 79 naming the form, and the handshake era's elicitation is declined. Each
    /// connector is stored with the era it negotiated.
    @Test func anElicitedFormIsAnsweredByFlagsOrExits79OrIsDeclined() async throws {
        let s = try await Self.sandbox()
        for ref in Self.kinds {
            let answered = await s.run(["call", ref, "ask_name", "--answer", "name=Ann"])
            #expect(answered.status == 0 && answered.stdout == "Hello, Ann\n", "\(ref): \(answered)")
            let era = json(await s.run(["get", ref, "--json"]))["protocol_era"]?.stringValue
            #expect(era == (Self.modern.contains(ref) ? "modern" : "handshake"), "\(ref)")

            let unanswered = await s.run(["call", ref, "ask_name"])
            if Self.modern.contains(ref) {
                #expect(unanswered.status == 79 && unanswered.stdout.isEmpty, "\(ref): \(unanswered)")
                #expect(
                    unanswered.stderr
                        == "mcpconn: tool 'ask_name' did not complete: the server asked for input: elicitation \"What is your name?\" (to answer: --answer FIELD=VALUE or --answers FILE, or a terminal)\n",
                    "\(ref): \(unanswered)")
            } else {
                #expect(unanswered.status == 0 && unanswered.stdout == "declined\n", "\(ref): \(unanswered)")
            }
        }
    }

    /// A URL elicitation is answered on a terminal (`open: URL`, then whether it was done), in both eras. Without
    /// a terminal no flag answers it: `--answer` declines it, and with nothing at all a 2026-07-28 call exits 79
    /// saying that only a terminal would.
    @Test func aURLElicitationIsAnsweredOnATerminalOnly() async throws {
        let s = try await Self.sandbox()
        for ref in ["http", "sse"] {
            let link = try await s.onTerminal("call \(ref) ask_url", input: "y\n")
            #expect(link.output.contains("  open: https://example.com/consent"), "\(ref): \(link.output)")
            #expect(link.status == 0 && link.output.hasSuffix("accept\r\n"), "\(ref): \(link.output)")
            let flags = await s.run(["call", ref, "ask_url", "--answer", "name=Ann"])
            #expect(flags.status == 0 && flags.stdout == "decline\n", "\(ref): \(flags)")
        }
        let nothing = await s.run(["call", "http", "ask_url"])
        #expect(nothing.status == 79, "\(nothing)")
        #expect(
            nothing.stderr
                == "mcpconn: tool 'ask_url' did not complete: the server asked for input: elicitation \"Open the consent page\" (to answer: a terminal, for its URL)\n",
            "\(nothing)")
    }

    @Test func aSamplingCommandAnswersSummarize() async throws {
        let s = try await Self.sandbox()
        let upper =
            #"python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["messages"][0]["content"]["text"].upper())'"#
        for ref in Self.kinds {
            let r = await s.run(["call", ref, "summarize", "--arg", "text=hello there", "--sampling-command", upper])
            #expect(r.status == 0 && r.stdout == "HELLO THERE\n", "\(ref): \(r)")
        }
        let none = await s.run(["call", "http", "summarize", "--arg", "text=x"])
        #expect(none.status == 79 && none.stderr.hasSuffix("sampling (to answer: --sampling-command CMD)\n"), "\(none)")
    }

    /// FastMCP's `ctx.report_progress` and `ctx.warning` reach stderr as JSON lines with `--json`, the result
    /// stays on stdout; in both eras (2026-07-28 asks for the log level in each request's `_meta`).
    @Test func progressAndAWarningAreJSONLinesOnStderr() async throws {
        let s = try await Self.sandbox()
        for ref in Self.kinds {
            let r = await s.run(["call", ref, "slow_count", "--arg", "n=3", "--json"])
            #expect(r.status == 0, "\(ref): \(r)")
            #expect(json(r)["content"]?.arrayValue?.first?["text"]?.stringValue == "counted to 3", "\(ref): \(r)")
            let lines = r.stderr.split(separator: "\n").map { try? JSONValue.parse(String($0)) }
            let events = lines.compactMap { $0 }
            #expect(events.count == lines.count, "\(ref): every line is JSON: \(r.stderr)")
            #expect(events.allSatisfy { $0["connector"]?.stringValue == ref }, "\(ref): \(r.stderr)")
            let progress = events.filter { $0["method"]?.stringValue == "notifications/progress" }
            #expect(progress.compactMap { $0["params"]?["progress"]?.doubleValue } == [1, 2, 3], "\(ref): \(r.stderr)")
            #expect(progress.allSatisfy { $0["params"]?["total"]?.doubleValue == 3 }, "\(ref)")
            let logs = events.filter { $0["method"]?.stringValue == "notifications/message" }
            #expect(logs.count == 1, "\(ref): \(r.stderr)")
            #expect(logs.first?["params"]?["level"]?.stringValue == "warning", "\(ref)")
            #expect(logs.first?["params"]?["data"]?["msg"]?.stringValue == "counted to 3", "\(ref): \(r.stderr)")
        }
    }

    @Test func aPromptAndAResourceOnEveryTransport() async throws {
        let s = try await Self.sandbox()
        for ref in Self.kinds {
            let prompt = await s.run(["prompt", ref, "greet", "--arg", "name=ann"])
            #expect(prompt.status == 0 && prompt.stdout == "[user]\nSay hello to ann.\n", "\(ref): \(prompt)")
            let read = await s.run(["read", ref, "memo://fastmcp"])
            #expect(read.status == 0 && read.stdout == "served by FastMCP\n", "\(ref): \(read)")
        }
    }
}
