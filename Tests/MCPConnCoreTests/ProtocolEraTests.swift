import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

/// One SDK 2.x server (speaks 2026-07-28) and one SDK 1.x server (handshake era only), each logging every
/// HTTP request it receives, so tests can count what a `call` costs on the wire.
final class LoggedServer: Sendable {
    let server: TestServer
    let log: String

    init(server: TestServer, log: String) {
        self.server = server
        self.log = log
    }

    static func start(python: String) async throws -> LoggedServer {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mcpconn-access-\(UUID().uuidString).jsonl"
        ).path
        return LoggedServer(
            server: try await TestServer.start("reference_server.py", ["--access-log", log], python: python), log: log)
    }

    var url: String { server.base + "/mcp" }

    /// The requests logged so far.
    func requests() -> [JSONValue] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }

    static func modern() async throws -> LoggedServer { try await Started.shared.get(TestServer.python) }
    static func handshake() async throws -> LoggedServer { try await Started.shared.get(TestServer.python1) }

    /// The two logged servers, started once.
    actor Started {
        static let shared = Started()
        var servers: [String: Task<LoggedServer, Error>] = [:]
        func get(_ python: String) async throws -> LoggedServer {
            if let t = servers[python] { return try await t.value }
            let t = Task { try await LoggedServer.start(python: python) }
            servers[python] = t
            return try await t.value
        }
    }
}

/// Tests that share a logged server run one after another, so request counts are not mixed.
@Suite("Protocol eras, remembered per connector", .serialized, .timeLimit(.minutes(3)))
struct ProtocolEraTests {
    @Test func aModernServerCostsOnePOSTPerCall() async throws {
        let s = try await LoggedServer.modern()
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "modern", serverURL: s.url))
        let report = try await m.sessions.verify("modern", settings: quick)
        #expect(report.identity?.era == .modern)
        let c = try m.storage.get("modern")
        #expect(c.protocolVersion == "2026-07-28")
        #expect(c.protocolEra == "modern")
        #expect(c.json()["protocol_version"] == "2026-07-28")

        await Network.drain()
        let before = s.requests().count
        let r = try await m.sessions.call("modern", tool: "echo", arguments: ["text": "one POST"], settings: quick)
        #expect(CallResultText.lines(r) == ["one POST"])
        let during = Array(s.requests().dropFirst(before))
        #expect(during.count == 1)
        let post = try #require(during.first)
        #expect(post["method"] == "POST")
        #expect(post["mcp-method"] == "tools/call")
        #expect(post["mcp-name"] == "echo")
        #expect(post["mcp-protocol-version"] == "2026-07-28")
        #expect(post["mcp-session-id"] == nil)
    }

    @Test func aHandshakeServerGoesStraightToInitialize() async throws {
        let s = try await LoggedServer.handshake()
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "classic", serverURL: s.url))
        let report = try await m.sessions.verify("classic", settings: quick)
        #expect(report.ok)
        let c = try m.storage.get("classic")
        #expect(c.protocolEra == "handshake")
        #expect(MCPVocabulary.handshakeVersions.contains(c.protocolVersion ?? ""))

        await Network.drain()
        let before = s.requests().count
        let r = try await m.sessions.call("classic", tool: "echo", arguments: ["text": "handshake"], settings: quick)
        #expect(CallResultText.lines(r) == ["handshake"])
        await Network.drain()
        let during = Array(s.requests().dropFirst(before))
        // initialize, notifications/initialized, tools/call, then DELETE of the session: no discover probe;
        // beside them the session's GET stream for the server's own requests, opened with the notification.
        let methods = during.map { $0["method"]?.stringValue ?? "" }
        #expect(methods.filter { $0 != "GET" } == ["POST", "POST", "POST", "DELETE"])
        #expect(methods.filter { $0 == "GET" }.count == 1)
        #expect(during.dropFirst().allSatisfy { $0["mcp-session-id"] != nil })
        #expect(during.dropFirst().allSatisfy { $0["mcp-protocol-version"]?.stringValue == c.protocolVersion })
    }

    @Test func aRefusedModernMemoryIsRenegotiatedAndUpdated() async throws {
        let s = try await LoggedServer.handshake()
        let m = try await makeManager()
        let added = try m.storage.add(ConnectorInput(name: "moved", serverURL: s.url))
        // The store believes the server is modern (say it was downgraded since the last verify).
        try m.store.write { db in
            try db.execute(
                "UPDATE user_mcp_connections SET protocol_version = '2026-07-28', protocol_era = 'modern' WHERE id = ?",
                [.int(added.id!)])
        }
        let r = try await m.sessions.call("moved", tool: "echo", arguments: ["text": "still works"], settings: quick)
        #expect(CallResultText.lines(r) == ["still works"])
        let c = try m.storage.get("moved")
        #expect(c.protocolEra == "handshake")
        #expect(c.protocolVersion != "2026-07-28")
    }

    @Test func healthReportsTheProtocolVersionInUse() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "a", serverURL: (try await LoggedServer.modern()).url))
        _ = try m.storage.add(ConnectorInput(name: "b", serverURL: (try await LoggedServer.handshake()).url))
        let reports = try await m.sessions.health(try m.storage.targets([], all: true), settings: quick)
        #expect(reports.map(\.ok) == [true, true])
        #expect(reports[0].healthJSON["protocol_version"] == "2026-07-28")
        #expect(MCPVocabulary.handshakeVersions.contains(reports[1].healthJSON["protocol_version"]?.stringValue ?? ""))
        // What health learnt is remembered for the next call.
        #expect(try m.storage.get("a").protocolEra == "modern")
        #expect(try m.storage.get("b").protocolEra == "handshake")
    }

    @Test func envelopeAndHeadersFollowTheSpec() {
        let p = MCPClient.envelope(
            .object(["name": "x", "_meta": .object(["progressToken": 1])]), version: "2026-07-28")
        #expect(p["_meta"]?["io.modelcontextprotocol/protocolVersion"] == "2026-07-28")
        #expect(p["_meta"]?["io.modelcontextprotocol/clientCapabilities"] == .object([:]))
        #expect(p["_meta"]?["progressToken"] == 1)
        let call = JSONRPC.request(id: 1, method: "tools/call", params: .object(["name": "héllo"]))
        let h = MCPVocabulary.modernHeaders(for: call)
        #expect(h.first?.value == "tools/call")
        #expect(h.last?.name == "Mcp-Name")
        #expect(h.last?.value == "=?base64?aMOpbGxv?=")
        #expect(MCPVocabulary.modernHeaders(for: JSONRPC.request(id: 2, method: "tools/list", params: nil)).count == 1)
    }
}
