import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// The audit trail and secrets kept in (issue 26), with the official Python SDK client through `serve`: every
/// tools/call is a row `audit` shows (its arguments as the SHA-256 of their canonical JSON, computed here from text
/// written by hand), written by the end of serve however long the batch interval; a credential sealed in the store
/// is refused in arguments and cut out of results; `--audit-args` seals the arguments, `--no-audit` writes nothing.
extension GatewaySuites {
    @Suite("CLI: audit trail and secrets kept in", .serialized, .timeLimit(.minutes(3)))
    struct AuditCLITests {
        /// Rows are written only at serve's end: what the tests find, the end wrote.
        static let lateFlush = ["MCPCONN_AUDIT_FLUSH_SECONDS": "3600"]

        static func sha256(_ text: String) -> String { PinnedForm.sha256(Array(text.utf8)) }

        /// A sandbox with `keyed` (an api_key sealed in the store) and `open` (no credential) on one reference server
        /// that has the tools remember and recall; the server was told the key out of band (a `call`, not serve).
        static func sandbox(_ server: TestServer, secret: String) async -> CLISandbox {
            let s = CLISandbox()
            s.environment.merge(lateFlush) { $1 }
            let added = await s.run(
                ["add", "keyed", server.base + "/mcp", "--auth", "api_key", "--secret-stdin"], stdin: secret + "\n")
            #expect(added.status == 0, "\(added)")
            #expect(await s.run(["add", "open", server.base + "/mcp"]).status == 0)
            let told = await s.run(["call", "open", "remember", "--arg", "text=the key is \(secret)."])
            #expect(told.status == 0, "\(told)")
            return s
        }

        static func rows(_ s: CLISandbox, _ args: [String] = []) async throws -> [JSONValue] {
            let r = await s.run(["audit", "--json"] + args, env: ["LD_DEBUG": "libs"])
            #expect(r.status == 0 && !r.stderr.contains("libcurl"), "\(r.status) \(r.stderr.suffix(300))")
            return try JSONValue.parse(r.stdout).arrayValue ?? []
        }

        @Test func everyCallIsARowAndACredentialIsRefusedInArgumentsAndCutOutOfResults() async throws {
            let server = try await TestServer.start("reference_server.py", ["--recall"])
            defer { server.stop() }
            let secret = "sk-live-" + UUID().uuidString
            let s = await Self.sandbox(server, secret: secret)
            let alice = ClientsCLITests.token(await s.run(["client", "add", "alice"]))
            let serve = try await HTTPServe(s, ["keyed", "open", "--clients"])
            let steps: JSONValue = [
                ["call": "keyed__add", "arguments": ["b": 2, "a": 1]],
                ["call": "open__echo", "arguments": ["text": .string("pass it on: \(secret)")]],
                ["call": "open__recall", "arguments": [:]],
                ["call": "open__nothing", "arguments": [:]],
            ]
            let r = try await ServeHTTPCLITests.client(serve, steps: steps, token: alice)
            #expect(r.status == 0 && r.calls.count == 4, "\(r.calls) \(r.stderr)")
            #expect(r.calls[0]["text"] == "3", "\(r.calls)")
            // Refused with -32602, saying neither the value nor whose it is.
            let refused = r.calls[1]["text"]?.stringValue ?? ""
            #expect(r.calls[1]["code"] == -32602 && refused.contains("credential sealed in its store"), "\(r.calls)")
            #expect(!refused.contains(secret) && !refused.contains("keyed"))
            #expect(r.calls[2]["text"] == "the key is [redacted by mcpconn].", "\(r.calls)")
            await serve.stopCleanly()
            let log = serve.stderr
            #expect(log.contains("refused: the request carries a value sealed in the store"), "\(log)")
            #expect(!log.contains(secret))

            // Newest first; written by serve's end (the batch interval is an hour).
            let rows = try await Self.rows(s)
            let outcomes = rows.compactMap { $0["outcome"]?.stringValue }
            #expect(outcomes == ["refused", "redacted", "secret_refused", "ok"], "\(rows)")
            #expect(rows.allSatisfy { $0["client"] == "alice" && $0["user"] == 1 && ($0["bytes"]?.intValue ?? 0) > 0 })
            #expect(rows.map { $0["connector"]?.stringValue } == ["", "open", "open", "keyed"], "\(rows)")
            #expect(rows.map { $0["tool"]?.stringValue } == ["open__nothing", "recall", "echo", "add"], "\(rows)")
            let digests = rows.map { $0["args_digest"]?.stringValue ?? "" }
            // Keys sorted, no spaces: the order the client sent them in (b, a) does not count.
            #expect(digests[3] == Self.sha256(#"{"a":1,"b":2}"#), "\(rows[3])")
            // A refused call's arguments are recorded with the credential cut out: nothing derived from it is kept.
            #expect(digests[2] == Self.sha256(#"{"text":"pass it on: [redacted by mcpconn]"}"#), "\(rows[2])")
            #expect(digests[1] == Self.sha256("{}"))
            #expect(rows.allSatisfy { $0["args_sealed"] == false && $0["arguments"] == nil })
            let latencies = rows.compactMap { $0["latency_ms"]?.intValue }
            #expect(latencies.count == 4 && latencies.allSatisfy { $0 >= 0 })

            // Filters: client, connector, since (a time ago or a date), limit.
            #expect(try await Self.rows(s, ["--connector", "open"]).count == 2)
            #expect(try await Self.rows(s, ["--client", "alice", "--connector", "keyed"]).count == 1)
            #expect(try await Self.rows(s, ["--client", "bob"]).isEmpty)
            #expect(try await Self.rows(s, ["--since", "1h"]).count == 4)
            #expect(try await Self.rows(s, ["--since", "2000-01-01"]).count == 4)
            #expect(try await Self.rows(s, ["--since", "2999-01-01T00:00:00Z"]).isEmpty)
            #expect(try await Self.rows(s, ["--limit", "1"]).first?["outcome"] == "refused")
            #expect(await s.run(["audit", "--since", "yesterday"]).status == 64)
            let table = await s.run(["audit"])
            #expect(table.status == 0 && table.stdout.hasPrefix("TIME"), "\(table)")
            #expect(table.stdout.contains("secret_refused") && !table.stdout.contains(secret), "\(table.stdout)")
            // Neither the store nor its journal holds the arguments in clear.
            for file in [s.databasePath, s.databasePath + "-wal"] {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
                #expect(bytes.range(of: Data("pass it on".utf8)) == nil, "\(file)")
            }
            let pruned = await s.run(["audit", "--prune-before", "0s", "--json"])
            let removed = try JSONValue.parse(pruned.stdout)["removed"]
            #expect(pruned.status == 0 && removed == 4, "\(pruned)")
            #expect(try await Self.rows(s).isEmpty)
        }

        @Test func stdioServeWritesItsRowsWhenStdinEndsAndNoAuditWritesNone() async throws {
            let server = try await TestServer.start("reference_server.py", ["--recall"])
            defer { server.stop() }
            let secret = "sk-live-" + UUID().uuidString
            let s = await Self.sandbox(server, secret: secret)
            let steps: JSONValue = [
                ["call": "echo", "arguments": ["text": "hi"]],
                ["call": "echo", "arguments": ["text": .string(secret)]],
                ["pause": true],
            ]
            let (ran, _) = try await ServedClient.run(
                s, serving: ["keyed"], transport: "stdio", mode: "auto", steps: steps, pause: {})
            #expect(ran.status == 0 && ran.lines.first?["text"] == "hi", "\(ran.lines) \(ran.stderr)")
            #expect(ran.lines.last?["code"] == -32602, "\(ran.lines)")
            let rows = try await Self.rows(s)
            #expect(rows.map { $0["outcome"] } == ["secret_refused", "ok"], "\(rows)")
            #expect(rows.allSatisfy { $0["client"] == .null && $0["connector"] == "keyed" && $0["tool"] == "echo" })
            #expect(rows.last?["args_digest"] == .string(Self.sha256(#"{"text":"hi"}"#)))

            let (quiet, _) = try await ServedClient.run(
                s, serving: ["keyed", "--no-audit"], transport: "stdio", mode: "auto", steps: steps, pause: {})
            #expect(quiet.status == 0 && quiet.lines.first?["text"] == "hi", "\(quiet.lines)")
            #expect(try await Self.rows(s).count == 2)
            #expect(await s.run(["serve", "keyed", "--no-audit", "--audit-args"]).status == 64)
        }

        /// SIGTERM to a stdio serve whose client keeps stdin open: the rows are written, then it exits 128+15.
        @Test func aSignalToStdioServeWritesItsRowsBeforeItEnds() async throws {
            let server = try await TestServer.start("reference_server.py", ["--recall"])
            defer { server.stop() }
            let s = await Self.sandbox(server, secret: "sk-live-" + UUID().uuidString)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLISandbox.binary)
            p.arguments = ["serve", "keyed"]
            p.environment = s.environment
            let input = await Pipe.closeOnExec()
            let out = s.dir.appendingPathComponent("serve.out")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            p.standardInput = input
            p.standardOutput = try FileHandle(forWritingTo: out)
            p.standardError = FileHandle.nullDevice
            let watch = ExitWatch(p)
            try await p.runOffPool()
            let lines = [
                HTTPServe.initialize("2025-06-18"), #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#,
            ]
            try input.fileHandleForWriting.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
            func answered() -> Bool {
                ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains(#""id":2"#)
            }
            #expect(try await eventually { answered() })
            kill(p.processIdentifier, SIGTERM)
            #expect(await watch.wait() == 128 + SIGTERM)
            try? input.fileHandleForWriting.close()
            let rows = try await Self.rows(s)
            #expect(rows.map { $0["outcome"] } == ["ok"] && rows.first?["tool"] == "echo", "\(rows)")
        }

        /// A call still under way when serve --http is told to stop is a row too: serve's end waits for it (cut short)
        /// before the audit trail writes its last rows.
        @Test func aCallUnderWayWhenServeStopsIsARow() async throws {
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("ref-\(UUID().uuidString).log")
            defer { try? FileManager.default.removeItem(at: log) }
            let server = try await TestServer.start("reference_server.py", ["--recall", "--access-log", log.path])
            defer { server.stop() }
            let s = await Self.sandbox(server, secret: "sk-live-" + UUID().uuidString)
            let serve = try await HTTPServe(s, ["open"])
            let (call, modern) = HTTPServe.modernCall("slow", #"{"seconds":120}"#)
            let pending = Task { try? await serve.post(call, headers: modern) }
            func upstreamHasIt() -> Bool {
                ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains(#""mcp-name": "slow""#)
            }
            #expect(try await eventually { upstreamHasIt() })
            await serve.stopCleanly()
            _ = await pending.value
            let rows = try await Self.rows(s)
            #expect(rows.map { $0["tool"] } == ["slow"] && rows.first?["connector"] == "open", "\(rows)")
        }

        @Test func auditArgsSealsTheArgumentsAndShowArgsOpensThem() async throws {
            let server = try await TestServer.start("reference_server.py", ["--recall"])
            defer { server.stop() }
            let s = await Self.sandbox(server, secret: "sk-live-" + UUID().uuidString)
            let marker = "marker-" + UUID().uuidString
            let serve = try await HTTPServe(s, ["open", "--audit-args"])
            let r = try await ServeHTTPCLITests.client(
                serve, steps: [["call": "echo", "arguments": ["text": .string(marker)]]])
            #expect(r.calls.first?["text"] == .string(marker), "\(r.calls) \(r.stderr)")
            await serve.stopCleanly()
            for file in [s.databasePath, s.databasePath + "-wal"] {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
                #expect(bytes.range(of: Data(marker.utf8)) == nil, "\(file)")
            }
            let plain = try await Self.rows(s)
            #expect(plain.count == 1 && plain.first?["args_sealed"] == true && plain.first?["arguments"] == nil)
            let shown = try await Self.rows(s, ["--show-args"])
            #expect(shown.first?["arguments"] == ["text": .string(marker)], "\(shown)")
            // Without the key the sealed arguments do not open.
            let keyless = await s.run(
                ["audit", "--show-args"], env: ["TOKEN_ENCRYPTION_KEY": String(repeating: "A", count: 44)])
            #expect(keyless.status != 0 && !keyless.stdout.contains(marker), "\(keyless)")
        }
    }
}
