import Foundation
import Testing

@testable import MCP
@testable import MCPConnCore

/// The rules of `serve --http` that need no socket: origins, listen addresses, the token, routing headers.
@Suite("serve --http rules")
struct HTTPEndpointTests {
    @Test(arguments: [
        ("http://localhost", true), ("http://localhost:5173", true), ("https://127.0.0.1:8443", true),
        ("http://127.1.2.3", true), ("http://[::1]:3000", true), ("null", false), ("http://evil.example", false),
        ("http://localhost.evil.example", false), ("http://127.0.0.1.evil.example", false), ("file://localhost", false),
        ("http://0.0.0.0", false), ("http://192.168.1.10:8080", false), ("", false),
    ])
    func onlyLoopbackOriginsAreAccepted(origin: String, accepted: Bool) {
        #expect(LoopbackAddress.isLoopbackOrigin(origin) == accepted, "\(origin)")
    }

    @Test(
        arguments: [
            ("127.0.0.1:8808", "127.0.0.1"), ("LocalHost:8808", "localhost"), ("[::1]:8808", "::1"), ("[::1]", "::1"),
            ("mcp.example.com", "mcp.example.com"), ("localhost:", "localhost"), ("", nil), ("a b", nil), ("[::1", nil),
            ("[evil]:80", nil), ("[127.0.0.1]", nil), ("host:port", nil), ("host:123456", nil), ("[::1]x", nil),
            ("h:1:2", nil), ("::1", nil), ("h/x", nil), ("évil.example", nil),
        ] as [(String, String?)])
    func hostHeadersParse(header: String, host: String?) {
        #expect(AllowedHosts.hostname(ofHeader: header) == host, "\(header)")
    }

    /// Issue 29: the Host header names loopback, the listening address or an `--allowed-host` name (DNS
    /// rebinding: a page of the attacker's domain sends that domain); the port is not compared.
    @Test func onlyTheListeningHostAndTheNamedOnesAreAccepted() {
        func allows(_ hosts: AllowedHosts, _ header: String) -> Bool {
            AllowedHosts.hostname(ofHeader: header).map(hosts.allows) ?? false
        }
        let loopback = AllowedHosts(listen: ListenAddress(host: "127.0.0.1", port: 8808), names: [])
        for header in ["127.0.0.1:8808", "localhost:8808", "[::1]:8808", "127.0.0.1", "localhost", "LOCALHOST:9000"] {
            #expect(allows(loopback, header), "\(header)")
        }
        for header in [
            "evil.example:8808", "localhost.evil.example", "127.0.0.1.nip.io:8808", "192.168.1.10:8808",
            "mcp.example.com", "0.0.0.0:8808",
        ] {
            #expect(!allows(loopback, header), "\(header)")
        }
        let one = AllowedHosts(listen: ListenAddress(host: "192.168.1.10", port: 8808), names: [])
        #expect(allows(one, "192.168.1.10:8808") && allows(one, "localhost:8808") && !allows(one, "192.168.1.11"))
        let every = AllowedHosts(
            listen: ListenAddress(host: "0.0.0.0", port: 8808), names: ["MCP.example.com", "[fd00::1]", "nas"])
        for header in ["mcp.example.com:8808", "nas", "[fd00::1]", "192.168.1.10:8808", "[fd00::2]:8808"] {
            #expect(allows(every, header), "\(header)")
        }
        #expect(!allows(every, "evil.example:8808") && !allows(every, "nas.evil.example"))
        #expect(AllowedHosts.normalized(name: "::1") == "::1" && AllowedHosts.normalized(name: "[::1]") == "::1")
        #expect(AllowedHosts.normalized(name: "Mcp.Example.com") == "mcp.example.com")
        for bad in ["host:80", "[::1]:80", "", "a/b", "a b"] {
            #expect(AllowedHosts.normalized(name: bad) == nil, "\(bad)")
        }
    }

    @Test func anotherHostIs421BeforeTheTokenIsLookedAt() async throws {
        let token = "s3cret-token-of-some-length"
        let gateway = Gateway(manager: try await makeManager(), connectors: [], settings: NetworkSettings())
        let endpoint = HTTPEndpoint(
            gateway: gateway, token: token,
            hosts: AllowedHosts(listen: ListenAddress(host: "127.0.0.1", port: 8808), names: []))
        func request(_ hosts: [String], token: String? = token) -> IncomingRequest {
            IncomingRequest(
                method: "POST", uri: "/mcp",
                headers: hosts.map { ("Host", $0) } + (token.map { [("Authorization", "Bearer " + $0)] } ?? [])
                    + [("Content-Type", "application/json")])
        }
        #expect(endpoint.authenticate(request(["evil.example:8808"]))?.status == 421)
        #expect(endpoint.authenticate(request(["evil.example:8808"], token: nil))?.status == 421)
        #expect(endpoint.authenticate(request([]))?.status == 400)
        #expect(endpoint.authenticate(request(["localhost:8808", "localhost:8808"]))?.status == 400)
        #expect(endpoint.authenticate(request(["localhost:8808"], token: nil))?.status == 401)
        let served = request(["localhost:8808"])
        #expect(endpoint.authenticate(served) == nil && endpoint.route(served) == nil)
        let initialize =
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#
        let answer = await endpoint.post(served, body: Array(initialize.utf8))
        #expect(answer.status == 200 && answer.headers.contains { $0.name == "Mcp-Session-Id" }, "\(answer)")
    }

    /// The endpoint decides a request's era: without the 2026-07-28 version header, a request in a handshake-era
    /// session is answered in that era's shape even when its `_meta` carries a 2026-07-28 envelope (the gateway
    /// once re-read the era from there, and answered with `resultType` and mcpconn's serverInfo in `_meta`).
    @Test func aSessionsRequestIsAnsweredInTheHandshakeEraWhateverItsEnvelope() async throws {
        let token = "s3cret-token-of-some-length"
        let gateway = Gateway(manager: try await makeManager(), connectors: [], settings: NetworkSettings())
        let endpoint = HTTPEndpoint(
            gateway: gateway, token: token,
            hosts: AllowedHosts(listen: ListenAddress(host: "127.0.0.1", port: 8808), names: []))
        func request(_ session: String?) -> IncomingRequest {
            IncomingRequest(
                method: "POST", uri: "/mcp",
                headers: [("Host", "localhost:8808"), ("Authorization", "Bearer " + token)]
                    + [("Content-Type", "application/json")] + (session.map { [("Mcp-Session-Id", $0)] } ?? []))
        }
        let initialize =
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#
        let opened = await endpoint.post(request(nil), body: Array(initialize.utf8))
        let session = try #require(opened.headers.first { $0.name == "Mcp-Session-Id" }?.value)
        let ping =
            #"{"jsonrpc":"2.0","id":2,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#
        let answer = await endpoint.post(request(session), body: Array(ping.utf8))
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self) == #"{"jsonrpc":"2.0","id":2,"result":{}}"#)
    }

    /// Issue 31 (jbt-mcpcheck): a version serve does not speak is the spec's -32022 with the request's id and,
    /// in `data`, the versions it serves and the one asked; a 2026-07-28 request whose envelope lacks the client's
    /// capabilities is malformed: 400 and -32602 (basic/index, "Per-request protocol fields"), with its id.
    @Test func refusalsOfA2026RequestCarryItsIDAndWhatTheSpecAsks() async throws {
        let token = "s3cret-token-of-some-length"
        let gateway = Gateway(manager: try await makeManager(), connectors: [], settings: NetworkSettings())
        let endpoint = HTTPEndpoint(
            gateway: gateway, token: token,
            hosts: AllowedHosts(listen: ListenAddress(host: "127.0.0.1", port: 8808), names: []))
        func post(_ version: String, _ body: JSONValue) async -> (status: Int, answer: JSONValue) {
            let headers = [
                ("Host", "localhost:8808"), ("Authorization", "Bearer " + token), ("Content-Type", "application/json"),
                ("MCP-Protocol-Version", version), ("Mcp-Method", body["method"]?.stringValue ?? ""),
            ]
            let reply = await endpoint.post(
                IncomingRequest(method: "POST", uri: "/mcp", headers: headers.map { (name: $0.0, value: $0.1) }),
                body: body.compactBytes())
            return (reply.status, (try? JSONValue.parse(reply.body)) ?? .null)
        }
        func list(_ id: JSONValue, _ meta: JSONObject) -> JSONValue {
            ["jsonrpc": "2.0", "id": id, "method": "tools/list", "params": ["_meta": .object(meta)]]
        }
        let version = MCPVocabulary.Meta.protocolVersion
        let capabilities = MCPVocabulary.Meta.clientCapabilities
        let old = await post("1999-01-01", list("q-7", [version: "1999-01-01", capabilities: [:]]))
        #expect(old.status == 400 && old.answer["id"] == "q-7", "\(old)")
        #expect(old.answer["error"]?["code"] == .int(JSONRPCError.unsupportedProtocolVersion), "\(old)")
        let served = MCPVocabulary.modernVersions + MCPVocabulary.handshakeVersions
        #expect(old.answer["error"]?["data"]?["supported"] == .array(served.map { .string($0) }), "\(old)")
        #expect(old.answer["error"]?["data"]?["requested"] == "1999-01-01", "\(old)")
        let notification = await post("1999-01-01", ["jsonrpc": "2.0", "method": "notifications/initialized"])
        #expect(notification.status == 400 && notification.answer["id"] == .null, "\(notification)")
        for meta: JSONObject in [[version: "2026-07-28"], [version: "2026-07-28", capabilities: "all"]] {
            let bare = await post("2026-07-28", list(3, meta))
            #expect(bare.status == 400 && bare.answer["id"] == 3, "\(bare)")
            #expect(bare.answer["error"]?["code"] == .int(JSONRPCError.invalidParams), "\(bare)")
        }
        let declared = await post("2026-07-28", list(4, [version: "2026-07-28", capabilities: [:]]))
        #expect(declared.status == 200 && declared.answer["result"]?["tools"] == [], "\(declared)")
        // stdio has no headers: a request is 2026-07-28's by its envelope, which must then be whole too.
        let params: JSONValue = ["_meta": [version: "2026-07-28"]]
        let stdio = await gateway.handle(
            JSONRPCRequest(id: 5, method: "tools/list", params: params), context: .fromEnvelope(params))
        #expect(stdio["error"]?["code"] == .int(JSONRPCError.invalidParams), "\(stdio)")
    }

    @Test func listenAddressesParse() throws {
        #expect(try ListenAddress.parse("127.0.0.1:8808") == ListenAddress(host: "127.0.0.1", port: 8808))
        #expect(try ListenAddress.parse("[::1]:0") == ListenAddress(host: "::1", port: 0))
        #expect(try ListenAddress.parse("8808") == ListenAddress(host: "127.0.0.1", port: 8808))
        #expect(try ListenAddress.parse("localhost:1").isLoopback)
        #expect(try !ListenAddress.parse("0.0.0.0:80").isLoopback)
        #expect(try ListenAddress.parse("[::1]:9").urlHost == "[::1]")
        for bad in ["", ":80", "host:", "host:70000", "a b:1", "127.0.0.1:x"] {
            #expect(throws: MCPConnError.self, "\(bad)") { try ListenAddress.parse(bad) }
        }
    }

    @Test func theTokenMustMatchExactlyAndBeLongEnough() throws {
        let token = Array("s3cret-token-of-some-length".utf8)
        #expect(BearerToken.matches("Bearer s3cret-token-of-some-length", token))
        #expect(BearerToken.matches("bearer s3cret-token-of-some-length", token))
        #expect(!BearerToken.matches("Bearer s3cret-token-of-some-lengtH", token))
        #expect(!BearerToken.matches("Bearer s3cret-token-of-some-length ", token))
        #expect(!BearerToken.matches("Basic s3cret-token-of-some-length", token))
        #expect(!BearerToken.matches(nil, token))
        #expect(try BearerToken.fromEnvironment([:]) == nil)
        #expect(try BearerToken.fromEnvironment(["MCPCONN_SERVE_TOKEN": "0123456789abcdef"]) == "0123456789abcdef")
        #expect(throws: MCPConnError.self) { try BearerToken.fromEnvironment(["MCPCONN_SERVE_TOKEN": "short"]) }
        #expect(throws: MCPConnError.self) {
            try BearerToken.fromEnvironment(["MCPCONN_SERVE_TOKEN": "has a space in it!!"])
        }
        let generated = BearerToken.generate()
        #expect(generated.count == 43 && generated != BearerToken.generate())
    }

    @Test func modernRoutingHeadersMustAgreeWithTheBody() {
        let params: JSONValue = [
            "name": "ünïcode tool", "_meta": [MCPVocabulary.Meta.protocolVersion: "2026-07-28"],
        ]
        func request(_ headers: [(String, String)]) -> IncomingRequest {
            IncomingRequest(method: "POST", uri: "/mcp?x=1", headers: headers.map { (name: $0.0, value: $0.1) })
        }
        let encodedName = MCPVocabulary.headerSafe("ünïcode tool")
        #expect(encodedName.hasPrefix("=?base64?"))
        let good = request([
            ("MCP-Protocol-Version", "2026-07-28"), ("mcp-method", "tools/call"), ("Mcp-Name", encodedName),
        ])
        #expect(good.path == "/mcp")
        #expect(
            HTTPEndpoint.routingHeaderMismatch(good, method: "tools/call", params: params, version: "2026-07-28") == nil
        )
        let wrongName = request([("Mcp-Method", "tools/call"), ("Mcp-Name", "other")])
        #expect(
            HTTPEndpoint.routingHeaderMismatch(wrongName, method: "tools/call", params: params, version: "2026-07-28")
                != nil)
        let twice = request([("Mcp-Method", "tools/call"), ("Mcp-Method", "tools/call"), ("Mcp-Name", encodedName)])
        #expect(
            HTTPEndpoint.routingHeaderMismatch(twice, method: "tools/call", params: params, version: "2026-07-28")?
                .contains("more than once") == true)
        let noMethod = request([("Mcp-Name", encodedName)])
        #expect(
            HTTPEndpoint.routingHeaderMismatch(noMethod, method: "tools/call", params: params, version: "2026-07-28")
                != nil)
        #expect(
            HTTPEndpoint.routingHeaderMismatch(
                good, method: "tools/call", params: ["name": "ünïcode tool"], version: "2026-07-28") != nil)
        #expect(HTTPEndpoint.decodedHeader("=?base64?!!?=") == nil)
    }

    @Test func answersMapToTheReferenceStatuses() {
        #expect(HTTPEndpoint.status(of: JSONRPC.result(id: 1, [:])) == 200)
        #expect(HTTPEndpoint.status(of: JSONRPC.methodNotFound(id: 1)) == 404)
        #expect(HTTPEndpoint.status(of: JSONRPC.error(id: 1, code: JSONRPCError.headerMismatch, message: "")) == 400)
        #expect(HTTPEndpoint.status(of: JSONRPC.error(id: 1, code: JSONRPCError.internalError, message: "")) == 200)
        #expect(HTTPEndpoint.acceptsJSON(nil) && HTTPEndpoint.acceptsJSON("application/json, text/event-stream"))
        #expect(HTTPEndpoint.acceptsJSON("*/*;q=0.1") && !HTTPEndpoint.acceptsJSON("text/event-stream"))
    }

    @Test func thePlanSurvivesItsTripThroughArgv() throws {
        let plan = HTTPServePlan(
            database: "/tmp/a b/ü.db", user: 7, connectors: [3, 1], listen: ListenAddress(host: "::1", port: 0),
            allowedHosts: ["mcp.example.com", "[fd00::1]"], timeout: 2.5, maxBytes: 1024, verbose: true, json: true)
        #expect(HTTPServePlan(encoded: plan.encoded) == plan)
        #expect(HTTPServePlan(encoded: "{}") == nil && HTTPServePlan(encoded: "not json") == nil)
    }
}
