import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `mcpconn serve` driven by the official Python SDK client over stdio, in front of HTTP and stdio connectors.
@Suite("CLI: serve over stdio", .serialized, .timeLimit(.minutes(3)))
struct ServeCLITests {
    static let client = TestServer.repoRoot.appendingPathComponent("Tests/Servers/serve_client.py").path
    static let stdioServer = TestServer.repoRoot.appendingPathComponent("Tests/Servers/stdio_server.py").path
    static let faultServer = TestServer.repoRoot.appendingPathComponent("Tests/Servers/stdio_fault_server.py").path

    /// Runs the SDK client against `mcpconn serve serveArgs`: the tool names it listed and each call's outcome.
    static func session(
        _ s: CLISandbox, _ serveArgs: [String], steps: JSONValue = [], mode: String = "auto",
        command: [String]? = nil, options: [String] = [], pause: (() async throws -> Void)? = nil
    ) async throws -> (tools: [String], calls: [JSONValue], stderr: String, listed: JSONValue) {
        // `command` is a client config's entry (export's bridge) instead of `mcpconn serve serveArgs`.
        let r = try await PythonClient.run(
            client,
            ["--pause", s.dir.path, "--mode", mode] + options + ["--"]
                + (command ?? [CLISandbox.binary, "serve"] + serveArgs),
            environment: s.environment, steps: steps, pauseDir: s.dir, pause: pause)
        #expect(r.status == 0, "client exit \(r.status): \(r.stderr)")
        let tools = (r.listed["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
        return (tools, r.lines, r.stderr, r.listed)
    }

    /// `team` (streamable HTTP, an api_key "cli-s3cret-key"), `old` (SDK 1.x, handshake era), `sse` (legacy
    /// HTTP+SSE) and `local` (stdio, SHOWN=ok in its environment).
    static func addOneOfEachKind(_ s: CLISandbox, localPython: String) async throws {
        let keyed = try await CLIServers.keyed()
        await s.run(
            ["add", "team", keyed.base + "/mcp", "--auth", "api_key", "--key-header", "X-Team-Key", "--secret-stdin"],
            stdin: "cli-s3cret-key")
        await s.run(["add", "old", (try await CLIServers.handshake()).base + "/mcp"])
        await s.run(["add", "sse", (try await CLIServers.legacy()).base + "/sse"])
        await s.run(["add", "local", "--env", "SHOWN=ok", "--", localPython, Self.stdioServer])
    }

    @Test func oneConnectorsToolsKeepTheirNames() async throws {
        let s = CLISandbox()
        let marker = "serve-test-" + UUID().uuidString
        await s.run(["add", "local", "--", TestServer.python, Self.stdioServer, "--marker", marker])
        let r = try await Self.session(
            s, ["local"],
            steps: [
                ["call": "echo", "arguments": ["text": "through serve"]],
                ["call": "add", "arguments": ["a": 2, "b": 40]],
            ])
        #expect(Set(r.tools) == ["echo", "add", "env_var", "argv", "notify_then_echo"], "\(r)")
        // The SDK client's default (auto) mode found the 2026-07-28 era through server/discover.
        #expect(r.listed["protocolVersion"] == "2026-07-28", "\(r.listed)")
        #expect(
            r.calls.map { $0["text"] } == ["through serve", "42"] && r.calls.allSatisfy { $0["isError"] == false },
            "\(r)")
        #expect(StdioCLITests.Local.processes(with: marker).isEmpty)
    }

    @Test func severalConnectorsArePrefixedAndRoutedAndNoSecretReachesTheClient() async throws {
        let s = CLISandbox()
        try await Self.addOneOfEachKind(s, localPython: TestServer.python1)
        let r = try await Self.session(
            s, ["--all", "--verbose"],
            steps: [
                ["call": "team__echo", "arguments": ["text": "a"]], ["call": "old__echo", "arguments": ["text": "b"]],
                ["call": "local__env_var", "arguments": ["name": "SHOWN"]],
                ["call": "echo", "arguments": ["text": "c"]],
                ["call": "sse__echo", "arguments": ["text": "d"]],
            ])
        #expect(
            r.tools.contains("team__echo") && r.tools.contains("old__echo") && r.tools.contains("local__env_var"),
            "\(r.tools)")
        #expect(r.tools.contains("sse__echo"), "\(r.tools)")
        #expect(
            r.tools.allSatisfy {
                $0.count <= 128 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
            })
        #expect(
            r.calls.map { $0["text"] } == ["a", "b", "ok", "no tool 'echo' behind mcpconn serve", "d"], "\(r.calls)")
        #expect(r.calls.map { $0["isError"] } == [false, false, false, true, false])
        // Each routed call is logged on stderr; the key appears nowhere the client or the log can see.
        #expect(
            r.stderr.contains("serve: team echo: ok in ") && r.stderr.contains("serve: old echo: ok in "), "\(r.stderr)"
        )
        #expect(
            !r.stderr.contains("cli-s3cret-key") && !r.calls.contains { $0.compactText().contains("cli-s3cret-key") })
    }

    /// A server that echoes the credential it was sent, in a tool's description, a result or an error: the
    /// client of serve sees the redaction mark, never the secret.
    @Test(arguments: ["tools", "text", "iserror", "rpc"])
    func anEchoedSecretNeverReachesTheClient(at: String) async throws {
        let s = CLISandbox()
        let secret = "serve-echoed-s3cret-\(UUID().uuidString)"
        let url = "\((try await CLIServers.faults()).base)/hostile/echo-secret?at=\(at)"
        #expect(await s.run(["add", "e", url, "--auth", "api_key", "--secret-stdin"], stdin: secret).status == 0)
        let r = try await Self.session(s, ["e", "--verbose"], steps: [["call": "echo", "arguments": [:]]])
        let seen = r.listed.compactText() + r.calls.map { $0.compactText() }.joined() + r.stderr
        #expect(!seen.contains(secret), "\(at): \(seen)")
        #expect(seen.contains(Redactor.mark), "\(at): the server did echo it: \(seen)")
    }

    @Test func promptsAndResourcesAreListedAndRouted() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "--", TestServer.python, Self.stdioServer])
        await s.run(["add", "b", "--", TestServer.python1, Self.stdioServer])
        await s.run(["add", "http", (try await CLIServers.reference()).base + "/mcp"])  // offers neither
        let r = try await Self.session(
            s, ["a", "b", "http"],
            steps: [
                ["prompt": "b__greet", "arguments": ["name": "Ada"]], ["read": "memo://notes"],
                ["prompt": "greet", "arguments": ["name": "x"]],
            ])
        #expect(r.listed["prompts"] == ["a__greet", "b__greet"], "\(r.listed)")
        // Both offer the same URI: listed twice, read from the first.
        #expect(r.listed["resources"] == ["memo://notes", "memo://notes"], "\(r.listed)")
        try #require(r.calls.count == 3, "\(r)")
        #expect(r.calls[0]["text"] == "Say hello to Ada." && r.calls[1]["text"] == "remember the milk", "\(r.calls)")
        #expect(r.calls[2]["isError"] == true && r.calls[2]["text"]?.stringValue?.contains("no prompt 'greet'") == true)
        // The same in the handshake era (the SDK client's legacy mode: initialize).
        let one = try await Self.session(
            s, ["b"], steps: [["prompt": "greet", "arguments": ["name": "Bo"]]], mode: "legacy")
        #expect(one.listed["prompts"] == ["greet"] && one.calls.first?["text"] == "Say hello to Bo.", "\(one)")
        #expect(one.listed["protocolVersion"] == "2025-11-25", "\(one.listed)")
    }

    /// The client cancels a slow call: no answer for it, the upstream server is told, the next call goes through.
    @Test func aCancelledRequestIsCancelledUpstream() async throws {
        let s = CLISandbox()
        let (serve, logged) = try await Self.slowCallInFlight(s)
        try serve.send(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": 2]])
        try serve.send([
            "jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": ["name": "echo", "arguments": ["text": "fast"]],
        ])
        #expect(await serve.finish() == 0)
        let answers = serve.output.text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        #expect(answers.map { $0["id"] } == [1, 3], "\(answers)")
        #expect(answers.last?["result"]?["content"]?.arrayValue?.first?["text"] == "fast")
        #expect(logged().contains("notifications/cancelled"), "\(logged())")
    }

    /// serve in front of the fault server's `slow` mode (a call with text "slow" is answered after 30 s), with such
    /// a call (id 2) in flight: returns once the upstream has read it, with the upstream's log of what it read.
    static func slowCallInFlight(_ s: CLISandbox, _ serveArgs: [String] = [], marker: String = "") async throws -> (
        RawServe, @Sendable () -> String
    ) {
        let log = s.dir.appendingPathComponent("upstream.log").path
        let added = await s.run(
            ["add", "slow", "--", TestServer.python, faultServer, "slow", "--log", log]
                + (marker.isEmpty ? [] : [marker]))
        #expect(added.status == 0, "\(added)")
        let serve = try await RawServe(s, ["slow"] + serveArgs)
        try serve.initialize()
        try serve.send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        try serve.send([
            "jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": ["name": "echo", "arguments": ["text": "slow"]],
        ])
        let logged: @Sendable () -> String = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        // The upstream logs each message it reads: once it has the call, the call is in flight.
        #expect(try await eventually { logged().contains("tools/call") })
        return (serve, logged)
    }

    /// Requests queued behind a hung local server end at their own deadline, counted from their arrival: three
    /// calls with `--timeout 8` are all answered (timed out) about 8 s after they were sent, not 8, 16 and 24 s.
    @Test func callsQueuedBehindAHungServerEndAtTheirOwnDeadline() async throws {
        let s = CLISandbox()
        let log = s.dir.appendingPathComponent("upstream.log").path
        await s.run(["add", "slow", "--", TestServer.python, Self.faultServer, "slow", "--log", log])
        let serve = try await RawServe(s, ["slow", "--timeout", "8"])
        try serve.initialize()
        try serve.send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        let sent = ContinuousClock.now
        for id in 2...4 {
            try serve.send([
                "jsonrpc": "2.0", "id": .int(id), "method": "tools/call",
                "params": ["name": "echo", "arguments": ["text": "slow"]],
            ])
        }
        #expect(try await eventually { Set(serve.lines.compactMap { $0["id"] }).isSuperset(of: [2, 3, 4]) })
        let took = ContinuousClock.now - sent
        // A bound, not a speed claim: before, the third answer came after three timeouts (24 s).
        #expect(took < .seconds(16), "\(took)")
        let answers = serve.lines.filter { [2, 3, 4].contains($0["id"]) }
        let texts = answers.map { $0["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? "" }
        #expect(answers.allSatisfy { $0["result"]?["isError"] == true }, "\(serve.output.text)")
        // Each ends as a timeout: while the first holds the server, the others wait for their turn; when its deadline
        // ends its session, the next one may get a new session in the few milliseconds left before its own (under
        // load it does), and then times out waiting for the server instead. Which, is a race the bound above covers.
        #expect(texts.allSatisfy { $0.contains("timed out") }, "\(texts)")
        #expect(await serve.finish() == 0)
    }

    /// When the client closes serve's stdin (the spec's shutdown), a call still in flight is cancelled within half
    /// a second instead of running to its timeout, and the connector's server is ended.
    @Test func closingStdinEndsCallsInFlightAndTheirServers() async throws {
        let marker = "serve-eof-\(UUID().uuidString)"
        let s = CLISandbox()
        let (serve, logged) = try await Self.slowCallInFlight(s, ["--timeout", "60"], marker: marker)
        let closed = ContinuousClock.now
        #expect(await serve.closeInput() == 0)
        let took = ContinuousClock.now - closed
        // The slow answer comes after 30 s: serve did not wait for it (nor for its 60 s timeout).
        #expect(!serve.lines.contains { $0["id"] == 2 }, "\(serve.output.text)")
        #expect(took < .seconds(20), "\(took)")
        #expect(logged().contains("notifications/cancelled"), "\(logged())")
        #expect(StdioCLITests.Local.processes(with: marker).isEmpty)
    }

    /// A connector's progress and log messages about a call reach the client before the answer, the progress under
    /// the client's own token (and nothing of the connector's), over each transport and in both eras upstream.
    @Test(arguments: ["streamable-http", "handshake-http", "legacy-sse", "stdio", "handshake-stdio"])
    func progressAndLogMessagesArePassedThroughBeforeTheAnswer(connector: String) async throws {
        let s = CLISandbox()
        let added = await s.run(["add", "c"] + (try await Self.connector(connector)))
        #expect(added.status == 0, "\(added)")
        let serve = try await RawServe(s, ["c"])
        try serve.initialize()
        try serve.send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        try serve.send(Self.call(2, "notify_then_echo", text: "through", meta: ["progressToken": "tok-1"]))
        #expect(await serve.finish() == 0)
        let lines = serve.lines
        let answer = try #require(lines.firstIndex { $0["id"] == 2 }, "\(lines)")
        #expect(lines[answer]["result"]?["content"]?.arrayValue?.first?["text"] == "through", "\(lines)")
        let progress = lines.firstIndex { $0["method"] == "notifications/progress" }
        let log = lines.firstIndex { $0["method"] == "notifications/message" }
        #expect(progress.map { $0 < answer } == true && log.map { $0 < answer } == true, "\(lines)")
        let relayed = progress.flatMap { lines[$0]["params"]?.objectValue }
        #expect(relayed?.keys == ["progressToken", "progress", "total"] && relayed?["progressToken"] == "tok-1")
        #expect(relayed?["progress"]?.doubleValue == 1 && relayed?["total"]?.doubleValue == 2, "\(lines)")
        #expect(log.flatMap { lines[$0]["params"] } == ["level": "info", "data": "working on it"], "\(lines)")
    }

    /// A 2026-07-28 client (no initialize: each request carries its envelope) gets log messages only for a request
    /// that asks for them (`io.modelcontextprotocol/logLevel`), and its integer progressToken back as it is.
    @Test func aModernClientGetsLogMessagesOnlyWhenItsRequestAsks() async throws {
        let s = CLISandbox()
        await s.run(["add", "c", "--", TestServer.python, Self.stdioServer])
        let serve = try await RawServe(s, ["c"])
        let envelope: JSONObject = [
            "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": [:],
            "io.modelcontextprotocol/clientInfo": ["name": "t", "version": "0"],
        ]
        var meta = envelope
        meta["progressToken"] = 7
        try serve.send(Self.call(1, "notify_then_echo", text: "quiet", meta: meta))
        #expect(try await eventually { serve.lines.contains { $0["id"] == 1 } })
        meta["progressToken"] = 8
        meta["io.modelcontextprotocol/logLevel"] = "info"
        try serve.send(Self.call(2, "notify_then_echo", text: "told", meta: meta))
        #expect(await serve.finish() == 0)
        let shape = serve.lines.map { $0["method"]?.stringValue ?? "answer \($0["id"]?.compactText() ?? "")" }
        #expect(
            shape == [
                "notifications/progress", "answer 1", "notifications/message", "notifications/progress", "answer 2",
            ], "\(serve.output.text)")
        let tokens = serve.lines.compactMap { $0["params"]?["progressToken"] }
        #expect(tokens == [7, 8], "\(serve.output.text)")
        #expect(serve.lines.last?["result"]?["resultType"] == "complete")
    }

    /// A connector that answers a call with 2026-07-28's `input_required` has not run the tool. A 2026-07-28 client
    /// gets it as it came (its retry carries the answers and the connector's `requestState` back up); a
    /// handshake-era client that declared nothing to answer it with gets a tool error that names what the connector
    /// asked for, never what would look like an empty success.
    @Test func aCallThatAsksForInputPassesToAModernClientAndIsAToolErrorForAnOldOne() async throws {
        let s = CLISandbox()
        await s.run(["add", "ask", (try await CLIServers.asking()).base + "/mcp"])
        let serve = try await RawServe(s, ["ask"])
        try serve.initialize()
        let envelope: JSONObject = [
            "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": [:],
        ]
        for (id, meta) in [(2, JSONObject()), (3, envelope)] {
            try serve.send([
                "jsonrpc": "2.0", "id": .int(id), "method": "tools/call",
                "params": ["name": "ask", "arguments": ["message": "Proceed?"], "_meta": .object(meta)],
            ])
        }
        #expect(await serve.finish() == 0)  // after answering every request it read
        let old = serve.lines.first { $0["id"] == 2 }?["result"]
        let text = old?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(
            old?["isError"] == true && old?["inputRequests"] == nil && old?["resultType"] == nil, "\(serve.output.text)"
        )
        #expect(
            text.contains(#"asked for input"#) && text.contains(#"elicitation "Proceed?", sampling, roots"#), "\(text)")
        let modern = serve.lines.first { $0["id"] == 3 }?["result"]
        #expect(modern?["resultType"] == "input_required" && modern?["isError"] == nil, "\(serve.output.text)")
        let asked = modern?["inputRequests"]?.objectValue ?? [:]
        #expect(asked.count == 3 && modern?["requestState"]?.stringValue?.isEmpty == false, "\(serve.output.text)")
    }

    /// JSON-RPC 2.0's rules for what is not a request: an id that is neither a string nor an integer (an object, an
    /// array, a boolean, a fraction, an exponent) and an empty batch each get one Invalid Request object with id
    /// null, never an answer as to a request or an array; the valid requests around them are served.
    @Test func invalidIDsAndAnEmptyBatchAreInvalidRequests() async throws {
        let s = CLISandbox()
        await s.run(["add", "c", "--", TestServer.python, Self.stdioServer])
        let serve = try await RawServe(s, ["c"])
        for id: JSONValue in [[:], [1], true, .number("1.5"), .number("1e2")] {
            try serve.send(["jsonrpc": "2.0", "id": id, "method": "ping"])
        }
        try serve.send([])
        try serve.send(["jsonrpc": "2.0", "id": "s", "method": "ping"])
        try serve.send(["jsonrpc": "2.0", "id": -7, "method": "ping"])
        #expect(await serve.finish() == 0)
        let lines = serve.lines
        let invalid = lines.filter { $0["error"]?["code"] == .int(JSONRPCError.invalidRequest) }
        #expect(lines.count == 8 && lines.allSatisfy { $0.objectValue != nil }, "\(serve.output.text)")
        #expect(invalid.count == 6 && invalid.allSatisfy { $0["id"] == JSONValue.null }, "\(serve.output.text)")
        #expect(Set(lines.filter { $0["result"] != nil }.compactMap { $0["id"] }) == ["s", -7], "\(serve.output.text)")
    }

    /// Issue 31: with several connectors, a URI no connector lists is read through the connector whose resource
    /// template it fits (RFC 6570); a URI one lists goes to it, whatever template also fits; completion of a
    /// template's variable goes to the connector that lists the template.
    @Test func aResourceOfATemplateIsReadThroughItsConnector() async throws {
        let s = CLISandbox()
        await s.run(["add", "fm", "--", TestServer.python, Self.stdioServer, "--surface"])
        await s.run(["add", "memos", "--", TestServer.python, Self.stdioServer, "--memo-template"])
        let serve = try await RawServe(s, ["--all"])
        try serve.initialize()
        for (id, uri) in [(2, "greet://ann"), (3, "memo://xyz"), (4, "memo://control"), (5, "nothing://x")] {
            try serve.send(Self.read(id, uri))
        }
        try serve.send(Self.completion(6, "greet://{name}"))
        #expect(await serve.finish() == 0)
        let answers = Self.answers(serve)
        #expect(Self.text(answers[2]) == "Hello, ann!", "\(serve.output.text)")
        #expect(Self.text(answers[3]) == "memo xyz, from the template", "\(serve.output.text)")
        #expect(Self.text(answers[4])?.hasSuffix(" after") == true, "\(serve.output.text)")  // surface.py's own
        #expect(answers[5]?["error"]?["code"] == .int(JSONRPCError.invalidParams), "\(serve.output.text)")
        #expect(answers[5]?["error"]?["message"] == "no resource 'nothing://x' behind mcpconn serve")
        #expect(answers[6]?["result"]?["completion"]?["values"] == ["bea", "bob"], "\(serve.output.text)")
    }

    /// Issue 31: a URI that fits two connectors' templates, or a template two connectors list, is refused with
    /// -32602 naming both connectors (a guess could read the wrong one's resource); a URI both list is read.
    @Test func aURIThatFitsTwoConnectorsTemplatesIsRefused() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "--", TestServer.python, Self.stdioServer, "--surface"])
        await s.run(["add", "b", "--", TestServer.python1, Self.stdioServer, "--surface"])
        let serve = try await RawServe(s, ["--all"])
        try serve.initialize()
        try serve.send(Self.read(2, "greet://ann"))
        try serve.send(Self.completion(3, "greet://{name}"))
        try serve.send(Self.read(4, "memo://notes"))
        #expect(await serve.finish() == 0)
        let answers = Self.answers(serve)
        for id in [2, 3] {
            let error = answers[id]?["error"]
            #expect(error?["code"] == .int(JSONRPCError.invalidParams), "\(serve.output.text)")
            #expect(error?["message"]?.stringValue?.contains("connectors 'a' and 'b'") == true, "\(serve.output.text)")
        }
        #expect(Self.text(answers[4]) == "remember the milk", "\(serve.output.text)")
    }

    static func read(_ id: Int, _ uri: String) -> JSONValue {
        ["jsonrpc": "2.0", "id": .int(id), "method": "resources/read", "params": ["uri": .string(uri)]]
    }

    static func completion(_ id: Int, _ template: String) -> JSONValue {
        [
            "jsonrpc": "2.0", "id": .int(id), "method": "completion/complete",
            "params": [
                "ref": ["type": "ref/resource", "uri": .string(template)], "argument": ["name": "name", "value": "b"],
            ],
        ]
    }

    /// Serve's answers by their integer ids.
    static func answers(_ serve: RawServe) -> [Int: JSONValue] {
        Dictionary(serve.lines.compactMap { line in line["id"]?.intValue.map { (Int($0), line) } }) { a, _ in a }
    }

    /// The text of a read's first content.
    static func text(_ answer: JSONValue?) -> String? {
        answer?["result"]?["contents"]?.arrayValue?.first?["text"]?.stringValue
    }

    /// The connector behind a test of notifications: `add`'s arguments after the name.
    static func connector(_ kind: String) async throws -> [String] {
        switch kind {
        case "streamable-http": return [(try await CLIServers.reference()).base + "/mcp"]
        case "handshake-http": return [(try await CLIServers.handshake()).base + "/mcp"]
        case "legacy-sse": return [(try await CLIServers.legacy()).base + "/sse"]
        case "stdio": return ["--", TestServer.python, stdioServer]
        default: return ["--", TestServer.python1, stdioServer]
        }
    }

    static func call(_ id: Int, _ tool: String, text: String, meta: JSONObject) -> JSONValue {
        [
            "jsonrpc": "2.0", "id": .int(id), "method": "tools/call",
            "params": ["name": .string(tool), "arguments": ["text": .string(text)], "_meta": .object(meta)],
        ]
    }

    /// A `refresh` in another process that finds new tools makes serve tell its client the list changed.
    @Test func aRefreshThatChangesToolsIsAnnounced() async throws {
        let s = CLISandbox()
        let tools = try await ChangingTools(s)
        let serve = try await RawServe(s, ["t"])
        try serve.initialize()
        #expect(try await eventually { serve.output.text.contains("\"listChanged\":true") })
        try serve.send(["jsonrpc": "2.0", "id": 2, "method": "tools/list"])
        #expect(try await eventually { serve.output.text.contains("\"id\":2") })
        try await tools.addAToolAndRefresh()
        #expect(
            try await eventually { serve.output.text.contains("notifications/tools/list_changed") },
            "\(serve.output.text)")
        #expect(await serve.finish() == 0)
    }

    @Test func aBrokenUpstreamLeavesTheOthersAndOneThatDiesMidSessionIsReopened() async throws {
        let s = CLISandbox()
        let dying = await DyingUpstream(s)
        let r = try await Self.session(s, ["broken", "flaky"], steps: DyingUpstream.steps, pause: dying.kill)
        try dying.check(tools: r.listed["tools"], calls: r.calls)
        #expect(StdioCLITests.Local.processes(with: dying.marker).isEmpty)
    }
}

/// A local connector `t`, verified, whose server lists the tools named in a file, for the tests of a refresh
/// that changes them while serve runs.
struct ChangingTools {
    let sandbox: CLISandbox
    let file: URL

    init(_ s: CLISandbox) async throws {
        sandbox = s
        file = s.dir.appendingPathComponent("tools.txt")
        try "echo\n".write(to: file, atomically: true, encoding: .utf8)
        await s.run(["add", "t", "--", TestServer.python, ServeCLITests.faultServer, "normal", "--tools", file.path])
        #expect(await s.run(["verify", "t"]).status == 0)
    }

    /// The server gets a tool more, and a `refresh` in another process finds it.
    func addAToolAndRefresh() async throws {
        try "echo\nnew_tool\n".write(to: file, atomically: true, encoding: .utf8)
        let refresh = await sandbox.run(["refresh", "t"])
        #expect(refresh.status == 0 && refresh.stdout.contains("new_tool"), "\(refresh)")
    }
}

/// Two local connectors for the tests of an upstream failing: `broken` exits at once, `flaky` serves until the
/// test kills it between two calls of the client's session (the `pause` step).
struct DyingUpstream {
    let marker = "serve-test-" + UUID().uuidString
    let pidfile: String

    init(_ s: CLISandbox) async {
        pidfile = s.dir.appendingPathComponent("upstream.pid").path
        let server = ServeCLITests.faultServer
        await s.run(["add", "broken", "--", TestServer.python, server, "exit-at-once", "--marker", marker])
        await s.run([
            "add", "flaky", "--", TestServer.python, server, "normal", "--pidfile", pidfile, "--marker", marker,
        ])
    }

    static let steps: JSONValue = [
        ["call": "flaky__echo", "arguments": ["text": "one"]], ["pause": true],
        ["call": "flaky__echo", "arguments": ["text": "two"]], ["call": "flaky__echo", "arguments": ["text": "three"]],
    ]

    @Sendable func kill() throws {
        let pid = try #require(pid_t(try String(contentsOfFile: pidfile, encoding: .utf8)))
        Glibc.kill(pid, SIGKILL)
    }

    /// The broken one is left out and the other served; the call that found the upstream dead is a tool error
    /// with the CLI's one-line text, and the next one reopened it.
    func check(tools: JSONValue?, calls: [JSONValue]) throws {
        #expect(tools == ["flaky__echo"], "\(String(describing: tools))")
        try #require(calls.count == 3, "\(calls)")
        #expect(calls[0]["text"] == "one" && calls[2]["text"] == "three", "\(calls)")
        #expect(
            calls[1]["isError"] == true && calls[1]["text"]?.stringValue?.hasPrefix("connector 'flaky': ") == true,
            "\(calls)")
    }
}

/// Request ids, shared by copies of a `RawServe`.
final class Expected: @unchecked Sendable {
    // Safe to share: `set` is touched only under `lock`.
    private let lock = NSLock()
    private var set: Set<JSONValue> = []
    func add(_ id: JSONValue) { _ = lock.withLock { set.insert(id) } }
    func remove(_ id: JSONValue) { _ = lock.withLock { set.remove(id) } }
    var ids: Set<JSONValue> { lock.withLock { set } }
}

/// Output gathered as it arrives.
final class Collected: @unchecked Sendable {
    // Safe to share: `data` is touched only under `lock`.
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.withLock { data.append(d) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// `mcpconn serve` driven line by line, for what the SDK client does not do on demand (cancel at a chosen
/// moment, wait for a notification).
struct RawServe {
    let process: Process
    let input: Pipe
    let output = Collected()
    /// The ids of the requests sent and not cancelled, which `finish` waits to see answered.
    private let expected = Expected()
    let watch: ExitWatch
    private let pipe: Pipe
    private let drain: PipeDrain

    init(_ s: CLISandbox, _ args: [String]) async throws {
        input = await Pipe.closeOnExec()
        pipe = await Pipe.closeOnExec()
        process = Process()
        process.executableURL = URL(fileURLWithPath: CLISandbox.binary)
        process.arguments = ["serve"] + args
        process.environment = s.environment
        process.standardInput = input
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let collected = output
        drain = PipeDrain(pipe.fileHandleForReading) { collected.append($0) }
        watch = ExitWatch(process)
        try await process.runOffPool()
    }

    func send(_ v: JSONValue) throws {
        // Only a valid id (a string or an integer) gets an answer that carries it.
        if let id = v["id"], v["method"] != nil, id.stringValue != nil || Int(id.compactText()) != nil {
            expected.add(id)
        }
        if v["method"] == "notifications/cancelled", let id = v["params"]?["requestId"] { expected.remove(id) }
        try input.fileHandleForWriting.write(contentsOf: Data((v.compactText() + "\n").utf8))
    }

    func initialize() throws {
        try send([
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": [
                "protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": "t", "version": "0"],
            ],
        ])
    }

    /// The lines written so far, parsed.
    var lines: [JSONValue] { output.text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) } }

    /// Waits for the answers to the requests sent (closing stdin is serve's shutdown: what is still in flight then
    /// is cancelled), closes serve's stdin and waits for it to exit; all of its output is then in `output`.
    func finish() async -> Int32 {
        let ids = expected.ids
        _ = try? await eventually {
            Set(lines.compactMap { $0["result"] ?? $0["error"] != nil ? $0["id"] : nil }).isSuperset(of: ids)
        }
        return await closeInput()
    }

    /// Closes serve's stdin at once and waits for it to exit.
    func closeInput() async -> Int32 {
        try? input.fileHandleForWriting.close()
        let status = await watch.wait()
        await drain.finished()
        return status
    }
}
