import Foundation
import Testing

@testable import MCP

/// A channel in memory, as the swift-sdk's InMemoryTransport: what the session sends goes to `server`, which stands
/// for the other side and answers through ``deliver(_:onStreamOf:)`` when it likes: during the send (as a
/// streamable HTTP POST's own stream does) or later, from another task (as a local server's pipe does).
final class InMemoryChannel: MessageChannel {
    typealias Server = @Sendable (_ message: JSONValue, _ channel: InMemoryChannel) async -> Void
    let inbound: Inbound
    private let server: Server
    private let log = Locked<[JSONValue]>([])

    init(inbound: Inbound, server: @escaping Server) {
        self.inbound = inbound
        self.server = server
    }

    func send(_ message: JSONValue, requestID: JSONValue?, deadline: ContinuousClock.Instant)
        async throws(MCPClientError)
    {
        log.withLock { $0.append(message) }
        await server(message, self)
    }

    /// Hands `message` to the session as if read from the server; false when the session refuses it.
    @discardableResult
    func deliver(_ message: JSONValue, onStreamOf stream: JSONValue? = nil) -> Bool {
        inbound.receive(JSONRPCMessage(message)!, stream)
    }

    /// Everything the session sent, in order.
    var sent: [JSONValue] { log.withLock { $0 } }

    func close(deadline: ContinuousClock.Instant) async {}
    func setProtocolVersion(_ version: String) {}
}

/// A request the server makes of the client (JSONRPC.request takes our own integer ids only).
private func serverRequest(_ id: JSONValue, _ method: String, _ params: JSONValue? = nil) -> JSONValue {
    var o: JSONObject = ["jsonrpc": "2.0", "id": id, "method": .string(method)]
    if let params { o["params"] = params }
    return .object(o)
}

/// A session over an in-memory channel whose server is `server`.
private func connected(
    handlers: ServerRequestHandlers = .unattended, server: @escaping InMemoryChannel.Server
) -> (MCPSession, InMemoryChannel) {
    let session = MCPSession(handlers: handlers)
    let channel = InMemoryChannel(inbound: session.inbound(), server: server)
    session.use(channel)
    return (session, channel)
}

/// Answers every request at once, during its send, with `{"echo": <its method>}`.
private let echoServer: InMemoryChannel.Server = { message, channel in
    guard let id = message["id"], let method = message["method"]?.stringValue else { return }
    channel.deliver(JSONRPC.result(id: id, .object(["echo": .string(method)])), onStreamOf: id)
}

private func request(
    _ session: MCPSession, _ method: String, deadline: Duration = .seconds(60), route: NotificationRoute? = nil
)
    async throws(MCPClientError) -> JSONRPCMessage
{
    let id = session.allocateID()
    return try await session.request(
        JSONRPC.request(id: id, method: method, params: nil), id: .int(id), route: route, deadline: .now + deadline)
}

/// Waits until `condition` holds (polling the in-memory state, which changes on other tasks), at most 60 s.
private func until(_ condition: @Sendable () -> Bool) async {
    let end = ContinuousClock.now + .seconds(60)
    while !condition(), ContinuousClock.now < end { await Task.yield() }
}

@Suite("MCP session over an in-memory channel")
struct MCPSessionTests {
    @Test func eachRequestGetsItsOwnAnswerAndAFreshID() async throws {
        let (session, channel) = connected(server: echoServer)
        for method in ["ping", "tools/list", "tools/call"] {
            guard case .response(_, let result) = try await request(session, method) else {
                Issue.record("no result for \(method)")
                continue
            }
            #expect(result["echo"]?.stringValue == method)
        }
        #expect(channel.sent.compactMap { $0["id"]?.intValue } == [1, 2, 3])
    }

    @Test func anAnswerThatComesAfterTheSendIsSettledToo() async throws {
        // As on a pipe: the answer comes from another task, after the send returned.
        let (session, _) = connected { message, channel in
            guard let id = message["id"] else { return }
            Task { channel.deliver(JSONRPC.result(id: id, ["late": true])) }
        }
        guard case .response(_, let result) = try await request(session, "ping") else {
            Issue.record("no result")
            return
        }
        #expect(result["late"] == true)
    }

    @Test func anAnswerToNoPendingRequestIsDroppedAndTheRealOneStillCounts() async throws {
        let (session, _) = connected { message, channel in
            guard let id = message["id"] else { return }
            channel.deliver(JSONRPC.result(id: 999, ["stray": true]))
            channel.deliver(JSONRPC.result(id: id, ["mine": true]))
            channel.deliver(JSONRPC.result(id: id, ["twice": true]))  // the first answer wins
        }
        guard case .response(_, let result) = try await request(session, "ping") else {
            Issue.record("no result")
            return
        }
        #expect(result == ["mine": true])
    }

    @Test func aRequestUnansweredAtItsDeadlineFailsWithTheChannelsTimeout() async {
        let (session, _) = connected { _, _ in }
        do {
            _ = try await request(session, "ping", deadline: .milliseconds(50))
            Issue.record("answered")
        } catch {
            guard case .transport(.timeout) = error else { return #expect(Bool(false), "\(error)") }
        }
    }

    @Test func aCancelledRequestEndsAtOnceAndTheServerIsTold() async throws {
        let (session, channel) = connected { _, _ in }
        let waiting = Task { () -> MCPClientError? in
            do {
                _ = try await request(session, "tools/call")
                return nil
            } catch let e as MCPClientError { return e } catch { return nil }
        }
        await until { channel.sent.count == 1 }
        waiting.cancel()
        guard case .transport(.cancelled)? = await waiting.value else {
            Issue.record("not cancelled")
            return
        }
        let told = channel.sent.last
        #expect(told?["method"] == "notifications/cancelled")
        #expect(told?["params"]?["requestId"] == channel.sent.first?["id"])
    }

    @Test func theChannelsEndFailsTheRequestInFlightAndEveryLaterOne() async {
        let (session, channel) = connected { _, channel in
            channel.inbound.ended(.transport(.processFailed("the server exited")))
        }
        for _ in 0..<2 {
            do {
                _ = try await request(session, "ping")
                Issue.record("answered")
            } catch {
                guard case .transport(.processFailed(let why)) = error else { return #expect(Bool(false), "\(error)") }
                #expect(why == "the server exited")
            }
        }
        #expect(channel.sent.count == 1)  // the second never went out
    }

    @Test func theEndOfAReplacedChannelEndsNothing() async throws {
        let session = MCPSession()
        let old = InMemoryChannel(inbound: session.inbound(), server: echoServer)
        session.use(old)
        let new = InMemoryChannel(inbound: session.inbound(), server: echoServer)
        session.use(new)
        old.inbound.ended(.transport(.cancelled))
        guard case .response = try await request(session, "ping") else {
            Issue.record("no answer")
            return
        }
        #expect(old.sent.isEmpty && new.sent.count == 1)
    }

    @Test func anErrorWithoutAnIDOnASharedStreamFailsTheRequestsInFlight() async {
        let (session, _) = connected { message, channel in
            guard message["id"] != nil else { return }
            channel.deliver(JSONRPC.error(id: .null, code: JSONRPCError.parseError, message: "Parse error"))
        }
        do {
            _ = try await request(session, "ping")
            Issue.record("answered")
        } catch {
            guard case .rpc(let e) = error else { return #expect(Bool(false), "\(error)") }
            #expect(e.code == JSONRPCError.parseError)
        }
    }

    @Test func progressGoesToTheRequestWithItsTokenAndLogMessagesToTheOldest() async throws {
        let heard = Locked<[String]>([])
        let (session, channel) = connected { message, channel in
            guard let id = message["id"], message["method"] == "slow" else { return }
            channel.deliver(JSONRPC.result(id: id, [:]))
        }
        _ = channel
        // Two requests in flight; the server speaks about the second, then answers both.
        let first = NotificationRoute(progressToken: "t1") { m, p in
            heard.withLock { $0.append("1:\(m):\(p?["n"]?.intValue ?? -1)") }
        }
        let second = NotificationRoute(progressToken: "t2") { m, p in
            heard.withLock { $0.append("2:\(m):\(p?["n"]?.intValue ?? -1)") }
        }
        let a = Task { try await request(session, "wait", route: first) }
        await until { channel.sent.count == 1 }
        let b = Task { try await request(session, "wait", route: second) }
        await until { channel.sent.count == 2 }
        channel.deliver(
            JSONRPC.notification(method: "notifications/progress", params: ["progressToken": "t2", "n": 1]))
        channel.deliver(JSONRPC.notification(method: "notifications/message", params: ["n": 2]))
        channel.deliver(
            JSONRPC.notification(method: "notifications/progress", params: ["progressToken": "nobody's", "n": 3]))
        channel.deliver(JSONRPC.result(id: 2, [:]))
        channel.deliver(JSONRPC.result(id: 1, [:]))
        _ = try await (a.value, b.value)
        #expect(heard.withLock { $0 } == ["2:notifications/progress:1", "1:notifications/message:2"])
    }

    @Test func onARequestsOwnStreamOnlyThatRequestHearsItsNotifications() async throws {
        let heard = Locked<[String]>([])
        let (session, _) = connected { message, channel in
            guard let id = message["id"] else { return }
            channel.deliver(
                JSONRPC.notification(method: "notifications/message", params: ["level": "info"]), onStreamOf: id)
            channel.deliver(JSONRPC.result(id: id, [:]), onStreamOf: id)
        }
        let route = NotificationRoute(progressToken: nil) { m, _ in heard.withLock { $0.append(m) } }
        _ = try await request(session, "tools/call", route: route)
        #expect(heard.withLock { $0 } == ["notifications/message"])
    }

    @Test func unregisteredServerRequestsGetTheUnattendedAnswersAndDeclareNothing() async throws {
        let (session, channel) = connected { message, channel in
            guard let id = message["id"], message["method"] == "tools/call" else { return }
            #expect(channel.deliver(serverRequest("r", "roots/list"), onStreamOf: id))
            #expect(channel.deliver(serverRequest("s", "sampling/createMessage"), onStreamOf: id))
            channel.deliver(JSONRPC.result(id: id, [:]), onStreamOf: id)
        }
        #expect(session.capabilities.isEmpty)
        _ = try await request(session, "tools/call")
        await until { channel.sent.count == 3 }
        let answers: [String: JSONValue] = Dictionary(
            uniqueKeysWithValues: channel.sent.dropFirst().map { ($0["id"]?.stringValue ?? "", $0) })
        #expect(answers["r"]?["result"]?["roots"] == JSONValue.array([]))
        #expect(answers["s"]?["error"]?["code"]?.intValue == JSONRPCError.methodNotFound)
    }

    @Test func aRegisteredHandlerAnswersAndDeclaresItsCapability() async throws {
        var handlers = ServerRequestHandlers()
        handlers.on(Elicit.self) { params in
            var answer = Elicit.Result(action: "accept")
            answer.set("content", ["echo": params.message.map(JSONValue.string) ?? .null])
            return .success(answer)
        }
        handlers.on(CreateMessage.self) { _ in
            .failure(JSONRPCError(code: -1, message: "the user refused", data: nil))
        }
        #expect(handlers.capabilities.keys == ["elicitation", "sampling"])
        let (session, channel) = connected(handlers: handlers) { message, channel in
            guard let id = message["id"], message["method"] == "tools/call" else { return }
            channel.deliver(serverRequest(7, "elicitation/create", ["message": "name?"]))
            channel.deliver(serverRequest(8, "sampling/createMessage", [:]))
            channel.deliver(JSONRPC.result(id: id, [:]))
        }
        #expect(session.capabilities == ["elicitation": [:], "sampling": [:]])
        _ = try await request(session, "tools/call")
        await until { channel.sent.count == 3 }
        let answers = Dictionary(uniqueKeysWithValues: channel.sent.dropFirst().map { ($0["id"]!.intValue!, $0) })
        #expect(answers[7]?["result"] == ["action": "accept", "content": ["echo": "name?"]])
        #expect(answers[8]?["error"]?["message"] == "the user refused")
    }

    @Test func aFloodWithinOneRequestIsRefusedButEveryRequestGetsAFreshBudget() async throws {
        // 64 server requests per request of ours are answered, the 65th refused; the budget comes back with the
        // next request (issue 30's defect: it was the session's whole life).
        let refused = Locked(0)
        let (session, channel) = connected { message, channel in
            guard let id = message["id"], message["method"] == "tools/call" else { return }
            for i in 0..<65 {
                let asked = serverRequest(.string("\(id.compactText())-\(i)"), "ping")
                if !channel.deliver(asked, onStreamOf: id) { refused.withLock { $0 += 1 } }
            }
            channel.deliver(JSONRPC.result(id: id, [:]), onStreamOf: id)
        }
        for round in 1...3 {
            _ = try await request(session, "tools/call")
            // Answers still queued would count against the next request's budget: let them go out first.
            await until { channel.sent.count == round * (1 + 64) }
        }
        #expect(refused.withLock { $0 } == 3)
        let answers = channel.sent.filter { $0["method"] == nil && $0["id"]?.stringValue != nil }
        #expect(answers.count == 3 * 64)
        #expect(answers.allSatisfy { $0["result"] == JSONValue.object([:]) })
    }
}
