import Foundation
import Testing

@testable import MCP
@testable import MCPConnCore

/// Counts answers being sent at once; holds each send until the gate opens.
private actor SendRecorder {
    private(set) var current = 0
    private(set) var peak = 0
    private(set) var sent: [JSONValue] = []
    private var gateOpen = false
    private var gateWaiters: [CheckedContinuation<Void, Never>] = []
    private var enteredWaiter: (count: Int, c: CheckedContinuation<Void, Never>)?
    private var doneWaiter: (count: Int, c: CheckedContinuation<Void, Never>)?

    func send(_ answer: JSONValue) async {
        current += 1
        peak = max(peak, current)
        if let w = enteredWaiter, current >= w.count {
            enteredWaiter = nil
            w.c.resume()
        }
        if !gateOpen { await withCheckedContinuation { gateWaiters.append($0) } }
        current -= 1
        sent.append(answer)
        if let w = doneWaiter, sent.count >= w.count {
            doneWaiter = nil
            w.c.resume()
        }
    }

    func waitUntilInFlight(_ n: Int) async {
        if current >= n { return }
        await withCheckedContinuation { enteredWaiter = (n, $0) }
    }

    func openGate() {
        gateOpen = true
        for w in gateWaiters { w.resume() }
        gateWaiters.removeAll()
    }

    func waitUntilSent(_ n: Int) async {
        if sent.count >= n { return }
        await withCheckedContinuation { doneWaiter = (n, $0) }
    }
}

@Suite("Answers to server requests")
struct ServerRequestAnswererTests {
    @Test func answersAreBoundedInFlightAndInTotal() async {
        let answerer = ServerRequestAnswerer(maxInFlight: 4, maxTotal: 64)
        let recorder = SendRecorder()
        let deadline = ContinuousClock.now + .seconds(60)
        for i in 0..<64 {
            #expect(
                answerer.submit(id: .int(i), method: "roots/list", deadline: deadline) { a, _ in await recorder.send(a)
                })
        }
        // Counted as they are submitted: 4 workers, the rest waiting for them.
        #expect(answerer.counts == (inFlight: 4, queued: 60))
        // The 65th request is refused: the caller fails the exchange.
        #expect(!answerer.submit(id: 64, method: "ping", deadline: deadline) { a, _ in await recorder.send(a) })
        await recorder.waitUntilInFlight(4)
        await recorder.openGate()
        await recorder.waitUntilSent(64)
        #expect(await recorder.peak == 4)
        #expect(answerer.counts.queued == 0)
        let sent = await recorder.sent
        #expect(sent.count == 64)
        #expect(sent.allSatisfy { $0["result"]?["roots"] == .array([]) })
    }

    @Test func eachServerRequestGetsItsAnswer() {
        #expect(JSONRPC.answer(serverRequest: 1, method: "ping")["result"] == .object([:]))
        #expect(JSONRPC.answer(serverRequest: 2, method: "roots/list")["result"]?["roots"] == .array([]))
        #expect(JSONRPC.answer(serverRequest: 3, method: "elicitation/create")["result"]?["action"] == "decline")
        let sampling = JSONRPC.answer(serverRequest: "s", method: "sampling/createMessage")
        #expect(sampling["error"]?["code"] == .int(JSONRPCError.methodNotFound))
        #expect(sampling["id"] == "s")
    }
}
