import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// MCPClient over a local server's pipes: the same era negotiation as over HTTP, on one channel, against the
/// official Python SDK's stdio servers (2.x speaks 2026-07-28 and the handshake era; 1.x the handshake era only).
@Suite("MCPClient over stdio", .timeLimit(.minutes(2)))
struct StdioClientTests {
    static let script = TestServer.repoRoot.appendingPathComponent("Tests/Servers/stdio_server.py").path

    static func client(_ python: String) -> MCPClient {
        MCPClient.stdio(
            StdioLaunch(command: python, arguments: [script]), options: .init(deadline: .now + .seconds(30)))
    }

    static func call(_ c: MCPClient, hint: ServerIdentity? = nil) async throws -> (ServerIdentity, String?) {
        let id = try await c.connect(hint: hint)
        let r = try await c.callTool("echo", arguments: ["text": "hi"])
        await c.close()
        return (id, r["content"]?.arrayValue?.first?["text"]?.stringValue)
    }

    @Test func negotiatesTheModernEraWithSDK2AndTheHandshakeWithSDK1() async throws {
        let modern = Self.client(TestServer.python)
        let (m, text) = try await Self.call(modern)
        #expect(m.era == .modern && m.protocolVersion == "2026-07-28" && m.transport == "stdio" && text == "hi")
        #expect(m.name == "stdio-reference" && modern.exchanges == 2)  // server/discover, tools/call
        let old = Self.client(TestServer.python1)
        let (h, text1) = try await Self.call(old)
        #expect(h.era == .handshake && h.protocolVersion == "2025-11-25" && h.transport == "stdio" && text1 == "hi")
        #expect(old.exchanges == 3)  // server/discover (refused, the server goes on), initialize, tools/call
    }

    @Test func aRememberedEraSkipsTheProbe() async throws {
        let modernHint = ServerIdentity(
            name: "stdio-reference", version: nil, protocolVersion: "2026-07-28", instructions: nil, capabilities: nil,
            transport: "stdio", era: .modern)
        let modern = Self.client(TestServer.python)
        let (_, text) = try await Self.call(modern, hint: modernHint)
        #expect(text == "hi" && modern.exchanges == 1)  // only the tools/call, with its _meta envelope
        var handshakeHint = modernHint
        handshakeHint.era = .handshake
        handshakeHint.protocolVersion = "2025-11-25"
        let old = Self.client(TestServer.python1)
        let (_, text1) = try await Self.call(old, hint: handshakeHint)
        #expect(text1 == "hi" && old.exchanges == 2)  // initialize, tools/call
        // SDK 2.x over stdio in the handshake era, when that is what the connector remembers.
        let both = Self.client(TestServer.python)
        let (id, text2) = try await Self.call(both, hint: handshakeHint)
        #expect(id.era == .handshake && text2 == "hi" && both.exchanges == 2)
    }

    @Test func aServerThatCannotStartIsTheServersFailure() async throws {
        let c = MCPClient.stdio(
            StdioLaunch(command: "/nonexistent/server"), options: .init(deadline: .now + .seconds(60)))
        do {
            _ = try await c.connect()
            Issue.record("connected to a server that does not exist")
        } catch {
            let e = error.error("connector 'x'")
            #expect(e.status == .unavailable && e.message.contains("cannot start '/nonexistent/server'"), "\(e)")
        }
        await c.close()
    }
}
