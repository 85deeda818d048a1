import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

/// The server's notifications about a request in flight: how transports route them, what MCPClient asks for in each
/// era, and what `serve` relays to its client.
// Serialized: its tests start local servers and wake the shared ones; run at once, on two cores, beside the rest
// of the suite, those starts pushed other tests past their deadlines.
@Suite("Notifications about a request", .serialized, .timeLimit(.minutes(2)))
struct RequestNotificationsTests {
    /// What a listener received, in order.
    final class Received: @unchecked Sendable {
        // Safe to share: `items` is touched only under `lock`.
        private let lock = NSLock()
        private var items: [(method: String, params: JSONValue?)] = []
        func append(_ method: String, _ params: JSONValue?) { lock.withLock { items.append((method, params)) } }
        var all: [(method: String, params: JSONValue?)] { lock.withLock { items } }
        var methods: [String] { all.map(\.method) }
    }

    static func listener(progress: Bool = true, logLevel: String? = "info") -> (RequestNotifications, Received) {
        let received = Received()
        return (RequestNotifications(progress: progress, logLevel: logLevel, receive: received.append), received)
    }

    static let stdioServer = TestServer.repoRoot.appendingPathComponent("Tests/Servers/stdio_server.py").path

    /// A connected client of the reference server over one transport and era. The deadline starts once a shared
    /// server is up (starting one is not the client's time).
    static func client(_ kind: String) async throws -> MCPClient {
        let url: String?
        switch kind {
        case "streamable-http", "handshake-http": url = try await Reference.sse().base + "/mcp"
        case "legacy-sse": url = try await Reference.legacy().base + "/sse"
        default: url = nil
        }
        let options = MCPClient.Options(deadline: .now + .seconds(30))
        let python = kind == "stdio" ? TestServer.python : TestServer.python1
        let client =
            url.map { MCPClient(url: $0, options: options) }
            ?? .stdio(StdioLaunch(command: python, arguments: [stdioServer]), options: options)
        _ = try await client.connect(hint: kind == "handshake-http" ? handshakeHint : nil)
        return client
    }

    @Test(arguments: ["streamable-http", "handshake-http", "legacy-sse", "stdio", "handshake-stdio"])
    func progressAndLogMessagesReachTheRequestBeforeItsAnswer(kind: String) async throws {
        let client = try await Self.client(kind)
        let (listener, received) = Self.listener()
        let r = try await client.callTool("notify_then_echo", arguments: ["text": "done"], notifications: listener)
        await client.close()
        #expect(r["content"]?.arrayValue?.first?["text"] == "done")
        // Both came before the answer was returned; the progress carries the client's own token.
        #expect(received.methods == ["notifications/message", "notifications/progress"], "\(received.all)")
        #expect(received.all.first?.params?["data"] == "working on it")
        let token = received.all.last?.params?["progressToken"]?.stringValue
        #expect(token?.hasPrefix("mcpconn-") == true, "\(received.all)")
    }

    /// A 2026-07-28 server sends log messages only to a request that opts in, at its level and above.
    @Test func aModernServerSendsLogMessagesOnlyAtTheLevelAskedFor() async throws {
        let client = try await Self.client("stdio")
        for (level, expected) in [
            (nil, ["notifications/progress"]), ("warning", ["notifications/progress"]),
            ("debug", ["notifications/message", "notifications/progress"]),
        ] {
            let (listener, received) = Self.listener(logLevel: level)
            _ = try await client.callTool("notify_then_echo", arguments: ["text": "x"], notifications: listener)
            #expect(received.methods == expected, "\(level ?? "none"): \(received.all)")
        }
        // Without a listener the request asks for nothing, and the notifications are skipped.
        #expect(try await client.callTool("notify_then_echo", arguments: ["text": "y"])["isError"] == false)
        await client.close()
    }

    @Test func theRequestAsksInItsMetaAlongsideTheEnvelope() {
        let asked = MCPClient.askingForNotifications(
            .object(["name": "t", "_meta": .object(["x": 1])]), progressToken: "mcpconn-3", logLevel: "info")
        let p = MCPClient.envelope(asked, version: "2026-07-28")
        #expect(p["_meta"]?["x"] == 1 && p["_meta"]?["progressToken"] == "mcpconn-3")
        #expect(p["_meta"]?["io.modelcontextprotocol/logLevel"] == "info")
        #expect(p["_meta"]?["io.modelcontextprotocol/protocolVersion"] == "2026-07-28")
        #expect(MCPClient.askingForNotifications(nil, progressToken: nil, logLevel: nil) == nil)
    }

    @Test func aSharedStreamRoutesProgressByTokenAndLogMessagesToTheOldestRequest() {
        var routes = NotificationRoutes()
        let (a, b) = (Received(), Received())
        routes.add(NotificationRoute(progressToken: "t1", receive: a.append), for: 1)
        routes.add(NotificationRoute(progressToken: "t2", receive: b.append), for: 2)
        routes.route(for: "notifications/progress", ["progressToken": "t2", "progress": 1])?.receive("p", nil)
        routes.route(for: "notifications/message", ["level": "info", "data": "x"])?.receive("m", nil)
        #expect(routes.route(for: "notifications/progress", ["progressToken": "t3", "progress": 1]) == nil)
        #expect(routes.route(for: "notifications/tools/list_changed", nil) == nil)
        #expect(a.methods == ["m"] && b.methods == ["p"])
        routes.remove(1)
        routes.route(for: "notifications/message", ["level": "info", "data": "y"])?.receive("m", nil)
        #expect(b.methods == ["p", "m"])
    }

    @Test func serveRelaysProgressUnderTheClientsTokenAndLogMessagesAtTheClientsLevel() throws {
        // A handshake-era client: progress under its token, log messages from info up.
        let handshake = NotificationRelay(["_meta": ["progressToken": "tok-1"]])
        let progress = try #require(
            handshake.relayed(
                "notifications/progress",
                ["progressToken": "mcpconn-7", "progress": 1, "total": 2, "message": "half", "_meta": ["secret": "x"]]))
        #expect(
            progress
                == JSONRPC.notification(
                    method: "notifications/progress",
                    params: ["progressToken": "tok-1", "progress": 1, "total": 2, "message": "half"]))
        let log: JSONValue = ["level": "warning", "logger": "l", "data": ["k": "v"]]
        #expect(
            handshake.relayed("notifications/message", log)
                == JSONRPC.notification(method: "notifications/message", params: log))
        #expect(handshake.relayed("notifications/message", ["level": "debug", "data": "x"]) == nil)
        #expect(handshake.relayed("notifications/resources/updated", ["uri": "x"]) == nil)
        let huge = String(repeating: "x", count: NotificationRelay.maxBytes)
        #expect(handshake.relayed("notifications/message", ["level": "error", "data": .string(huge)]) == nil)
        // A 2026-07-28 client hears log messages only when its request asks, from the level asked; its integer
        // token is kept as it is; a token that is neither a string nor an integer asks for nothing.
        let envelope: JSONObject = [MCPVocabulary.Meta.protocolVersion: "2026-07-28"]
        var meta = envelope
        meta["progressToken"] = 7
        let silent = NotificationRelay(["_meta": .object(meta)])
        #expect(silent.logLevel == nil && silent.progressToken == 7)
        meta[MCPVocabulary.Meta.logLevel] = "error"
        let asking = NotificationRelay(["_meta": .object(meta)])
        #expect(asking.relayed("notifications/message", ["level": "warning", "data": "x"]) == nil)
        #expect(asking.relayed("notifications/message", ["level": "error", "data": "x"]) != nil)
        meta["progressToken"] = ["not": "a token"]
        meta[MCPVocabulary.Meta.logLevel] = nil
        #expect(!NotificationRelay(["_meta": .object(meta)]).wantsAny)
    }

    /// The relay hands notifications over in order and all before it returns, whatever thread they come from.
    @Test func theRelayDeliversEveryNotificationBeforeTheAnswer() async {
        let relay = NotificationRelay(["_meta": ["progressToken": "c"]])
        let delivered = Received()
        let deliver: @Sendable (JSONValue) -> Void = { delivered.append("", $0) }
        let answer = await relay.run(to: deliver) { listener in
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread {
                    for i in 1...10 {
                        listener.receive("notifications/progress", ["progressToken": "u", "progress": .int(i)])
                    }
                    done.resume()
                }.start()
            }
            return "answer"
        }
        #expect(answer == "answer")
        #expect(delivered.all.map { $0.params?["params"]?["progress"] } == (1...10).map { .int($0) })
    }
}
