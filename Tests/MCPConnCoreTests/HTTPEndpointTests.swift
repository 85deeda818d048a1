import Foundation
import Testing

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
            "name": "ünïcode tool", "_meta": [MCPClient.metaProtocolVersion: "2026-07-28"],
        ]
        func request(_ headers: [(String, String)]) -> IncomingRequest {
            IncomingRequest(method: "POST", uri: "/mcp?x=1", headers: headers.map { (name: $0.0, value: $0.1) })
        }
        let encodedName = MCPClient.headerSafe("ünïcode tool")
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
            timeout: 2.5, maxBytes: 1024, verbose: true, json: true)
        #expect(HTTPServePlan(encoded: plan.encoded) == plan)
        #expect(HTTPServePlan(encoded: "{}") == nil && HTTPServePlan(encoded: "not json") == nil)
    }
}
