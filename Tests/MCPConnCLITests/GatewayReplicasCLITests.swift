import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Several replicas of `serve --http --clients` on one PostgreSQL store (issue 26): they share the clients, each
/// client's rate, a removal, and an upstream's OAuth grant; and a handshake-era session on a replica that died is
/// a clean 404 on the next one, after which the official SDK client starts a session there.
extension GatewaySuites {
    @Suite("CLI: gateway replicas on one PostgreSQL store", .serialized, .timeLimit(.minutes(4)))
    struct GatewayReplicasCLITests {
        /// A sandbox on a new PostgreSQL database, with a local (stdio) connector `local`.
        private static func sharedStore() async throws -> CLISandbox {
            let url = try await offPool { try PostgresServer.shared().createDatabase() }
            let s = CLISandbox()
            s.environment["MCPCONN_DB"] = url
            s.environment["TOKEN_ENCRYPTION_KEY"] = String(repeating: "cd", count: 32)
            #expect(await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer]).status == 0)
            return s
        }

        /// How many of `client`'s requests a replica's verbose log says it was charged for (other replicas').
        private static func charged(_ client: String, _ log: String) -> Int {
            let prefix = "rate: client \(client) charged "
            return log.split(separator: "\n").compactMap { line in
                line.range(of: prefix).flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
            }.reduce(0, +)
        }

        private static func port(_ serve: HTTPServe) -> String {
            String(serve.url.split(separator: ":").last?.split(separator: "/").first ?? "")
        }

        @Test func replicasShareAClientsRateAndItsRemoval() async throws {
            let s = try await Self.sharedStore()
            // 2 a minute: a token comes back only 30 s after it is spent, far more than the checks below take.
            let carol = ClientsCLITests.token(await s.run(["client", "add", "carol", "--rate", "2/min"]))
            let alice = ClientsCLITests.token(await s.run(["client", "add", "alice"]))
            let a = try await HTTPServe(s, ["local", "--clients", "--verbose"])
            let b = try await HTTPServe(s, ["local", "--clients", "--verbose"])
            let (call, modern) = HTTPServe.modernCall("echo", #"{"text":"c"}"#)
            // carol's whole burst on replica a...
            for _ in 0..<2 { #expect(try await a.post(call, token: carol, headers: modern).status == 200) }
            // ...is charged to her bucket on replica b at its next check, which then refuses her: one rate, not two.
            #expect(try await eventually { Self.charged("carol", b.stderr) == 2 }, "\(b.stderr)")
            let limited = try await b.post(call, token: carol, headers: modern)
            #expect(limited.status == 429 && Int(limited.header("retry-after") ?? "") ?? 0 >= 1, "\(limited)")
            #expect(try await b.post(call, token: alice, headers: modern).status == 200)

            // A removed client is refused by every replica: each re-reads the clients when the store's token moves.
            let removedAt = ContinuousClock.now
            #expect(await s.run(["client", "remove", "alice"]).status == 0)
            for replica in [a, b] {
                #expect(
                    try await eventually(every: spawnInterval) {
                        try await replica.post(call, token: alice, headers: modern).status == 401
                    })
            }
            print("replicas refused a removed client after \(ContinuousClock.now - removedAt)")
            await a.stopCleanly()
            await b.stopCleanly()
        }

        @Test func replicasRefreshAnUpstreamsGrantOneAtATime() async throws {
            // Access tokens that live 30 s are always within the refresh margin: each upstream session refreshes
            // before it is used, and every refresh rotates the refresh token; two replicas race for it.
            let server = try await TestServer.start("oauth_server.py", ["--access-ttl", "30"])
            defer { server.stop() }
            let s = try await Self.sharedStore()
            #expect(await s.run(["add", "secure", server.base + "/mcp", "--auth", "oauth"]).status == 0)
            #expect(await login(s, ["secure"]).status == 0)
            let token = ClientsCLITests.token(await s.run(["client", "add", "ide"]))
            let replicas = [
                try await HTTPServe(s, ["secure", "--clients"]), try await HTTPServe(s, ["secure", "--clients"]),
            ]
            let replies = try await withThrowingTaskGroup(of: HTTPServe.Reply.self) { g in
                for (i, replica) in replicas.enumerated() {
                    for j in 0..<3 {
                        let (call, modern) = HTTPServe.modernCall("echo", #"{"text":"r\#(i)-\#(j)"}"#)
                        g.addTask { try await replica.post(call, token: token, headers: modern) }
                    }
                }
                return try await g.reduce(into: []) { $0.append($1) }
            }
            for r in replies { #expect(r.status == 200 && r.body.contains(#""isError":false"#), "\(r)") }
            let st = await stats(server)
            #expect(st["stale_refreshes"] == 0, "a replica spent a rotated refresh token: \(st)")
            #expect((st["refreshes"]?.intValue ?? 0) >= 2, "\(st)")
            for replica in replicas { await replica.stopCleanly() }
        }

        @Test(arguments: ["legacy", "auto"])
        func aSessionOnADeadReplicaIsA404AndTheClientStartsAgainOnTheNext(mode: String) async throws {
            let s = try await Self.sharedStore()
            let token = ClientsCLITests.token(await s.run(["client", "add", "ide"]))
            let a = try await HTTPServe(s, ["local", "--clients"])
            let b = try await HTTPServe(s, ["local", "--clients"])
            let proxy = try await TestServer.start(
                "failover_proxy.py", ["--backend", Self.port(a), "--backend", Self.port(b)])
            defer { proxy.stop() }
            let url = proxy.base + "/mcp"
            let environment = s.environment.merging(["SERVE_TOKEN": token]) { $1 }
            let echo = { (text: String) -> JSONValue in ["call": "echo", "arguments": ["text": .string(text)]] }
            let first = try await PythonClient.run(
                ServeCLITests.client, ["--pause", s.dir.path, "--mode", mode, "--url", url], environment: environment,
                steps: [echo("on a"), ["pause": true], echo("after a died")], pauseDir: s.dir,
                pause: {
                    kill(a.process.processIdentifier, SIGKILL)
                    _ = await a.watch.wait()
                })
            #expect(first.lines.first?["text"] == "on a", "\(first.lines) \(first.stderr)")
            let after = first.lines.dropFirst().first
            if mode == "legacy" {
                // The session was a's: b answers 404 with its JSON-RPC error, which the SDK hands on (not a hang, not
                // a 500): the client is to initialize again.
                #expect(after?["isError"] == true && after?["code"] == -32600, "\(first.lines) \(first.stderr)")
                #expect(after?["text"]?.stringValue?.contains("initialize again") == true, "\(first.lines)")
            } else {
                // 2026-07-28 needs no session: the same client goes on, on b.
                #expect(
                    after?["text"] == "after a died" && after?["isError"] == false, "\(first.lines) \(first.stderr)")
            }
            // A new session of the same client, through the same address, is on b and works.
            let again = try await PythonClient.run(
                ServeCLITests.client, ["--mode", mode, "--url", url], environment: environment, steps: [echo("on b")])
            #expect(again.status == 0 && again.lines.first?["text"] == "on b", "\(again.lines) \(again.stderr)")
            #expect(again.listed["protocolVersion"]?.stringValue == ServedClient.era(mode))
            await b.stopCleanly()
        }
    }
}
