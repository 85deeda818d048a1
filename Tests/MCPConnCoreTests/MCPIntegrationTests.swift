import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

/// Reference servers from the official Python SDK, shared by the tests of this file (started once, lazily).
enum Reference {
    static func sse() async throws -> TestServer {
        try await TestServer.shared(
            "reference_server.py",
            ["--transport", "streamable-http", "--name", "ref-sse", "--instructions", "Use echo to echo."])
    }
    static func json() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--transport", "streamable-http", "--json-response"])
    }
    static func stateless() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--transport", "streamable-http", "--stateless"])
    }
    static func legacy() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--transport", "sse"])
    }
    static func paged() async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--transport", "streamable-http", "--tools", "120"])
    }
    static func auth() async throws -> TestServer {
        try await TestServer.shared(
            "reference_server.py", ["--transport", "streamable-http", "--require-header", "X-API-Key=k3y-s3cr3t-value"])
    }
    static func bearer() async throws -> TestServer {
        try await TestServer.shared(
            "reference_server.py",
            ["--transport", "streamable-http", "--require-header", "Authorization=Bearer t0ken-s3cr3t"])
    }
}

let quick = NetworkSettings(timeout: 20)

/// A remembered handshake era, to make a client skip the modern probe.
let handshakeHint = ServerIdentity(
    name: nil, version: nil, protocolVersion: "2025-11-25", instructions: nil, capabilities: nil,
    transport: "streamable-http", era: .handshake)

@Suite("MCP against reference servers", .timeLimit(.minutes(3)))
struct MCPIntegrationTests {
    @Test(arguments: ["sse", "json", "stateless", "legacy"])
    func verifyDiscoversAndStoresTools(mode: String) async throws {
        let url: String
        switch mode {
        case "sse": url = try await Reference.sse().base + "/mcp"
        case "json": url = try await Reference.json().base + "/mcp"
        case "stateless": url = try await Reference.stateless().base + "/mcp"
        default: url = try await Reference.legacy().base + "/sse"
        }
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "ref-\(mode)", serverURL: url))
        let report = try await m.sessions.verify("ref-\(mode)", expectTools: ["echo", "nope"], settings: quick)
        #expect(report.ok)
        #expect(report.missingTools == ["nope"])
        #expect(report.identity?.transport == (mode == "legacy" ? "sse" : "streamable-http"))
        let stored = try m.storage.get("ref-\(mode)")
        #expect(stored.isVerified)
        #expect(stored.lastVerifiedAt != nil)
        let names = stored.tools.compactMap { $0["name"]?.stringValue }
        #expect(names.contains("echo") && names.contains("add") && names.contains("fail"))
        #expect(stored.toolCount == names.count)

        let result = try await m.sessions.call(
            "ref-\(mode)", tool: "echo", arguments: ["text": "héllo \"wörld\"\n"], settings: quick)
        #expect(CallResultText.lines(result) == ["héllo \"wörld\"\n"])
    }

    @Test func legacyTransportIsFoundWhenThePostIsRefused() async throws {
        // The SSE app has no POST at /sse; the client must fall back to GET even without the /sse hint.
        let m = try await makeManager()
        let client = MCPClient(
            url: (try await Reference.legacy()).base + "/sse/", options: .init(deadline: .now + .seconds(20)))
        let id = try await client.connect()
        #expect(id.transport == "sse")
        #expect(try await client.listTools().count >= 5)
        await client.close()
        _ = m
    }

    @Test func serverIdentityAndInstructionsComeFromDiscoverOrInitialize() async throws {
        // An SDK 2.x server answers the server/discover probe: the modern era, no handshake.
        let modern = MCPClient(
            url: (try await Reference.sse()).base + "/mcp", options: .init(deadline: .now + .seconds(20)))
        let m = try await modern.connect()
        #expect(m.era == .modern)
        #expect(MCPVocabulary.modernVersions.contains(m.protocolVersion))
        #expect(m.name == "ref-sse")
        #expect(m.instructions == "Use echo to echo.")
        try await modern.ping()
        await modern.close()
        // Told to use the handshake, the same server negotiates a handshake-era version through initialize.
        let classic = MCPClient(
            url: (try await Reference.sse()).base + "/mcp", options: .init(deadline: .now + .seconds(20)))
        let h = try await classic.connect(hint: handshakeHint)
        #expect(h.era == .handshake)
        #expect(MCPVocabulary.handshakeVersions.contains(h.protocolVersion))
        #expect(h.name == "ref-sse" && h.version == "9.9.9")
        #expect(h.instructions == "Use echo to echo.")
        #expect(classic.sessionID != nil)
        try await classic.ping()
        await classic.close()
    }

    @Test func toolsListFollowsCursorsAcrossPages() async throws {
        let client = MCPClient(
            url: (try await Reference.paged()).base + "/mcp", options: .init(deadline: .now + .seconds(20)))
        _ = try await client.connect()
        let tools = try await client.listTools()
        let names = tools.compactMap { $0["name"]?.stringValue }
        #expect(names.filter { $0.hasPrefix("tool_") }.count == 120)
        #expect(Set(names).count == names.count)
        await client.close()
    }

    @Test func contentTypesStructuredContentAndToolErrors() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "c", serverURL: (try await Reference.sse()).base + "/mcp"))
        let sum = try await m.sessions.call("c", tool: "add", arguments: ["a": 2, "b": 40], settings: quick)
        #expect(sum["structuredContent"]?["result"]?.intValue == 42)
        #expect(!CallResultText.isError(sum))
        let failed = try await m.sessions.call("c", tool: "fail", arguments: ["message": "boom"], settings: quick)
        #expect(CallResultText.isError(failed))
        #expect(CallResultText.errorText(failed).contains("boom"))
        let image = try await m.sessions.call("c", tool: "image", arguments: [:], settings: quick)
        #expect(CallResultText.lines(image).first?.hasPrefix("[image: image/png") == true)
        let audio = try await m.sessions.call("c", tool: "audio", arguments: [:], settings: quick)
        #expect(CallResultText.lines(audio).first?.hasPrefix("[audio: ") == true)
        let link = try await m.sessions.call("c", tool: "resource_link", arguments: [:], settings: quick)
        #expect(CallResultText.lines(link).first?.hasPrefix("[resource link: ") == true)
        let embedded = try await m.sessions.call("c", tool: "embedded_resource", arguments: [:], settings: quick)
        #expect(embedded["content"]?.arrayValue?.first?["type"]?.stringValue == "resource")
    }

    @Test func notificationsBeforeTheResponseAreSkipped() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "n", serverURL: (try await Reference.sse()).base + "/mcp"))
        let r = try await m.sessions.call(
            "n", tool: "notify_then_echo", arguments: ["text": "after notes"], settings: quick)
        #expect(CallResultText.lines(r) == ["after notes"])
    }

    @Test func unknownToolIsAnOperationFailure() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "u", serverURL: (try await Reference.json()).base + "/mcp"))
        do {
            let r = try await m.sessions.call("u", tool: "no_such_tool", arguments: [:], settings: quick)
            // Some SDK versions answer an isError result instead of a JSON-RPC error: both are failures.
            #expect(CallResultText.isError(r))
        } catch {
            #expect(error.status == .failure)
        }
    }

    @Test func anExpiredSessionIsReinitializedOnce() async throws {
        let client = MCPClient(
            url: (try await Reference.sse()).base + "/mcp", options: .init(deadline: .now + .seconds(20)))
        _ = try await client.connect(hint: handshakeHint)
        let first = try #require(client.sessionID)
        // End the session behind the client's back, as a server restart would.
        let t = try #require(client.streamable)
        let consumer = ExchangeConsumer(expectedID: nil, log: nil, inbound: nil)
        let del = HTTPRequest(
            method: "DELETE", url: (try await Reference.sse()).base + "/mcp",
            headers: [(name: "Mcp-Session-Id", value: first), (name: "MCP-Protocol-Version", value: "2025-11-25")])
        _ = await consumer.run(del, deadline: .now + .seconds(5), maxBytes: 1 << 20)
        _ = t
        #expect(try await client.listTools().count > 0)
        #expect(client.sessionID != nil && client.sessionID != first)
        await client.close()
    }

    @Test func apiKeyAndBearerCredentialsAreSentAndRefusalIs77() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(
            ConnectorInput(
                name: "k", serverURL: (try await Reference.auth()).base + "/mcp", authType: .apiKey,
                secret: "k3y-s3cr3t-value"))
        _ = try m.storage.add(
            ConnectorInput(
                name: "b", serverURL: (try await Reference.bearer()).base + "/mcp", authType: .oauth,
                secret: "t0ken-s3cr3t"))
        _ = try m.storage.add(
            ConnectorInput(
                name: "wrong", serverURL: (try await Reference.auth()).base + "/mcp", authType: .apiKey,
                secret: "not-the-key"))
        _ = try m.storage.add(ConnectorInput(name: "none", serverURL: (try await Reference.auth()).base + "/mcp"))
        #expect(try await m.sessions.verify("k", settings: quick).ok)
        #expect(try await m.sessions.verify("b", settings: quick).ok)
        for name in ["wrong", "none"] {
            do {
                _ = try await m.sessions.verify(name, settings: quick)
                Issue.record("\(name) should have been refused")
            } catch {
                #expect(error.status == .permissionDenied)
                #expect(!error.message.contains("k3y-s3cr3t-value") && !error.message.contains("not-the-key"))
            }
            #expect(try m.storage.get(name).isVerified == false)
            #expect(try m.storage.get(name).lastError?.contains("401") == true)
        }
    }

    @Test func verboseTraceRedactsSecrets() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(
            ConnectorInput(
                name: "k", serverURL: (try await Reference.auth()).base + "/mcp", authType: .apiKey,
                secret: "k3y-s3cr3t-value"))
        let lines = Lines()
        var s = quick
        s.trace = { lines.append($0) }
        _ = try await m.sessions.call("k", tool: "echo", arguments: ["text": "k3y-s3cr3t-value"], settings: s)
        let all = lines.joined
        #expect(all.contains("> POST "))
        #expect(all.contains("X-API-Key: [redacted]"))
        #expect(!all.contains("k3y-s3cr3t-value"))
    }

    @Test func aDisabledConnectorIsUnavailable() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "d", serverURL: (try await Reference.sse()).base + "/mcp"))
        _ = try m.storage.setActive("d", false)
        do {
            _ = try await m.sessions.call("d", tool: "echo", arguments: ["text": "x"], settings: quick)
            Issue.record("a disabled connector must refuse")
        } catch {
            #expect(error.status == .unavailable)
        }
        #expect(try m.storage.targets([], all: true).isEmpty)
    }

    @Test func healthAndRefreshRunOverSeveralConnectorsInIdOrder() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "a", serverURL: (try await Reference.sse()).base + "/mcp"))
        _ = try m.storage.add(ConnectorInput(name: "b", serverURL: (try await Reference.legacy()).base + "/sse"))
        _ = try m.storage.add(ConnectorInput(name: "c", serverURL: "http://127.0.0.1:9/mcp"))  // discard port: refused
        let targets = try m.storage.targets([], all: true)
        let health = try await m.sessions.health(targets, settings: quick)
        #expect(health.map(\.name) == ["a", "b", "c"])
        #expect(health.map(\.ok) == [true, true, false])
        #expect(health[2].error?.status == .unavailable)
        #expect(health[0].identity?.protocolVersion != nil)
        let refresh = try await m.sessions.refresh(targets, settings: quick)
        #expect(refresh.map(\.ok) == [true, true, false])
        #expect(try m.storage.get("a").toolCount > 0)
        #expect(try m.storage.get("c").lastError != nil)
    }
}

/// Collects trace lines from any thread.
final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.withLock { lines.append(s) } }
    var joined: String { lock.withLock { lines.joined(separator: "\n") } }
}
