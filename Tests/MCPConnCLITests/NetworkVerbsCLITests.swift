import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Servers shared by the CLI tests of the network verbs.
enum CLIServers {
    static func reference() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--name", "cli-ref"])
    }
    static func handshake() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--name", "cli-old"], python: TestServer.python1)
    }
    static func legacy() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--transport", "sse"])
    }
    static func keyed() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--require-header", "X-Team-Key=cli-s3cret-key"])
    }
    static func faults() async throws -> TestServer { try await TestServer.shared("fault_server.py") }
    /// The SDK 2.3 reference server with its tool `ask`, which answers 2026-07-28's `input_required`.
    static func asking() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--name", "cli-ask", "--input-required"])
    }
}

/// Parses stdout as JSON or records an issue.
func json(_ r: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue {
    do { return try JSONValue.parse(r.stdout) } catch {
        Issue.record("stdout is not JSON: \(r)", sourceLocation: sourceLocation)
        return .null
    }
}

@Suite("CLI: verify, health, refresh, call", .timeLimit(.minutes(3)))
struct NetworkVerbsCLITests {
    @Test func verifyThenCallPrintsText() async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "ref", (try await CLIServers.reference()).base + "/mcp"]).status == 0)
        let v = await s.run(["verify", "ref", "--expect-tool", "echo"])
        #expect(v.status == 0, "\(v)")
        #expect(v.stdout.isEmpty && v.stderr.isEmpty)
        let c = await s.run(["call", "ref", "echo", "--arg", "text=hello there"])
        #expect(c.status == 0)
        #expect(c.stdout == "hello there\n")
        let got = json(await s.run(["get", "ref", "--json"]))
        #expect(got["is_verified"] == true)
        #expect(got["protocol_version"] == "2026-07-28")
        #expect((got["discovered_tools"]?.arrayValue?.count ?? 0) >= 10)
        let tools = await s.run(["tools", "ref"])
        #expect(tools.stdout.hasPrefix("TOOL"))
        #expect(tools.stdout.contains("echo"))
    }

    @Test func expectToolMissingExits1() async throws {
        let s = CLISandbox()
        await s.run(["add", "ref", (try await CLIServers.reference()).base + "/mcp"])
        let v = await s.run(["verify", "ref", "--expect-tool", "echo", "--expect-tool", "teleport"])
        #expect(v.status == 1)
        #expect(v.stderr == "mcpconn: connector 'ref' lacks tools: teleport\n")
    }

    @Test func callArgumentsFromJSONFileAndStdin() async throws {
        let s = CLISandbox()
        await s.run(["add", "ref", (try await CLIServers.handshake()).base + "/mcp"])
        let file = s.dir.appendingPathComponent("args.json")
        try Data(#"{"a": 20, "b": 1}"#.utf8).write(to: file)
        #expect(await s.run(["call", "ref", "add", "--args", "@" + file.path]).stdout == "21\n")
        #expect(
            await s.run(["call", "ref", "add", "--args", "-", "--arg", "b=5"], stdin: #"{"a": 1, "b": 2}"#).stdout
                == "6\n")
        let j = json(await s.run(["call", "ref", "add", "--args", #"{"a":1,"b":1}"#, "--json"]))
        #expect(j["structuredContent"]?["result"] == 2)
        #expect(await s.run(["call", "ref", "add", "--args", "{not json"]).status == 65)
        #expect(await s.run(["call", "ref", "add", "--args", "@/no/such/file"]).status == 66)
    }

    @Test func toolErrorsExit1WithTheTextOnStderr() async throws {
        let s = CLISandbox()
        await s.run(["add", "ref", (try await CLIServers.reference()).base + "/mcp"])
        let r = await s.run(["call", "ref", "fail", "--arg", "message=it broke"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("mcpconn: ") && r.stderr.contains("it broke"))
        #expect(r.stderr.split(separator: "\n").count == 1)
        let j = await s.run(["call", "ref", "fail", "--arg", "message=json too", "--json"])
        #expect(j.status == 1)
        #expect(json(j)["isError"] == true)
        #expect(await s.run(["call", "ref", "no_such_tool"]).status == 1)
    }

    /// A 2026-07-28 server that answers a call with `input_required` (an elicitation, a sample, the roots) has not
    /// run the tool to its end: with nothing set up to answer the elicitation and the sample, the call exits 79 in
    /// every format, with one line naming what the server asked for (its text escaped) and what would answer it.
    @Test func aToolThatAsksForInputExits79AndSaysWhatWasAsked() async throws {
        let s = CLISandbox()
        await s.run(["add", "ask", (try await CLIServers.asking()).base + "/mcp"])
        let message = "message=Confirm \u{1B}]0;owned\u{07}the\ntransfer?"
        let asked = #"elicitation "Confirm \e]0;owned\x07the\ntransfer?", sampling, roots"#
        let text = await s.run(["call", "ask", "ask", "--arg", message])
        #expect(text.status == 79 && text.stdout.isEmpty, "\(text)")
        #expect(
            text.stderr == "mcpconn: tool 'ask' did not complete: the server asked for input: \(asked) (to answer: "
                + "--answer FIELD=VALUE or --answers FILE, or a terminal; --sampling-command CMD)\n", "\(text)")
        let agent = await s.run(["call", "ask", "ask", "--arg", message, "--format", "agent"])
        #expect(agent.status == 79 && agent.stdout == "[ask:ask] input required: \(asked)\n", "\(agent)")
        #expect(agent.stderr == text.stderr)
        let j = await s.run(["call", "ask", "ask", "--arg", message, "--json"])
        #expect(j.status == 79 && j.stderr == text.stderr, "\(j)")
        #expect(json(j)["resultType"] == "input_required" && json(j)["inputRequests"]?["where"] != nil, "\(j)")
    }

    @Test func healthJSONIsAnArrayInIdOrderAndFailuresExit1() async throws {
        let s = CLISandbox()
        await s.run(["add", "new", (try await CLIServers.reference()).base + "/mcp"])
        await s.run(["add", "old", (try await CLIServers.handshake()).base + "/mcp"])
        await s.run(["add", "legacy", (try await CLIServers.legacy()).base + "/sse"])
        await s.run(["add", "down", "http://127.0.0.1:9/mcp"])
        await s.run(["add", "off", (try await CLIServers.reference()).base + "/mcp"])
        await s.run(["toggle", "off", "--off"])
        let r = await s.run(["health", "--all", "--json"])
        #expect(r.status == 1)
        let arr = json(r).arrayValue ?? []
        #expect(arr.map { $0["name"]?.stringValue ?? "" } == ["new", "old", "legacy", "down"])
        #expect(arr.map { $0["healthy"]?.boolValue ?? false } == [true, true, true, false])
        try #require(arr.count == 4, "\(arr)")
        #expect(arr[0]["server_name"] == "cli-ref")
        #expect(arr[0]["protocol_version"] == "2026-07-28")
        #expect(arr[1]["protocol_version"]?.stringValue?.hasPrefix("2025-") == true)
        #expect(arr[2]["transport"] == "sse")
        #expect(arr[3]["error"]?.stringValue?.contains("unavailable") == true)
        #expect(
            arr.allSatisfy {
                Set($0.objectValue?.keys ?? []).isSuperset(of: ["id", "name", "healthy", "latency_ms", "error"])
            })
        // One target: its own exit code.
        #expect(await s.run(["health", "down"]).status == 69)
        #expect(await s.run(["health", "off"]).status == 69)
        #expect(await s.run(["health", "new"]).status == 0)
    }

    @Test func refreshReportsToolCountsAndQuietPrintsNothingWhenNothingChanged() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", (try await CLIServers.reference()).base + "/mcp"])
        await s.run(["add", "b", (try await CLIServers.handshake()).base + "/mcp"])
        let first = await s.run(["refresh", "--all"])
        #expect(first.status == 0)
        let lines = first.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].hasPrefix("a: ") && lines[1].hasPrefix("b: "))
        #expect(lines[0].contains(" tools, +add +audio +big +echo"))
        let quiet = await s.run(["refresh", "--all", "--quiet"])
        #expect(quiet.status == 0)
        #expect(quiet.stdout.isEmpty && quiet.stderr.isEmpty)
        #expect(await s.run(["refresh", "--all"]).stdout.contains("a: 10 tools, unchanged"))
        let j = json(await s.run(["refresh", "a", "b", "--json"]))
        #expect(j.arrayValue?.map { $0["ok"] == true } == [true, true])
        #expect((j.arrayValue?.first?["tool_count"]?.intValue ?? 0) >= 10)
        #expect(j.arrayValue?.first?["added"] == [] && j.arrayValue?.first?["changed"] == [])
    }

    @Test func exitCodesForFaultsAndDisabledConnectors() async throws {
        let s = CLISandbox()
        let f = (try await CLIServers.faults()).base
        let cases: [(String, Int32)] = [
            ("/html", 76), ("/malformed", 76), ("/500", 69), ("/401", 77), ("/403", 77), ("/truncated-sse", 76),
        ]
        for (i, (path, code)) in cases.enumerated() {
            await s.run(["add", "f\(i)", f + path])
            let r = await s.run(["verify", "f\(i)", "--timeout", "10"])
            #expect(r.status == code, "\(path): \(r)")
            #expect(r.stderr.hasPrefix("mcpconn: connector 'f\(i)'") && r.stderr.split(separator: "\n").count == 1)
        }
        await s.run(["add", "slow", f + "/slow?seconds=20"])
        #expect(await s.run(["verify", "slow", "--timeout", "1"]).status == 75)
        await s.run(["add", "off", (try await CLIServers.reference()).base + "/mcp"])
        await s.run(["toggle", "off", "--off"])
        let off = await s.run(["call", "off", "echo", "--arg", "text=x"])
        #expect(off.status == 69)
        #expect(off.stderr.contains("disabled"))
        #expect(await s.run(["verify", "nope"]).status == 66)
        #expect(await s.run(["verify", "off", "--timeout", "0"]).status == 64)
    }

    @Test func secretsNeverReachOutputEvenVerbose() async throws {
        let s = CLISandbox()
        let secret = "cli-s3cret-key"
        let add = await s.run(
            [
                "add", "keyed", (try await CLIServers.keyed()).base + "/mcp", "--auth", "api_key", "--key-header",
                "X-Team-Key", "--secret-stdin",
            ],
            stdin: secret + "\n")
        #expect(add.status == 0)
        var outputs = [add]
        outputs.append(await s.run(["verify", "keyed", "--verbose"]))
        #expect(outputs.last?.status == 0)
        #expect(outputs.last?.stderr.contains("X-Team-Key: [redacted]") == true)
        outputs.append(await s.run(["call", "keyed", "echo", "--arg", "text=\(secret)", "--verbose", "--json"]))
        outputs.append(await s.run(["health", "keyed", "--json", "--verbose"]))
        outputs.append(await s.run(["get", "keyed", "--json"]))
        outputs.append(await s.run(["list"]))
        for o in outputs {
            #expect(!o.stderr.contains(secret), "\(o)")
        }
        // The echoed argument is the tool's output, which --json prints as received; only that may hold it.
        #expect(outputs.enumerated().allSatisfy { $0.offset == 2 || !$0.element.stdout.contains(secret) })
        let wrong = await s.run(
            [
                "add", "wrong", (try await CLIServers.keyed()).base + "/mcp", "--auth", "api_key", "--key-header",
                "X-Team-Key", "--secret-env", "K",
            ], env: ["K": "nope-key"])
        #expect(wrong.status == 0)
        let refused = await s.run(["verify", "wrong"])
        #expect(refused.status == 77)
        #expect(!refused.stderr.contains("nope-key"))
        for suffix in ["", "-wal"] {
            if let raw = FileManager.default.contents(atPath: s.databasePath + suffix) {
                #expect(raw.range(of: Data(secret.utf8)) == nil)
            }
        }
    }
}
