import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `GET /metrics` and `GET /healthz` of `serve --http` (issue 26): the metrics count every client's calls, are
/// readable by a client made with `--metrics` only, parse as Prometheus text with a client's hostile tool name
/// escaped; `/healthz` answers without a token and says only ok.
extension GatewaySuites {
    @Suite("CLI: gateway metrics and health", .serialized, .timeLimit(.minutes(3)))
    struct MetricsCLITests {
        @Test func aMetricsClientReadsEveryClientsCallsCountedAndOthersAreRefused() async throws {
            let s = CLISandbox()
            #expect(await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer]).status == 0)
            let ops = ClientsCLITests.token(await s.run(["client", "add", "ops", "--metrics"]))
            let alice = ClientsCLITests.token(await s.run(["client", "add", "alice", "--allow", "local:echo"]))
            let serve = try await HTTPServe(s, ["local", "--clients"])

            // alice, with the official Python SDK client: 3 calls of echo, and one of add (refused by her rules).
            let echo: JSONValue = ["call": "echo", "arguments": ["text": "a"]]
            let steps: JSONValue = [echo, echo, echo, ["call": "add", "arguments": ["a": 1, "b": 2]]]
            let a = try await ServeHTTPCLITests.client(serve, steps: steps, token: alice)
            #expect(a.status == 0 && a.calls.count == 4 && a.calls.last?["code"] == -32602, "\(a.calls) \(a.stderr)")
            // A tool named by the client with a quote, a newline and an escape sequence (the one connector gets every
            // name, and alice's rules refuse it).
            let hostile = "ev\"il\nname\u{1B}[2J"
            let name = try #require(String(data: JSONSerialization.data(withJSONObject: [hostile]), encoding: .utf8))
            let (body, headers) = HTTPServe.modernCall("x", #"{}"#)
            let poisoned = body.replacingOccurrences(
                of: #""name":"x""#, with: #""name":"# + name.dropFirst().dropLast())
            let encoded = "=?base64?" + Data(hostile.utf8).base64EncodedString() + "?="
            let refused = try await serve.post(
                poisoned, token: alice, headers: headers.merging(["Mcp-Name": encoded]) { $1 })
            #expect(refused.status == 400 && refused.body.contains("allow-list"), "\(refused)")
            // A handshake-era session left open, and in it a batch of 105 calls of tools by 105 names: 100 names are
            // labelled per connector (echo, add and the hostile one are 3), the other 8 calls are counted as `other`.
            let opened = try await serve.post(HTTPServe.initialize("2025-06-18"), token: alice)
            let session = ["Mcp-Session-Id": try #require(opened.header("mcp-session-id"), "\(opened)")]
            let batch = (0..<105).map {
                #"{"jsonrpc":"2.0","id":\#($0),"method":"tools/call","params":{"name":"t\#($0)"}}"#
            }
            let flood = try await serve.post("[" + batch.joined(separator: ",") + "]", token: alice, headers: session)
            #expect(flood.status == 200 && flood.body.components(separatedBy: "allow-list").count == 106, "\(flood)")

            let read = try await serve.request("GET", token: ops, path: "/metrics")
            #expect(read.status == 200 && read.header("content-type")?.hasPrefix("text/plain") == true, "\(read)")
            let samples = try Self.samples(read.body)
            let echoLabels = #"connector="local",tool="echo""#
            #expect(samples["mcpconn_calls_total{\(echoLabels),outcome=\"ok\"}"] == 3, "\(read.body)")
            #expect(samples["mcpconn_call_duration_seconds_count{\(echoLabels)}"] == 3)
            #expect(samples["mcpconn_call_duration_seconds_bucket{\(echoLabels),le=\"+Inf\"}"] == 3)
            #expect(samples[#"mcpconn_calls_total{connector="local",tool="add",outcome="refused"}"#] == 1)
            #expect(samples[#"mcpconn_upstream_up{connector="local"}"#] == 1)
            #expect(samples["mcpconn_sessions"] == 1)
            #expect(samples[#"mcpconn_calls_total{connector="local",tool="t96",outcome="refused"}"#] == 1)
            #expect(samples[#"mcpconn_calls_total{connector="local",tool="t97",outcome="refused"}"#] == nil)
            #expect(samples[#"mcpconn_calls_total{connector="local",tool="other",outcome="refused"}"#] == 8)
            // The hostile name is one label value: the quote and newline escaped by the format, ESC as on a terminal.
            let escaped = #"mcpconn_calls_total{connector="local",tool="ev\"il\nname\\e[2J",outcome="refused"}"#
            #expect(samples[escaped] == 1, "\(read.body)")
            #expect(!read.body.contains("\u{1B}") && !read.body.contains("\nname"))

            // alice has no --metrics: 403; no token or an unknown one: 401. Scrapes are not MCP calls: not counted.
            #expect(try await serve.request("GET", token: alice, path: "/metrics").status == 403)
            #expect(try await serve.request("GET", token: .none, path: "/metrics").status == 401)
            #expect(try await serve.request("GET", token: ClientToken.generate(), path: "/metrics").status == 401)
            #expect(try await serve.request("POST", body: "{}", token: ops, path: "/metrics").status == 405)
            let again = try Self.samples(try await serve.request("GET", token: ops, path: "/metrics").body)
            #expect(again["mcpconn_calls_total{\(echoLabels),outcome=\"ok\"}"] == 3)

            // /healthz: no token needed, and nothing but ok; the Host and Origin checks still apply.
            let health = try await serve.request("GET", token: .none, path: "/healthz")
            #expect(health.status == 200 && health.body == "ok\n", "\(health)")
            let page = try await serve.request(
                "GET", token: .none, headers: ["Origin": "https://evil.example"], path: "/healthz")
            #expect(page.status == 403)
            #expect(
                try await serve.request("GET", token: .none, headers: ["Host": "evil.example"], path: "/healthz")
                    .status == 421)
            #expect(!serve.stderr.contains(ops) && !serve.stderr.contains(alice))
            await serve.stopCleanly()
        }

        @Test func plainServeKeepsNoMetricsAndAnswersHealth() async throws {
            let s = CLISandbox()
            #expect(await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer]).status == 0)
            let serve = try await HTTPServe(s, ["local"])
            let metrics = try await serve.request("GET", path: "/metrics")
            #expect(metrics.status == 404 && metrics.body.contains("--clients"), "\(metrics)")
            let health = try await serve.request("GET", token: .none, path: "/healthz")
            #expect(health.status == 200 && health.body == "ok\n", "\(health)")
            #expect(try await serve.request("GET", token: .none, path: "/mcp").status == 401)
            await serve.stopCleanly()
        }

        /// `/healthz` follows the store: `not ok` (503) once serve cannot read it, `ok` again once it can.
        @Test func healthIsNotOkWhileTheStoreIsLostAndOkOnceItIsBack() async throws {
            let url = try await offPool { try PostgresServer.shared().createDatabase() }
            let db = String(url.split(separator: "/").last ?? "")
            let s = CLISandbox()
            s.environment["MCPCONN_DB"] = url
            s.environment["TOKEN_ENCRYPTION_KEY"] = String(repeating: "cd", count: 32)
            #expect(await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer]).status == 0)
            let serve = try await HTTPServe(s, ["local"])
            let health = { try await serve.request("GET", token: .none, path: "/healthz") }
            #expect(try await health().body == "ok\n")
            let admin = { (sql: String) in try await offPool { _ = try PostgresServer.shared().psql("postgres", sql) } }
            let terminate =
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(db)' AND pid <> pg_backend_pid()"
            try await admin("ALTER DATABASE \(db) ALLOW_CONNECTIONS false")
            try await admin(terminate)
            #expect(try await eventually(every: spawnInterval) { try await health().status == 503 })
            let lost = try await health()
            #expect(lost.body == "not ok\n" && !lost.body.contains(db), "\(lost)")
            try await admin("ALTER DATABASE \(db) ALLOW_CONNECTIONS true")
            #expect(try await eventually(every: spawnInterval) { try await health().status == 200 })
            await serve.stopCleanly()
        }

        @Test func anUpstreamThatCannotAnswerIsDownAndItsCallsAreToolErrors() async throws {
            let s = CLISandbox()
            let garbage = ["add", "broken", "--", TestServer.python, ServeCLITests.faultServer, "garbage"]
            #expect(await s.run(garbage).status == 0)
            let ops = ClientsCLITests.token(await s.run(["client", "add", "ops", "--metrics"]))
            let serve = try await HTTPServe(s, ["broken", "--clients"])
            let (call, headers) = HTTPServe.modernCall("echo", #"{"text":"a"}"#)
            let failed = try await serve.post(call, token: ops, headers: headers)
            #expect(failed.status == 200 && failed.body.contains(#""isError":true"#), "\(failed)")
            let samples = try Self.samples(try await serve.request("GET", token: ops, path: "/metrics").body)
            #expect(samples[#"mcpconn_upstream_up{connector="broken"}"#] == 0, "\(samples)")
            #expect(samples[#"mcpconn_calls_total{connector="broken",tool="echo",outcome="tool_error"}"#] == 1)
            await serve.stopCleanly()
        }

        /// A Prometheus text exposition's samples by their name and labels as written (`name{a="b",…}`), each line
        /// checked against the format: `# HELP`/`# TYPE` comments, or a metric name, labels whose values escape
        /// only `\\`, `\"` and `\n`, and a number.
        static func samples(_ text: String) throws -> [String: Double] {
            var samples: [String: Double] = [:]
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
                let (series, value) = try #require(Self.sample(line), "not a sample: \(line)")
                samples[series] = value
            }
            #expect(text.hasSuffix("\n"))
            return samples
        }

        private static func sample(_ line: Substring) -> (String, Double)? {
            var i = line.startIndex
            let nameBytes = line.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
            guard let first = nameBytes.first, !first.isNumber else { return nil }
            i = nameBytes.endIndex
            if i < line.endIndex, line[i] == "{" {
                i = line.index(after: i)
                while line[i] != "}" {
                    let label = line[i...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                    guard !label.isEmpty, label.endIndex < line.endIndex, line[label.endIndex...].hasPrefix("=\"")
                    else { return nil }
                    i = line.index(label.endIndex, offsetBy: 2)
                    while i < line.endIndex, line[i] != "\"" {
                        if line[i] == "\\" {
                            i = line.index(after: i)
                            guard i < line.endIndex, ["\\", "\"", "n"].contains(line[i]) else { return nil }
                        }
                        i = line.index(after: i)
                    }
                    guard i < line.endIndex else { return nil }
                    i = line.index(after: i)
                    guard i < line.endIndex else { return nil }
                    if line[i] == "," { i = line.index(after: i) }
                }
                i = line.index(after: i)
            }
            guard i < line.endIndex, line[i] == " ", let value = Double(line[line.index(after: i)...]) else {
                return nil
            }
            return (String(line[..<i]), value)
        }
    }
}
