import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// What a server asks of the client during `call` (elicitation, sampling, roots), answered from flags, a file, a
/// terminal or a program, in both eras: SDK 1.x servers ask mid-call (handshake era: `elicitation/create` and the
/// others as server requests), SDK 2.3 servers answer `input_required` and get the request again with
/// `inputResponses` (2026-07-28). Over streamable HTTP and stdio.
// Serialized, as SurfaceCLITests: every test starts several Python servers.
@Suite("CLI: answering elicitation, sampling and roots", .serialized, .timeLimit(.minutes(5)))
struct AnswerCLITests {
    /// `modern` and `stdio` speak 2026-07-28; `old` and `stdio1` the handshake era.
    static func sandbox() async throws -> CLISandbox {
        let s = CLISandbox()
        let added = [
            await s.run(["add", "modern", try await SurfaceCLITests.server().base + "/mcp"]),
            await s.run(["add", "old", try await SurfaceCLITests.server(python: TestServer.python1).base + "/mcp"]),
            await s.run(["add", "stdio", "--", TestServer.python, SurfaceCLITests.stdioServer, "--surface"]),
            await s.run(["add", "stdio1", "--", TestServer.python1, SurfaceCLITests.stdioServer, "--surface"]),
        ]
        for a in added { #expect(a.status == 0, "\(a)") }
        return s
    }
    static let kinds = ["modern", "old", "stdio", "stdio1"]
    /// Both eras over HTTP and stdio once: each call of a stdio connector starts a Python server (a second of CPU).
    static let lighter = ["modern", "old", "stdio"]
    static let modern: Set<String> = ["modern", "stdio"]

    @Test func answersFromFlagsAndAFileFillTheForm() async throws {
        let s = try await Self.sandbox()
        let file = s.dir.appendingPathComponent("answers.json")
        try Data(#"{"confirm": true, "count": 3, "color": "red", "unrelated": 1}"#.utf8).write(to: file)
        for ref in Self.kinds {
            let call = ["call", ref, "confirm_delete", "--arg", "path=/tmp/x"]
            let yes = await s.run(call + ["--answer", "confirm=yes", "--answer", "reason=old"])
            #expect(yes.status == 0 && yes.stdout == "deleted /tmp/x (reason: old)\n", "\(ref): \(yes)")
            let no = await s.run(call + ["--answer", "confirm=no"])
            #expect(no.status == 0 && no.stdout == "kept /tmp/x\n", "\(ref): \(no)")
            let fromFile = await s.run(call + ["--answers", file.path])
            #expect(fromFile.status == 0 && fromFile.stdout == "deleted /tmp/x (reason: none)\n", "\(ref): \(fromFile)")
            // A flag overrides the file.
            let both = await s.run(call + ["--answers", file.path, "--answer", "confirm=false"])
            #expect(both.stdout == "kept /tmp/x\n", "\(ref): \(both)")
        }
    }

    @Test func answersThatDoNotFitTheFormExit65AndSayWhy() async throws {
        let s = try await Self.sandbox()
        for ref in Self.lighter {
            let call = ["call", ref, "confirm_delete", "--arg", "path=/tmp/x"]
            let range = await s.run(call + ["--answer", "confirm=yes", "--answer", "count=9"])
            #expect(range.status == 65 && range.stdout.isEmpty, "\(ref): \(range)")
            #expect(range.stderr == "mcpconn: elicitation \"Delete /tmp/x?\": 'count' must be at most 5\n", "\(ref)")
            let missing = await s.run(call + ["--answer", "reason=old"])
            #expect(
                missing.stderr
                    == "mcpconn: elicitation \"Delete /tmp/x?\": no answer for its required field 'confirm' (give --answer confirm=…)\n",
                "\(ref): \(missing)")
            let choice = await s.run(call + ["--answer", "confirm=yes", "--answer", "color=blue"])
            #expect(choice.status == 65 && choice.stderr.contains("'color' must be one of: red, green"), "\(ref)")
        }
        let bad = s.dir.appendingPathComponent("bad.json")
        try Data("[1]".utf8).write(to: bad)
        #expect(await s.run(["call", "old", "echo", "--arg", "text=x", "--answers", bad.path]).status == 65)
        #expect(await s.run(["call", "old", "echo", "--arg", "text=x", "--answers", "/no/such/file"]).status == 66)
    }

    /// Without answers and without a terminal: a handshake-era server's elicitation is declined (the client
    /// declared none); a 2026-07-28 server's `input_required` is left unanswered, exit 79, saying what would answer.
    @Test func nothingToAnswerWithDeclinesOrExits79() async throws {
        let s = try await Self.sandbox()
        for ref in Self.lighter {
            let r = await s.run(["call", ref, "confirm_delete", "--arg", "path=/tmp/x"])
            if Self.modern.contains(ref) {
                #expect(r.status == 79 && r.stdout.isEmpty, "\(ref): \(r)")
                #expect(
                    r.stderr
                        == "mcpconn: tool 'confirm_delete' did not complete: the server asked for input: elicitation \"Delete /tmp/x?\" (to answer: --answer FIELD=VALUE or --answers FILE, or a terminal)\n",
                    "\(ref): \(r)")
            } else {
                #expect(r.status == 0 && r.stdout == "declined\n", "\(ref): \(r)")
            }
            let sample = await s.run(["call", ref, "summarise", "--arg", "text=hello"])
            if Self.modern.contains(ref) {
                #expect(sample.status == 79 && sample.stderr.contains("(to answer: --sampling-command CMD)"), "\(ref)")
            } else {
                // Refused with words that say what was declined and which flag answers it.
                #expect(sample.status == 1, "\(ref): \(sample)")
                #expect(
                    sample.stderr.contains(
                        "mcpconn declared no sampling capability (run it with --sampling-command CMD to answer sampling)"
                    ),
                    "\(ref): \(sample)")
            }
        }
    }

    @Test func aSamplingCommandAnswersWithTheRequestOnItsStdin() async throws {
        let s = try await Self.sandbox()
        let upper =
            #"python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["messages"][0]["content"]["text"].upper())'"#
        let json = #"printf '{"content":{"type":"text","text":"short"},"model":"m1"}'"#
        for ref in Self.lighter {
            let call = ["call", ref, "summarise", "--arg", "text=hello there"]
            let text = await s.run(call + ["--sampling-command", upper])
            #expect(
                text.status == 0 && text.stdout == "summary: HELLO THERE (model: mcpconn-sampling-command)\n",
                "\(ref): \(text)")
            let object = await s.run(call + ["--sampling-command", json])
            #expect(object.stdout == "summary: short (model: m1)\n", "\(ref): \(object)")
            // The store's key never reaches the command.
            let env = await s.run(call + ["--sampling-command", #"echo "${TOKEN_ENCRYPTION_KEY:-unset}""#])
            #expect(env.stdout == "summary: unset (model: mcpconn-sampling-command)\n", "\(ref): \(env)")
            let failed = await s.run(call + ["--sampling-command", "cat >/dev/null; echo broken >&2; exit 3"])
            #expect(failed.status == 1, "\(ref): \(failed)")
            #expect(
                failed.stderr
                    == "mcpconn: sampling for connector '\(ref)': the sampling command failed (exit status 3): broken\n",
                "\(ref): \(failed)")
        }
        // A command still running at the deadline is ended (75). On the HTTP server, already running: a local
        // server's start under a sanitizer's slowdown could take the whole short --timeout itself, and 20 s leave a
        // loaded machine's server the time to ask.
        let slow = await s.run([
            "call", "old", "summarise", "--arg", "text=x", "--sampling-command", "sleep 120", "--timeout", "20",
        ])
        #expect(slow.status == 75 && slow.stderr.contains("the sampling command did not finish in time"), "\(slow)")
    }

    @Test func rootsAreAnsweredInBothEras() async throws {
        let s = try await Self.sandbox()
        for ref in Self.lighter {
            let shared = await s.run(["call", ref, "list_roots", "--root", s.dir.path])
            #expect(shared.status == 0 && shared.stdout.hasPrefix("file://"), "\(ref): \(shared)")
            #expect(shared.stdout.contains(s.dir.lastPathComponent), "\(ref): \(shared)")
            let none = await s.run(["call", ref, "list_roots"])
            #expect(none.status == 0 && none.stdout == "no roots\n", "\(ref): \(none)")
        }
    }

    /// On a terminal the form is asked field by field: a wrong answer is said and asked again; URL mode shows the
    /// URL. The server's text is escaped.
    @Test func aTerminalAsksTheFormFieldByField() async throws {
        let s = try await Self.sandbox()
        for ref in ["stdio", "old"] {
            let typed = "maybe\nyes\nold\n9\n3\nblue\nred\n\n"
            let r = try await s.onTerminal("call \(ref) confirm_delete --arg path=/tmp/x", input: typed)
            #expect(r.status == 0, "\(ref): \(r.output)")
            #expect(r.output.contains("mcpconn: connector '\(ref)' asks: Delete /tmp/x?"), "\(ref): \(r.output)")
            #expect(r.output.contains("'confirm' must be yes or no"), "\(ref)")
            #expect(r.output.contains("count (integer 1…5, optional): "), "\(ref)")
            #expect(
                r.output.contains("'count' must be at most 5") && r.output.contains("'color' must be one of"), "\(ref)")
            #expect(r.output.contains("deleted /tmp/x (reason: old)"), "\(ref): \(r.output)")

            let link = try await s.onTerminal("call \(ref) open_link", input: "y\n")
            #expect(link.output.contains("  open: https://example.com/consent"), "\(ref): \(link.output)")
            #expect(link.status == 0 && link.output.contains("accept"), "\(ref): \(link.output)")
            // End of input cancels.
            let cancelled = try await s.onTerminal("call \(ref) confirm_delete --arg path=/tmp/x", input: "yes\n")
            #expect(cancelled.status == 0 && cancelled.output.contains("cancelled"), "\(ref): \(cancelled.output)")
        }
    }

    /// The client declares exactly what it answers: nothing by default, elicitation's form with answers, form and
    /// URL on a terminal, sampling with a command, roots with a directory.
    @Test func theClientDeclaresWhatItAnswers() async throws {
        let s = try await Self.sandbox()
        let plain = await s.run(["call", "stdio1", "echo", "--arg", "text=x", "--verbose"])
        #expect(plain.stderr.contains(#""capabilities":{},"clientInfo""#), "\(plain.stderr)")
        let all = await s.run(
            [
                "call", "stdio1", "echo", "--arg", "text=x", "--verbose", "--answer", "a=b", "--sampling-command",
                "true",
                "--root", s.dir.path,
            ])
        #expect(
            all.stderr.contains(#""capabilities":{"elicitation":{"form":{}},"roots":{},"sampling":{}}"#),
            "\(all.stderr)")
    }

    /// A 2026-07-28 server that asks again whatever it is answered (the reference server's `ask`) gets 8 rounds,
    /// each answered in full, and then the call ends with 79: a server that keeps asking does not keep the client.
    @Test func roundsOfInputAreBounded() async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "ask", (try await CLIServers.asking()).base + "/mcp"]).status == 0)
        let r = await s.run(
            [
                "call", "ask", "ask", "--arg", "message=Again?", "--answer", "ok=yes", "--sampling-command",
                "echo fine",
                "--verbose",
            ])
        #expect(r.status == 79, "\(r)")
        let rounds = r.stderr.split(separator: "\n").filter { $0.contains("input round ") }
        #expect(rounds.count == 8, "\(rounds)")
        #expect(
            rounds.first?.contains("the server asks for elicitation/create, sampling/createMessage, roots/list") == true
        )
        // Each retry carries the answers and the requestState of the round before, as it came (the SDK seals it).
        func states(_ lines: [Substring]) -> [String] {
            lines.compactMap { line in
                line.range(of: #""requestState":""#).map { String(line[$0.upperBound...].prefix { $0 != "\"" }) }
            }
        }
        let lines = r.stderr.split(separator: "\n")
        let retries = lines.filter { $0.hasPrefix(">") && $0.contains(#""inputResponses""#) }
        #expect(retries.count == 8 && retries.allSatisfy { $0.contains(#""action":"accept""#) }, "\(retries.count)")
        let asked = states(lines.filter { $0.hasPrefix("<") })
        #expect(!asked.isEmpty && states(retries) == Array(asked.prefix(8)), "\(asked)")
    }

    /// A form nobody answers ends with the operation's --timeout (75), on 2026-07-28 (where no request is in flight
    /// while the form waits) as in the handshake era.
    @Test func anUnansweredFormEndsAtTheTimeout() async throws {
        let s = try await Self.sandbox()
        for ref in ["stdio", "old"] {
            let r = try await s.onTerminal(
                "call \(ref) confirm_delete --arg path=/tmp/x --timeout 4", holdInput: true)
            #expect(r.status == 75, "\(ref): \(r.output)")
            #expect(r.output.contains("asks: Delete /tmp/x?"), "\(ref): \(r.output)")
        }
    }
}
