import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `mcpconn serve --http`: the official Python SDK client over streamable HTTP in both eras, the bearer token
/// and Origin rules checked with raw requests (curl), the session rules, and the end on SIGTERM.
@Suite("CLI: serve over HTTP", .serialized, .timeLimit(.minutes(3)))
struct ServeHTTPCLITests {
    /// The SDK client against the running server (or at `url`, a proxy in front of it, with the client's
    /// `options` and extra `environment`): what it listed, and each step's outcome.
    /// A `pause` step runs `pause` (then the client goes on).
    static func client(
        _ serve: HTTPServe, steps: JSONValue = [], mode: String = "auto", token: String? = nil,
        url: String? = nil, options: [String] = [], environment: [String: String] = [:],
        pause: (() async throws -> Void)? = nil
    ) async throws -> (listed: JSONValue, calls: [JSONValue], status: Int32, stderr: String) {
        let dir = serve.sandbox.dir
        let r = try await PythonClient.run(
            ServeCLITests.client, ["--mode", mode, "--pause", dir.path] + options + ["--url", url ?? serve.url],
            environment: serve.sandbox.environment.merging(["SERVE_TOKEN": token ?? serve.token]) { $1 }
                .merging(environment) { $1 },
            steps: steps, pauseDir: dir, pause: pause)
        return (r.listed, r.lines, r.status, r.stderr)
    }

    @Test func theSDKClientReachesEveryKindOfConnectorInBothEras() async throws {
        let s = CLISandbox()
        try await ServeCLITests.addOneOfEachKind(s, localPython: TestServer.python)
        let serve = try await HTTPServe(s, ["--all", "--verbose"])
        let steps: JSONValue = [
            ["call": "team__echo", "arguments": ["text": "a"]], ["call": "old__echo", "arguments": ["text": "b"]],
            ["call": "sse__echo", "arguments": ["text": "c"]],
            ["call": "local__env_var", "arguments": ["name": "SHOWN"]],
            ["prompt": "local__greet", "arguments": ["name": "Ada"]], ["read": "memo://notes"],
        ]
        for (mode, version) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
            let r = try await Self.client(serve, steps: steps, mode: mode)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.listed["protocolVersion"]?.stringValue == version, "\(r.listed)")
            let tools = (r.listed["tools"]?.arrayValue ?? []).compactMap(\.stringValue)
            #expect(["team__echo", "old__echo", "sse__echo", "local__env_var"].allSatisfy(tools.contains), "\(tools)")
            #expect(
                r.calls.map { $0["text"] } == ["a", "b", "c", "ok", "Say hello to Ada.", "remember the milk"],
                "\(r.calls)")
            #expect(!r.calls.contains { $0.compactText().contains("cli-s3cret-key") })
        }
        // The routed calls are logged; the key, and the token, are nowhere in the log.
        let log = serve.stderr
        #expect(log.contains("serve: team echo: ok in ") && log.contains("serve: sse echo: ok in "), "\(log)")
        #expect(!log.contains("cli-s3cret-key"))
        #expect(log.components(separatedBy: serve.token).count == 2, "the generated token is printed once")
        await serve.stopCleanly()
    }

    @Test func aMissingOrWrongTokenIs401AndAnotherOriginIs403() async throws {
        let s = CLISandbox()
        await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer])
        let serve = try await HTTPServe(s, ["local"])
        let initialize = HTTPServe.initialize("2025-06-18")
        #expect(try await serve.post(initialize, token: nil).status == 401)
        let wrong = try await serve.post(initialize, token: String(repeating: "x", count: 43))
        #expect(wrong.status == 401 && wrong.headers.lowercased().contains("www-authenticate: bearer"), "\(wrong)")
        #expect(try await serve.post(initialize, headers: ["Origin": "http://evil.example"]).status == 403)
        #expect(try await serve.post(initialize, headers: ["Origin": "null"]).status == 403)
        #expect(try await serve.post(initialize, headers: ["Origin": "http://localhost:5173"]).status == 200)
        // The SDK client with a wrong token fails, and says so.
        let refused = try await Self.client(serve, token: "not-the-token-at-all")
        #expect(refused.status != 0 && refused.stderr.contains("Bearer token is required"), "\(refused.stderr)")
        await serve.stopCleanly(signal: SIGINT)
    }

    @Test func sessionsPathsMethodsAndLimitsFollowTheTransportRules() async throws {
        let s = CLISandbox()
        await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer])
        let serve = try await HTTPServe(s, ["local", "--max-response-mb", "1"])
        let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#
        let start = try await serve.post(HTTPServe.initialize("2025-06-18"))
        let session = try #require(start.header("mcp-session-id"), "\(start)")
        #expect(try await serve.post(list).status == 400)  // no session id
        #expect(try await serve.post(list, headers: ["Mcp-Session-Id": "unknown"]).status == 404)
        let listed = try await serve.post(list, headers: ["Mcp-Session-Id": session])
        #expect(listed.status == 200 && listed.body.contains("\"echo\""), "\(listed)")
        // A handshake-era client gets no 2026-07-28 fields, though the connector (SDK 2.3) speaks that era.
        let called = try await serve.post(
            #"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}"#,
            headers: ["Mcp-Session-Id": session])
        #expect(
            called.body.contains("\"x\"") && !called.body.contains("resultType") && !called.body.contains("serverInfo"),
            "\(called)")
        #expect(
            try await serve.post(
                #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, headers: ["Mcp-Session-Id": session]
            ).status == 202)
        #expect(try await serve.post("{not json", headers: ["Mcp-Session-Id": session]).status == 400)
        #expect(
            try await serve.post(list, headers: ["Mcp-Session-Id": session, "Content-Type": "text/plain"]).status == 415
        )
        #expect(try await serve.post(list, path: "/other").status == 404)
        #expect(try await serve.request("PUT", body: list).status == 405)
        let big =
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":{\"pad\":\""
            + String(repeating: "x", count: 1_100_000) + "\"}}"
        #expect(try await serve.post(big, headers: ["Mcp-Session-Id": session]).status == 413)
        // A 2026-07-28 request needs no session, and its routing headers must agree with its body.
        let (call, modern) = HTTPServe.modernCall("echo", #"{"text":"hi"}"#)
        let answered = try await serve.post(call, headers: modern)
        #expect(answered.status == 200 && answered.body.contains("\"resultType\":\"complete\""), "\(answered)")
        // The server the client talks to is mcpconn, not the connector's server.
        #expect(
            answered.body.contains(#"serverInfo":{"name":"mcpconn""#) && !answered.body.contains("stdio-reference"),
            "\(answered)")
        let mismatch = try await serve.post(call, headers: modern.merging(["Mcp-Name": "add"]) { $1 })
        #expect(mismatch.status == 400 && mismatch.body.contains("-32020"), "\(mismatch)")
        // DELETE ends the session.
        #expect(try await serve.request("DELETE", headers: ["Mcp-Session-Id": session]).status == 200)
        #expect(try await serve.post(list, headers: ["Mcp-Session-Id": session]).status == 404)
        await serve.stopCleanly()
    }

    /// A 2026-07-28 client cancels by closing the connection: the upstream request is cancelled (and the
    /// upstream told), and serve goes on.
    /// The JSON-RPC rules for what is not a request, over HTTP in both eras: an id that is neither a string nor an
    /// integer gets Invalid Request with id null (alone or in a batch, whose valid requests are answered), and an
    /// empty batch one Invalid Request object, not an array.
    @Test func invalidIDsAndAnEmptyBatchAreInvalidRequests() async throws {
        let s = CLISandbox()
        await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer])
        let serve = try await HTTPServe(s, ["local"])
        let start = try await serve.post(HTTPServe.initialize("2025-06-18"))
        let session = ["Mcp-Session-Id": try #require(start.header("mcp-session-id"), "\(start)")]
        let meta =
            #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
        let modern = ["MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "ping"]
        func isInvalid(_ r: HTTPServe.Reply) -> Bool {
            let answer = try? JSONValue.parse(r.body)
            return answer?["error"]?["code"] == .int(JSONRPCError.invalidRequest) && answer?["id"] == JSONValue.null
        }
        for id in ["{}", "[1]", "true", "1.5", "1e2"] {
            let old = try await serve.post(#"{"jsonrpc":"2.0","id":\#(id),"method":"ping"}"#, headers: session)
            #expect(isInvalid(old), "\(id): \(old)")
            let new = try await serve.post(
                #"{"jsonrpc":"2.0","id":\#(id),"method":"ping","params":{"_meta":\#(meta)}}"#, headers: modern)
            #expect(new.status == 400 && isInvalid(new), "\(id): \(new)")
        }
        let batch = try await serve.post(
            #"[{"jsonrpc":"2.0","id":{},"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#, headers: session)
        let answers = (try? JSONValue.parse(batch.body))?.arrayValue ?? []
        #expect(answers.count == 2, "\(batch)")
        #expect(answers.first?["id"] == JSONValue.null && answers.last?["id"] == 2 && answers.last?["result"] != nil)
        for headers in [session, [:]] {
            let empty = try await serve.post("[]", headers: headers)
            #expect(empty.status == 400 && isInvalid(empty) && empty.body.hasPrefix("{"), "\(empty)")
        }
        let valid = try await serve.post(#"{"jsonrpc":"2.0","id":"s","method":"ping"}"#, headers: session)
        #expect((try? JSONValue.parse(valid.body))?["id"] == "s", "\(valid)")
        await serve.stopCleanly()
    }

    @Test func aClosedConnectionCancelsItsUpstreamRequest() async throws {
        let s = CLISandbox()
        let log = s.dir.appendingPathComponent("upstream.log").path
        await s.run(["add", "slow", "--", TestServer.python, ServeCLITests.faultServer, "slow", "--log", log])
        let serve = try await HTTPServe(s, ["slow"])
        let (p, watch) = try await serve.startModernCall("echo", #"{"text":"slow"}"#)
        func logged() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(try await eventually { logged().contains("tools/call") })
        kill(p.processIdentifier, SIGKILL)  // the client gives up: its connection closes
        _ = await watch.wait()
        #expect(try await eventually { logged().contains("notifications/cancelled") }, "\(logged())")
        let fast = HTTPServe.modernCall("echo", #"{"text":"fast"}"#)
        let next = try await serve.post(fast.body, headers: fast.headers)
        #expect(next.status == 200 && next.body.contains("fast"), "\(next)")
        await serve.stopCleanly()
    }

    /// A slow call to a remote connector does not hold up another client's call to it (a second session).
    @Test func aSlowCallDoesNotHoldUpAnotherToTheSameConnector() async throws {
        let s = CLISandbox()
        await s.run(["add", "ref", (try await CLIServers.reference()).base + "/mcp"])
        let serve = try await HTTPServe(s, ["ref"])
        let (p, watch) = try await serve.startModernCall("slow", #"{"seconds":30}"#)
        let r = try await Self.client(serve, steps: [["call": "echo", "arguments": ["text": "not held up"]]])
        #expect(r.calls.first?["text"] == "not held up", "\(r)")
        #expect(p.isRunning, "the slow call is still under way")
        kill(p.processIdentifier, SIGKILL)
        _ = await watch.wait()
        await serve.stopCleanly()
    }

    /// A connector's progress and log messages about a call reach the HTTP client as events of the call's own
    /// stream, before the answer; a client that accepts only JSON gets the answer alone.
    @Test func progressAndLogMessagesAreEventsBeforeTheAnswer() async throws {
        let s = CLISandbox()
        await s.run(["add", "ref", (try await CLIServers.reference()).base + "/mcp"])
        let serve = try await HTTPServe(s, ["ref"])
        let (body, headers) = HTTPServe.modernCall(
            "notify_then_echo", #"{"text":"done"}"#,
            meta: #","progressToken":"tok-1","io.modelcontextprotocol/logLevel":"info""#)
        let streamed = try await serve.post(body, headers: headers)
        #expect(streamed.status == 200 && streamed.header("content-type") == "text/event-stream", "\(streamed)")
        let events = streamed.body.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }
            .compactMap { try? JSONValue.parse(String($0.dropFirst(6))) }
        try #require(events.count == 3, "\(streamed)")
        #expect(
            events[0]["method"] == "notifications/message" && events[0]["params"]?["data"] == "working on it",
            "\(events)")
        #expect(
            events[1]["method"] == "notifications/progress" && events[1]["params"]?["progressToken"] == "tok-1",
            "\(events)")
        #expect(events[2]["result"]?["content"]?.arrayValue?.first?["text"] == "done", "\(events)")
        let plain = try await serve.post(body, headers: headers.merging(["Accept": "application/json"]) { $1 })
        #expect(plain.header("content-type") == "application/json" && plain.body.contains("\"done\""), "\(plain)")
        await serve.stopCleanly()
    }

    @Test func aRefreshThatChangesToolsReachesTheEventStream() async throws {
        let s = CLISandbox()
        let tools = try await ChangingTools(s)
        let serve = try await HTTPServe(s, ["t"])
        let start = try await serve.post(HTTPServe.initialize("2025-11-25"))
        let session = try #require(start.header("mcp-session-id"), "\(start)")
        let stream = try await serve.listen(session: session)
        #expect(try await eventually { stream.text.contains("200 OK") }, "\(stream.text)")
        try await tools.addAToolAndRefresh()
        #expect(try await eventually { stream.text.contains("notifications/tools/list_changed") }, "\(stream.text)")
        kill(stream.process.processIdentifier, SIGKILL)
        await serve.stopCleanly()
    }

    /// SIGTERM ends serve with 0 after closing its upstream sessions: no local server outlives it.
    @Test func sigtermClosesTheUpstreamSessionsAndAnUpstreamThatDiesIsReopened() async throws {
        let s = CLISandbox()
        let dying = await DyingUpstream(s)
        let serve = try await HTTPServe(s, ["broken", "flaky"])
        let r = try await Self.client(serve, steps: DyingUpstream.steps, pause: dying.kill)
        try dying.check(tools: r.listed["tools"], calls: r.calls)
        #expect(!StdioCLITests.Local.processes(with: dying.marker).isEmpty)
        await serve.stopCleanly()
        #expect(StdioCLITests.Local.processes(with: dying.marker).isEmpty)
    }

    /// Issue 29, item 6: `kill -9` of `serve --http` (the mcpconn-serve-http process) with a session open to a
    /// local server that ignores EOF and SIGTERM: the server and the daemon it started (outside its process
    /// group, its parent gone) are ended by the reaper that runs the server all the same.
    @Test func killingServeWithSIGKILLStillEndsItsLocalServersAndTheirDaemons() async throws {
        let s = CLISandbox()
        let pidfile = s.dir.appendingPathComponent("server.pid").path
        let daemonfile = s.dir.appendingPathComponent("daemon.pid").path
        let marker = "mcpconn-test-" + UUID().uuidString
        await s.run([
            "add", "stubborn", "--", TestServer.python, ServeCLITests.faultServer, "ignore-term", "--pidfile", pidfile,
            "--daemon", daemonfile, "--marker", marker,
        ])
        let serve = try await HTTPServe(s, ["stubborn"])
        let call = HTTPServe.modernCall("echo", #"{"text":"up"}"#)
        let answered = try await serve.post(call.body, headers: call.headers)
        #expect(answered.status == 200 && answered.body.contains("up"), "\(answered)")
        let server = try #require(pid_t(try String(contentsOfFile: pidfile, encoding: .utf8)))
        let daemon = try #require(pid_t(try String(contentsOfFile: daemonfile, encoding: .utf8)))
        kill(serve.process.processIdentifier, SIGKILL)
        #expect(await serve.watch.wait() == 128 + SIGKILL)
        #expect(try await eventually(within: 60) { StdioCLITests.Local.hasEnded(server) }, "server \(server)")
        #expect(try await eventually(within: 60) { StdioCLITests.Local.hasEnded(daemon) }, "daemon \(daemon)")
        #expect(try await eventually(within: 60) { StdioCLITests.Local.processes(with: marker).isEmpty })
    }

    /// Issue 29: a request naming a host other than loopback, the listening address or an `--allowed-host` name
    /// (what a DNS-rebinding page sends) is 421, with the token or without.
    @Test func aRequestNamingAnotherHostIs421() async throws {
        let s = CLISandbox()
        await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer])
        let bad = await s.run(["serve", "local", "--http", "127.0.0.1:0", "--allowed-host", "mcp.example.test:80"])
        #expect(bad.status == 64 && bad.stderr.contains("--allowed-host"), "\(bad)")
        #expect(await s.run(["serve", "local", "--allowed-host", "mcp.example.test"]).status == 64)
        let serve = try await HTTPServe(s, ["local", "--allowed-host", "mcp.example.test"])
        let port = try #require(URLComponents(string: serve.url)?.port)
        let initialize = HTTPServe.initialize("2025-06-18")
        for host in ["evil.example:\(port)", "localhost.evil.example:\(port)", "mcp.example.test.evil.example"] {
            let refused = try await serve.post(initialize, headers: ["Host": host])
            #expect(refused.status == 421 && refused.body.contains("does not answer for the host"), "\(refused)")
            #expect(try await serve.post(initialize, token: .none, headers: ["Host": host]).status == 421)
        }
        for host in ["127.0.0.1:\(port)", "localhost:\(port)", "mcp.example.test:\(port)", "localhost"] {
            let served = try await serve.post(initialize, headers: ["Host": host])
            #expect(served.status == 200 && served.header("mcp-session-id") != nil, "\(host): \(served)")
        }
        await serve.stopCleanly()
    }

    /// Issue 29: connections that never send a request head (600, more than the 512 allowed in all) cannot
    /// lock out the token's holder: unauthenticated connections have a pool of their own (the oldest closed to
    /// make room) and a few seconds to send their head, and an authenticated connection is kept through it all.
    @Test func aFloodOfIdleConnectionsDoesNotLockOutTheTokensHolder() async throws {
        try RawConnection.raiseDescriptorLimit(to: 2048)
        let s = CLISandbox()
        await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer])
        let serve = try await HTTPServe(s, ["local"])
        let port = try #require(URLComponents(string: serve.url)?.port)
        let initialize = RawConnection.post(HTTPServe.initialize("2025-06-18"), token: serve.token)
        // The holder's keep-alive connection, authenticated before the flood.
        let kept = try await offPool { try RawConnection(port: port) }
        #expect(try await offPool { try kept.exchange(initialize) }.status == 200)
        // Half the flood sends nothing, half a head that never ends.
        let flood = try await offPool {
            try (0..<600).map { i in
                let c = try RawConnection(port: port)
                if i.isMultiple(of: 2) { try c.send("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n") }
                return c
            }
        }
        let floodOpen = ContinuousClock.now
        let answered = try await serve.post(HTTPServe.initialize("2025-06-18"))
        let took = ContinuousClock.now - floodOpen
        #expect(answered.status == 200 && answered.header("mcp-session-id") != nil, "\(answered)")
        let closedAtOnce = flood.filter(\.isClosedByPeer).count
        // The rest are closed by the deadline for a head, long before the 60 s idle timeout.
        #expect(try await eventually(within: 30) { flood.allSatisfy(\.isClosedByPeer) })
        let allClosed = ContinuousClock.now - floodOpen
        // The holder's own connection outlived the flood and the deadline.
        #expect(try await offPool { try kept.exchange(initialize) }.status == 200)
        print(
            "serve flood: token holder's request answered in \(took), \(closedAtOnce) of 600 flood connections "
                + "closed at once, \(600 - closedAtOnce) by the head deadline, the last after \(allClosed)")
        await serve.stopCleanly()
    }

    /// Issue 31: `--no-token` (for clients that cannot send a header) serves requests without the token, on a
    /// loopback address only, says so on stderr, and still refuses another Host (421) and another Origin (403).
    @Test func noTokenIsLoopbackOnlyAndStillChecksHostAndOrigin() async throws {
        let s = CLISandbox()
        await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer])
        let remote = await s.run(["serve", "local", "--http", "0.0.0.0:0", "--allow-remote", "--no-token"])
        #expect(remote.status == 64 && remote.stderr.contains("--no-token serves a loopback address only"), "\(remote)")
        #expect(await s.run(["serve", "local", "--no-token"]).status == 64)
        let both = await s.run(
            ["serve", "local", "--http", "127.0.0.1:0", "--no-token"], env: ["MCPCONN_SERVE_TOKEN": "0123456789abcdef"])
        #expect(both.status == 64 && both.stderr.contains("contradict"), "\(both)")
        let serve = try await HTTPServe(s, ["local", "--no-token", "--json"])
        #expect(
            serve.stderr.contains("warning: --no-token: any user or process on this machine can call every connector"),
            "\(serve.stderr)")
        let announced = try JSONValue.parse(try #require(String(data: serve.stdout, encoding: .utf8)))
        #expect(announced == ["url": .string(serve.url), "token": "none"], "\(announced)")
        let initialize = HTTPServe.initialize("2025-06-18")
        let served = try await serve.post(initialize, token: .none)
        #expect(served.status == 200 && served.header("mcp-session-id") != nil, "\(served)")
        #expect(
            try await serve.post(initialize, token: .none, headers: ["Origin": "http://evil.example"]).status == 403)
        #expect(try await serve.post(initialize, token: .none, headers: ["Host": "evil.example"]).status == 421)
        await serve.stopCleanly()
    }

    @Test func theTokenComesFromTheEnvironmentAndRemoteAddressesNeedTheFlag() async throws {
        let s = CLISandbox()
        await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer])
        let remote = await s.run(["serve", "local", "--http", "0.0.0.0:0"])
        #expect(remote.status == 64 && remote.stderr.contains("--allow-remote"), "\(remote)")
        let short = await s.run(["serve", "local", "--http", "127.0.0.1:0"], env: ["MCPCONN_SERVE_TOKEN": "short"])
        #expect(
            short.status == 64 && short.stderr.contains("MCPCONN_SERVE_TOKEN") && !short.stderr.contains("short\n"),
            "\(short)")
        #expect(await s.run(["serve", "local", "--allow-remote"]).status == 64)
        let chosen = "a-token-chosen-by-the-operator-\(UUID().uuidString)"
        s.environment["MCPCONN_SERVE_TOKEN"] = chosen
        let serve = try await HTTPServe(s, ["local", "--json"])
        #expect(serve.token == chosen && !serve.stderr.contains(chosen), "\(serve.stderr)")
        let announced = try JSONValue.parse(try #require(String(data: serve.stdout, encoding: .utf8)))
        #expect(announced == ["url": .string(serve.url), "token": "environment"], "\(announced)")
        let r = try await Self.client(serve, steps: [["call": "echo", "arguments": ["text": "env token"]]])
        #expect(r.calls.first?["text"] == "env token", "\(r)")
        await serve.stopCleanly()
    }
}

/// `mcpconn serve … --http 127.0.0.1:0` running, its address and token read from its first lines on stderr
/// (no token with `--no-token`).
struct HTTPServe {
    let sandbox: CLISandbox
    let process: Process
    let watch: ExitWatch
    let url: String
    let token: String
    let log: URL
    let out: URL

    init(_ s: CLISandbox, _ args: [String]) async throws {
        sandbox = s
        log = s.dir.appendingPathComponent("serve-http-\(UUID().uuidString).log")
        out = s.dir.appendingPathComponent("serve-http-\(UUID().uuidString).out")
        (process, watch) = try await s.start(["serve"] + args + ["--http", "127.0.0.1:0"], stderr: log, stdout: out)
        let file = log
        func text() -> String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
        // With --no-token there is none: the warning is its last line, and `token` is empty.
        // With --clients neither: each client has its own token, and `token` is empty.
        // With --oauth-issuer, callers bring the issuer's tokens.
        let own = args.contains("--clients") || args.contains("--oauth-issuer")
        let given = args.contains("--no-token") || own ? "" : s.environment["MCPCONN_SERVE_TOKEN"]
        let last =
            args.contains("--clients")
            ? "--clients: "
            : args.contains("--oauth-issuer")
                ? "--oauth-issuer: "
                : given == "" ? "warning: --no-token" : given == nil ? "Bearer TOKEN'): " : "listening on "
        #expect(try await eventually { text().contains("listening on ") && text().contains(last) }, "\(text())")
        let lines = text().split(separator: "\n").map(String.init)
        url = try #require(lines.first { $0.contains("listening on ") }?.components(separatedBy: "listening on ").last)
        token =
            try given ?? #require(lines.first { $0.contains("Bearer TOKEN'): ") }?.components(separatedBy: "): ").last)
    }

    var stderr: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    var stdout: Data { (try? Data(contentsOf: out)) ?? Data() }

    /// Sends `signal` and expects the orderly end it must bring: exit 0.
    func stopCleanly(signal: Int32 = SIGTERM) async {
        kill(process.processIdentifier, signal)
        let status = await watch.wait()
        #expect(status == 0, "exit \(status): \(stderr)")
    }

    struct Reply: CustomStringConvertible {
        var status: Int
        var headers: String
        var body: String
        func header(_ name: String) -> String? {
            headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
        }
        var description: String { "\(status)\n\(headers)\n\(body)" }
    }

    func post(_ body: String, token: String?? = .some(nil), headers: [String: String] = [:], path: String = "/mcp")
        async throws -> Reply
    {
        let json = ["Content-Type": "application/json", "Accept": "application/json, text/event-stream"]
        return try await request("POST", body: body, token: token, headers: json.merging(headers) { $1 }, path: path)
    }

    /// One request with curl; the token is this server's unless given (`.none`: no Authorization header).
    func request(
        _ method: String, body: String? = nil, token: String?? = .some(nil), headers: [String: String] = [:],
        path: String = "/mcp"
    ) async throws -> Reply {
        var args = ["-s", "-i", "-X", method, url.replacingOccurrences(of: "/mcp", with: path)]
        var all = headers
        if case .some(let t) = token { all["Authorization"] = "Bearer " + (t ?? self.token) }
        for (k, v) in all { args += ["-H", "\(k): \(v)"] }
        if let body {
            let file = sandbox.dir.appendingPathComponent("body-\(UUID().uuidString)")
            try body.write(to: file, atomically: true, encoding: .utf8)
            args += ["--data-binary", "@" + file.path]
        }
        return Self.reply(try await Self.curl(args))
    }

    /// What `curl -i` printed: the status, the head and the body.
    static func reply(_ out: String) -> Reply {
        let parts = out.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return Reply(status: status, headers: head, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// A handshake-era `initialize` at `version`, id 1.
    static func initialize(_ version: String) -> String {
        #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"\#(version)","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#
    }

    /// A 2026-07-28 `tools/call`: its body and its routing headers.
    static func modernCall(_ tool: String, _ arguments: String, meta extra: String = "") -> (
        body: String, headers: [String: String]
    ) {
        let meta =
            #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}"#
            + extra + "}"
        let body =
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments),"_meta":\#(meta)}}"#
        let headers = [
            "Content-Type": "application/json", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call",
            "Mcp-Name": tool,
        ]
        return (body, headers)
    }

    /// Such a call sent by a curl left running, for tests that make the client give up or outlast it.
    func startModernCall(_ tool: String, _ arguments: String) async throws -> (process: Process, exit: ExitWatch) {
        let (body, headers) = Self.modernCall(tool, arguments)
        var args = ["-s", "-X", "POST", url, "-H", "Authorization: Bearer \(token)", "--data-binary", body]
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        let watch = ExitWatch(p)
        try await p.runOffPool()
        return (p, watch)
    }

    /// A GET event stream kept open, its bytes gathered as they arrive.
    func listen(session: String) async throws -> EventStream {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = [
            "-s", "-N", "-i", url, "-H", "Authorization: Bearer \(token)", "-H", "Accept: text/event-stream",
            "-H", "Mcp-Session-Id: \(session)",
        ]
        let out = sandbox.dir.appendingPathComponent("stream-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        try await p.runOffPool()
        return EventStream(process: p, file: out)
    }

    struct EventStream {
        let process: Process
        let file: URL
        var text: String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
    }

    static func curl(_ args: [String]) async throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = args
        let out = await Pipe.closeOnExec()
        p.standardOutput = out
        let watch = ExitWatch(p)
        try await p.runOffPool()
        let data = await out.readToEnd()
        _ = await watch.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A TCP connection to serve opened by hand, for floods and for requests on one kept-alive connection. Its
/// blocking calls are made off Swift's pool (`offPool`), each bounded by 60 s.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            sent += n
        }
    }

    /// Sends a request and reads its whole answer (head, then a body of its Content-Length).
    func exchange(_ request: String) throws -> HTTPServe.Reply {
        try send(request)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        func complete() -> HTTPServe.Reply? {
            let text = String(decoding: data, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return nil }
            let head = String(text[..<end.lowerBound])
            let reply = HTTPServe.Reply(
                status: Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0, headers: head,
                body: String(text[end.upperBound...]))
            let length = Int(reply.header("content-length") ?? "") ?? 0
            return reply.body.utf8.count >= length ? reply : nil
        }
        while complete() == nil {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { throw POSIXError(n == 0 ? .ECONNRESET : POSIXErrorCode(rawValue: errno) ?? .EIO) }
            data += buffer[..<n]
        }
        return complete()!
    }

    /// True once the server closed it (end of stream or reset); never blocks.
    var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// A handshake-era POST to /mcp with the token, kept alive.
    static func post(_ body: String, token: String, host: String = "127.0.0.1") -> String {
        "POST /mcp HTTP/1.1\r\nHost: \(host)\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// Raises this process's soft limit on open descriptors (its children, serve among them, inherit it).
    static func raiseDescriptorLimit(to wanted: rlim_t) throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        try #require(limit.rlim_cur >= 1024, "the flood needs about 700 descriptors")
    }
}
