import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Gateway clients (issue 26): `client add/rotate/remove/list`, and `serve --http --clients` with the official
/// Python SDK client: each client sees and calls only what its rules allow, a removed client and a rotated token
/// are refused, a client over its rate gets 429, and no token is ever in serve's log or in the store.
extension GatewaySuites {
    @Suite("CLI: gateway clients", .serialized, .timeLimit(.minutes(3)))
    struct ClientsCLITests {
        /// The token `client add` or `client rotate` printed: stdout's last line.
        static func token(_ r: CLIResult) -> String {
            String(r.stdout.split(separator: "\n").last ?? "")
        }

        @Test func theClientVerbsPrintATokenOnceAndTheStoreKeepsOnlyItsHash() async throws {
            let s = CLISandbox()
            let added = await s.run(
                ["client", "add", "ci", "--allow", "local:echo", "--deny", "local:e*x", "--rate", "10/min"],
                env: ["LD_DEBUG": "libs"])
            #expect(
                added.status == 0 && !added.stderr.contains("libcurl"), "\(added.status) \(added.stderr.suffix(300))")
            let first = Self.token(added)
            #expect(first.hasPrefix("mcpc_") && first.count == 5 + 43, "\(added.stdout)")
            let json = await s.run(["client", "add", "bot", "--metrics", "--json"])
            let object = try JSONValue.parse(json.stdout)
            let second = try #require(object["token"]?.stringValue)
            #expect(json.status == 0 && json.stdout.components(separatedBy: second).count == 2, "\(json)")
            #expect(object["metrics"] == true && object["user"] == 1)

            let listed = await s.run(["client", "list", "--json"], env: ["LD_DEBUG": "libs"])
            #expect(listed.status == 0 && !listed.stderr.contains("libcurl"), "\(listed)")
            let clients = try JSONValue.parse(listed.stdout).arrayValue ?? []
            #expect(clients.compactMap { $0["name"]?.stringValue } == ["bot", "ci"], "\(listed.stdout)")
            #expect(clients.last?["allow"] == ["local:echo"] && clients.last?["rate_per_minute"] == 10)
            let hash = ClientToken.hashHex(first)
            #expect(!listed.stdout.contains(first) && !listed.stdout.contains(hash) && !listed.stdout.contains("token"))

            let rotated = await s.run(["client", "rotate", "ci"])
            let third = Self.token(rotated)
            #expect(rotated.status == 0 && third.hasPrefix("mcpc_") && third != first, "\(rotated)")
            // Neither the tokens nor anything but their hashes are in the store's files.
            for file in [s.databasePath, s.databasePath + "-wal"] {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
                for token in [first, second, third] { #expect(bytes.range(of: Data(token.utf8)) == nil, "\(file)") }
            }
            #expect(await s.run(["client", "add", "ci"]).status == 65)
            #expect(await s.run(["client", "add", "x", "--rate", "10/s"]).status == 64)
            #expect(await s.run(["client", "add", "x", "--allow", ":echo"]).status == 64)
            #expect(await s.run(["client", "add", "bad name"]).status == 64)
            #expect(await s.run(["client", "rotate", "nobody"]).status == 66)

            // A row widened by plain SQL (no key) counts as no client: list names it and exits 65.
            let store = try await offPool { try Store(path: s.databasePath) }
            try await offPool {
                try store.write { db in
                    try db.execute(
                        "UPDATE gateway_clients SET access = ? WHERE name = 'ci'", [.text(#"{"allow":[],"deny":[]}"#)])
                }
            }
            let tampered = await s.run(["client", "list"])
            #expect(tampered.status == 65 && tampered.stderr.contains("'ci'"), "\(tampered)")
            #expect(tampered.stdout.hasPrefix("bot\tuser 1\tall\tno rate\tmetrics"), "\(tampered.stdout)")
            #expect(await s.run(["client", "remove", "ci"]).status == 0)
            #expect(await s.run(["client", "list"]).status == 0)
            #expect(await s.run(["client", "remove", "ci"]).status == 66)
        }

        @Test func eachClientGetsOnlyWhatItsRulesAllowAndRemovedOrRotatedTokensAre401() async throws {
            let s = CLISandbox()
            #expect(await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer]).status == 0)
            let alice = Self.token(await s.run(["client", "add", "alice", "--allow", "local:echo"]))
            let bob = Self.token(await s.run(["client", "add", "bob", "--allow", "local:a*", "--deny", "local:argv"]))
            let carol = Self.token(await s.run(["client", "add", "carol", "--rate", "2/min"]))
            let dave = Self.token(await s.run(["client", "add", "dave", "--user", "2"]))
            let eve = Self.token(await s.run(["client", "add", "eve", "--deny", "local"]))
            let serve = try await HTTPServe(s, ["local", "--clients", "--verbose"])
            let steps: JSONValue = [
                ["call": "echo", "arguments": ["text": "a"]], ["call": "add", "arguments": ["a": 1, "b": 2]],
            ]

            // alice (a handshake-era session) lists and calls echo only; bob (2026-07-28) add only.
            let a = try await ServeHTTPCLITests.client(serve, steps: steps, mode: "legacy", token: alice)
            #expect(a.status == 0 && a.listed["tools"] == ["echo"], "\(a.listed) \(a.stderr)")
            #expect(a.calls.first?["text"] == "a" && a.calls.first?["isError"] == false, "\(a.calls)")
            #expect(a.calls.last?["code"] == -32602, "\(a.calls)")
            #expect(a.calls.last?["text"]?.stringValue?.contains("not in this client's allow-list") == true)
            let b = try await ServeHTTPCLITests.client(serve, steps: steps, token: bob)
            #expect(b.status == 0 && b.listed["tools"] == ["add"], "\(b.listed) \(b.stderr)")
            #expect(b.calls.first?["code"] == -32602 && b.calls.last?["text"] == "3", "\(b.calls)")
            // dave reaches user 2's connectors: none of those served.
            let d = try await ServeHTTPCLITests.client(
                serve, steps: [["call": "echo", "arguments": ["text": "a"]]], token: dave)
            #expect(d.listed["tools"] == [] && d.calls.first?["code"] == -32602, "\(d.listed) \(d.calls)")
            // A session is its client's: another client's token cannot use it.
            let start = try await serve.post(HTTPServe.initialize("2025-06-18"), token: alice)
            let session = try #require(start.header("mcp-session-id"), "\(start)")
            let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#
            #expect(try await serve.post(list, token: bob, headers: ["Mcp-Session-Id": session]).status == 404)
            #expect(try await serve.post(list, token: alice, headers: ["Mcp-Session-Id": session]).status == 200)
            // eve is denied the whole connector: no tools, and neither its resources nor subscriptions to them.
            let opened = try await serve.post(HTTPServe.initialize("2025-06-18"), token: eve)
            let eves = ["Mcp-Session-Id": try #require(opened.header("mcp-session-id"), "\(opened)")]
            let none = try await serve.post(list, token: eve, headers: eves)
            #expect(none.status == 200 && none.body.contains(#""tools":[]"#), "\(none)")
            let read = try await serve.post(
                #"{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"memo://notes"}}"#, token: eve,
                headers: eves)
            #expect(read.body.contains("-32602") && !read.body.contains("remember the milk"), "\(read)")
            let watched = try await serve.post(
                #"{"jsonrpc":"2.0","id":4,"method":"resources/subscribe","params":{"uri":"memo://notes"}}"#, token: eve,
                headers: eves)
            #expect(watched.body.contains("no resource 'memo://notes' behind mcpconn serve"), "\(watched)")

            // carol: 2 a minute, the third is 429 with Retry-After.
            let ping = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
            let (call, modern) = HTTPServe.modernCall("echo", #"{"text":"c"}"#)
            #expect(try await serve.post(call, token: carol, headers: modern).status == 200)
            #expect(try await serve.post(call, token: carol, headers: modern).status == 200)
            let limited = try await serve.post(ping, token: carol)
            let retry = Int(limited.header("retry-after") ?? "") ?? 0
            #expect(limited.status == 429 && (1...30).contains(retry), "\(limited)")

            // Unknown, rotated and removed tokens: 401, within about a second of the write.
            let unknown = try await serve.post(call, token: ClientToken.generate(), headers: modern)
            #expect(unknown.status == 401 && unknown.headers.lowercased().contains("www-authenticate: bearer"))
            #expect(await s.run(["client", "remove", "bob"]).status == 0)
            let fresh = Self.token(await s.run(["client", "rotate", "alice"]))
            #expect(
                try await eventually(every: spawnInterval) {
                    try await serve.post(call, token: bob, headers: modern).status == 401
                })
            #expect(
                try await eventually(every: spawnInterval) {
                    try await serve.post(call, token: alice, headers: modern).status == 401
                })
            #expect(try await serve.post(call, token: fresh, headers: modern).status == 200)

            let log = serve.stderr
            #expect(log.contains("refused (client alice)") && log.contains("429"), "\(log)")
            for token in [alice, bob, carol, dave, eve, fresh] { #expect(!log.contains(token)) }
            await serve.stopCleanly()
        }

        @Test func clientsGoWithHTTPAndNotWithNoToken() async throws {
            let s = CLISandbox()
            #expect(await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer]).status == 0)
            let both = await s.run(["serve", "local", "--http", "127.0.0.1:0", "--clients", "--no-token"])
            #expect(both.status == 64 && both.stderr.contains("--clients and --no-token"), "\(both)")
            #expect(await s.run(["serve", "local", "--clients"]).status == 64)
        }
    }
}
