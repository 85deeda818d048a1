import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `serve --http --oauth-issuer` (issue 26): the gateway as an OAuth protected resource, against oauth_server.py
/// in its JWT mode (a real issuer: the official Python SDK's authorization server, RS256 access tokens, a JWKS).
/// The official SDK client does the whole MCP authorization flow and gets the rules of its scope's client; tokens
/// that are wrong in any way are 401 with the resource metadata's URL; a valid token without a mapped scope is 403.
extension GatewaySuites {
    @Suite("CLI: serve --http --oauth-issuer", .serialized, .timeLimit(.minutes(3)))
    struct OAuthServeCLITests {
        /// A sandbox with the stdio test server as `local`, and clients `reader` (echo only) and `adder` (add only).
        static func sandbox() async -> CLISandbox {
            let s = CLISandbox()
            #expect(await s.run(["add", "local", "--", TestServer.python, ServeCLITests.stdioServer]).status == 0)
            #expect(await s.run(["client", "add", "reader", "--allow", "local:echo"]).status == 0)
            #expect(await s.run(["client", "add", "adder", "--allow", "local:add"]).status == 0)
            #expect(await s.run(["client", "add", "slow", "--rate", "1/min"]).status == 0)
            return s
        }

        static func serve(_ s: CLISandbox, _ issuer: TestServer, _ more: [String] = []) async throws -> HTTPServe {
            try await HTTPServe(
                s,
                [
                    "local", "--verbose", "--oauth-issuer", issuer.base, "--oauth-scope", "tools:add=adder",
                    "--oauth-scope", "tools:echo=reader", "--oauth-scope", "tools:slow=slow",
                ] + more)
        }

        /// A token of the issuer: its default claims (aud: `audience`) changed as `request` says (oauth_server.py's
        /// /test/mint).
        static func mint(_ issuer: TestServer, audience: String, _ request: JSONObject = [:]) async throws -> String {
            var asked = request
            var claims = asked["claims"]?.objectValue ?? [:]
            if claims["aud"] == nil { claims["aud"] = .string(audience) }
            asked["claims"] = .object(claims)
            let out = try await HTTPServe.curl(
                ["-sS", "-X", "POST", issuer.base + "/test/mint", "-d", JSONValue.object(asked).compactText()])
            return try #require(try JSONValue.parse(out)["token"]?.stringValue, "\(out)")
        }

        /// A request every valid token gets a 200 for: a handshake-era initialize.
        static let ping = HTTPServe.initialize("2025-06-18")

        @Test(arguments: ["legacy", "auto"])
        func theSDKClientAuthorizesAtTheIssuerAndGetsItsScopesClient(mode: String) async throws {
            // The issuer grants tools:echo only, of the scopes the client asks for (all those serve's metadata lists).
            let issuer = try await TestServer.start("oauth_server.py", ["--jwt", "--grant-scopes", "tools:echo"])
            defer { issuer.stop() }
            let s = await Self.sandbox()
            let serve = try await Self.serve(s, issuer)
            let steps: JSONValue = [
                ["call": "echo", "arguments": ["text": "via oauth"]], ["call": "add", "arguments": ["a": 1, "b": 2]],
            ]
            let r = try await ServeHTTPCLITests.client(serve, steps: steps, mode: mode, options: ["--oauth"])
            #expect(r.status == 0, "\(r.stderr)")
            // The first line: the token's claims, bound to serve's URL (RFC 8707), of the issuer, with the scope granted.
            let claims = r.listed["token"]
            #expect(
                claims?["aud"]?.stringValue == serve.url && claims?["iss"]?.stringValue == issuer.base, "\(r.listed)")
            #expect(claims?["scope"] == "tools:echo", "\(r.listed)")
            let listed = try #require(r.calls.first, "\(r.calls)")
            #expect(listed["tools"] == ["echo"], "\(listed)")
            #expect(listed["protocolVersion"]?.stringValue == ServedClient.era(mode), "\(listed)")
            #expect(r.calls.dropFirst().first?["text"] == "via oauth", "\(r.calls)")
            #expect(r.calls.last?["code"] == -32602, "\(r.calls)")
            #expect(r.calls.last?["text"]?.stringValue?.contains("not in this client's allow-list") == true)
            // The SDK registered and was authorized once, for serve's URL as the resource.
            let st = await stats(issuer)
            #expect(st["registrations"] == 1 && st["resources"] == [.string(serve.url)], "\(st)")
            await serve.stopCleanly()
        }

        @Test func wrongTokensAre401WithTheMetadataURLAndUnmappedScopesAre403() async throws {
            let issuer = try await TestServer.start("oauth_server.py", ["--jwt"])
            defer { issuer.stop() }
            let s = await Self.sandbox()
            let serve = try await Self.serve(s, issuer)
            let metadataURL = serve.url.replacingOccurrences(
                of: "/mcp", with: "/.well-known/oauth-protected-resource/mcp")

            // RFC 9728 metadata, unauthenticated, at both well-known paths; the Host check still applies.
            for path in ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"] {
                let got = try await serve.request("GET", token: .none, path: path)
                let doc = try JSONValue.parse(got.body)
                #expect(got.status == 200 && doc["resource"]?.stringValue == serve.url, "\(got)")
                #expect(doc["authorization_servers"] == [.string(issuer.base)], "\(got)")
                #expect(doc["scopes_supported"] == ["tools:add", "tools:echo", "tools:slow"], "\(got)")
                #expect(doc["bearer_methods_supported"] == ["header"], "\(got)")
            }
            let rebound = try await serve.request(
                "GET", token: .none, headers: ["Host": "evil.example"],
                path: "/.well-known/oauth-protected-resource/mcp")
            #expect(rebound.status == 421, "\(rebound)")

            // No token: 401 naming the metadata, no error.
            let bare = try await serve.post(Self.ping, token: .none)
            #expect(
                bare.status == 401 && bare.header("www-authenticate") == "Bearer resource_metadata=\"\(metadataURL)\"")

            // A valid token works; a key the issuer adds later is fetched when its first token comes.
            let good = try await Self.mint(issuer, audience: serve.url, ["claims": ["scope": "tools:echo"]])
            let first = try await serve.post(Self.ping, token: good)
            #expect(first.status == 200, "\(first) \(serve.stderr)")
            _ = try await HTTPServe.curl(["-sS", "-X", "POST", issuer.base + "/test/rotate"])
            let rotated = try await Self.mint(issuer, audience: serve.url, ["claims": ["scope": "tools:echo"]])
            #expect(try await serve.post(Self.ping, token: rotated).status == 200)
            let (call, modern) = HTTPServe.modernCall("echo", #"{"text":"m"}"#)
            let answered = try await serve.post(call, token: rotated, headers: modern)
            #expect(answered.status == 200 && answered.body.contains(#""text":"m""#), "\(answered)")

            // Each wrong token: 401 with error="invalid_token" and the metadata URL.
            let now = Int64(Date().timeIntervalSince1970)
            let wrong: [(String, JSONObject)] = [
                ("another audience", ["claims": ["aud": "http://127.0.0.1:1/mcp", "scope": "tools:echo"]]),
                ("an audience list without serve", ["claims": ["aud": ["http://other/mcp"], "scope": "tools:echo"]]),
                ("expired", ["claims": ["exp": .int(now - 3600), "scope": "tools:echo"]]),
                ("not yet valid", ["claims": ["nbf": .int(now + 3600), "scope": "tools:echo"]]),
                ("no exp", ["drop": ["exp"], "claims": ["scope": "tools:echo"]]),
                ("another issuer", ["claims": ["iss": "http://127.0.0.1:1", "scope": "tools:echo"]]),
                ("a key the issuer does not list", ["key": "other", "claims": ["scope": "tools:echo"]]),
                ("alg none", ["alg": "none", "claims": ["scope": "tools:echo"]]),
                ("HS256 keyed with the public key", ["alg": "HS256", "claims": ["scope": "tools:echo"]]),
                ("a tampered payload", ["claims": ["scope": "tools:echo"], "tamper": ["sub": "mallory"]]),
            ]
            for (what, request) in wrong {
                let token = try await Self.mint(issuer, audience: serve.url, request)
                let refused = try await serve.post(Self.ping, token: token)
                #expect(refused.status == 401, "\(what): \(refused)")
                #expect(
                    refused.header("www-authenticate")
                        == "Bearer resource_metadata=\"\(metadataURL)\", error=\"invalid_token\"", "\(what): \(refused)"
                )
            }
            #expect(try await serve.post(Self.ping, token: "not.a.jwt").status == 401)

            // Valid, but no scope mapped to a client: 403 insufficient_scope, naming the scopes that are.
            let unmapped = try await Self.mint(issuer, audience: serve.url, ["claims": ["scope": "profile email"]])
            let forbidden = try await serve.post(Self.ping, token: unmapped)
            #expect(forbidden.status == 403, "\(forbidden)")
            #expect(
                forbidden.header("www-authenticate")
                    == "Bearer resource_metadata=\"\(metadataURL)\", error=\"insufficient_scope\", scope=\"tools:add tools:echo tools:slow\"",
                "\(forbidden)")

            // `scp` as a list counts as scopes; the first mapped scope in flag order decides (tools:add → adder).
            let both = try await Self.mint(
                issuer, audience: serve.url, ["claims": ["scp": ["tools:echo", "tools:add"]], "drop": ["scope"]])
            let opened = try await serve.post(Self.ping, token: both)
            let session = ["Mcp-Session-Id": try #require(opened.header("mcp-session-id"), "\(opened)")]
            let tools = try await serve.post(
                #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, token: both, headers: session)
            #expect(tools.body.contains(#""name":"add""#) && !tools.body.contains(#""name":"echo""#), "\(tools)")

            // The rate of the scope's client counts per subject: slow allows 1 a minute.
            let slow = try await Self.mint(issuer, audience: serve.url, ["claims": ["scope": "tools:slow"]])
            #expect(try await serve.post(Self.ping, token: slow).status == 200)
            let limited = try await serve.post(Self.ping, token: slow)
            #expect(limited.status == 429 && limited.header("retry-after") != nil, "\(limited)")

            let log = serve.stderr
            #expect(log.contains("refused an OAuth token (401): another audience"), "\(log)")
            #expect(log.contains("refused oauth:alice: no scope mapped to a client (403)"), "\(log)")
            for token in [good, rotated, unmapped, both, slow] { #expect(!log.contains(token)) }
            await serve.stopCleanly()
        }

        @Test func oauthFlagsAreCheckedAndABadIssuerFailsTheStart() async throws {
            let s = await Self.sandbox()
            let issuer = try await TestServer.start("oauth_server.py", ["--jwt"])
            defer { issuer.stop() }
            func serve(_ args: [String], env: [String: String] = [:]) async -> CLIResult {
                await s.run(["serve", "local", "--http", "127.0.0.1:0"] + args, env: env)
            }
            let scope = ["--oauth-scope", "tools:echo=reader"]
            let noToken = await serve(["--oauth-issuer", issuer.base, "--no-token"] + scope)
            #expect(noToken.status == 64 && noToken.stderr.contains("--oauth-issuer and --no-token"), "\(noToken)")
            #expect(await s.run(["serve", "local", "--oauth-issuer", issuer.base] + scope).status == 64)
            #expect(await serve(["--oauth-issuer", issuer.base]).status == 64)
            #expect(await serve(["--oauth-scope", "tools:echo=reader"]).status == 64)
            #expect(await serve(["--oauth-issuer", issuer.base, "--oauth-scope", "tools:echo"]).status == 64)
            #expect(await serve(["--oauth-issuer", "ftp://x"] + scope).status == 64)
            let token = await serve(
                ["--oauth-issuer", issuer.base] + scope, env: ["MCPCONN_SERVE_TOKEN": "0123456789abcdef0123"])
            #expect(token.status == 64, "\(token)")
            let nobody = await serve(["--oauth-issuer", issuer.base, "--oauth-scope", "x=nobody"])
            #expect(nobody.status == 66 && nobody.stderr.contains("no client 'nobody'"), "\(nobody)")
            // An issuer nobody answers for: 69; one without a key set (the plain oauth_server.py): 76. One line each.
            let unreachable = await serve(["--oauth-issuer", "http://127.0.0.1:9"] + scope)
            #expect(unreachable.status == 69 && unreachable.stderr.split(separator: "\n").count == 1, "\(unreachable)")
            let plain = try await TestServer.start("oauth_server.py")
            defer { plain.stop() }
            let keyless = await serve(["--oauth-issuer", plain.base] + scope)
            #expect(keyless.status == 76 && keyless.stderr.contains("no jwks_uri"), "\(keyless)")
        }

        @Test func clientTokensAndIssuerTokensWorkSideBySide() async throws {
            let issuer = try await TestServer.start("oauth_server.py", ["--jwt"])
            defer { issuer.stop() }
            let s = await Self.sandbox()
            let own = ClientsCLITests.token(await s.run(["client", "add", "ci", "--allow", "local:add"]))
            let serve = try await Self.serve(s, issuer, ["--clients"])
            let jwt = try await Self.mint(issuer, audience: serve.url, ["claims": ["scope": "tools:echo"]])
            let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#
            for (token, tool) in [(own, "add"), (jwt, "echo")] {
                let opened = try await serve.post(HTTPServe.initialize("2025-06-18"), token: token)
                let session = ["Mcp-Session-Id": try #require(opened.header("mcp-session-id"), "\(opened)")]
                let tools = try await serve.post(list, token: token, headers: session)
                #expect(tools.body.contains(#""name":"\#(tool)""#) && tools.body.split(separator: "name").count == 2)
            }
            // A removed client's token is refused, with the OAuth challenge.
            #expect(await s.run(["client", "remove", "ci"]).status == 0)
            #expect(
                try await eventually(every: spawnInterval) { try await serve.post(Self.ping, token: own).status == 401 }
            )
            let refused = try await serve.post(Self.ping, token: own)
            #expect(refused.header("www-authenticate")?.contains("resource_metadata=") == true, "\(refused)")
            await serve.stopCleanly()
        }

        /// No token passthrough (MCP authorization): what reaches an upstream is the connector's own stored credential,
        /// never the caller's token, whichever kind it is.
        @Test func callersTokensNeverReachAnUpstream() async throws {
            let issuer = try await TestServer.start("oauth_server.py", ["--jwt"])
            defer { issuer.stop() }
            let s = await Self.sandbox()
            let log = s.dir.appendingPathComponent("upstream-access.log")
            let upstream = try await TestServer.start(
                "reference_server.py", ["--require-header", "X-API-Key=k-stored", "--access-log", log.path])
            defer { upstream.stop() }
            #expect(
                await s.run(
                    ["add", "ref", upstream.base + "/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "k-stored\n"
                ).status == 0)
            let own = ClientsCLITests.token(await s.run(["client", "add", "ci", "--allow", "ref"]))
            #expect(await s.run(["client", "add", "refs", "--allow", "ref"]).status == 0)
            let serve = try await HTTPServe(
                s, ["ref", "--clients", "--oauth-issuer", issuer.base, "--oauth-scope", "ref=refs"])
            let jwt = try await Self.mint(issuer, audience: serve.url, ["claims": ["scope": "ref"]])
            for (token, text) in [(own, "with a client token"), (jwt, "with an access token")] {
                let (call, modern) = HTTPServe.modernCall("echo", #"{"text":"\#(text)"}"#)
                let r = try await serve.post(call, token: token, headers: modern)
                #expect(r.status == 200 && r.body.contains(text) && r.body.contains(#""isError":false"#), "\(r)")
            }
            await serve.stopCleanly()
            let entries = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map {
                try JSONValue.parse(String($0))
            }
            #expect(entries.contains { $0["mcp-method"] == "tools/call" }, "\(entries)")
            for entry in entries {
                #expect(entry["x-api-key"] == "k-stored" && entry["authorization"] == nil, "\(entry)")
            }
        }
    }
}
