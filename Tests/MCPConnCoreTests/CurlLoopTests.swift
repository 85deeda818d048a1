import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

/// A consumer that counts how often each transfer is told it ended and hands the outcome to its waiter.
final class CountingConsumer: TransferConsumer, @unchecked Sendable {
    // Safe: `lock` guards every field; the continuations are resumed after it is released.
    private let lock = NSLock()
    private var finishedCalls = 0
    private var continuation: CheckedContinuation<TransportFailure?, Never>?
    private var headWaiter: CheckedContinuation<Void, Never>?
    private var headSeen = false

    var finishedCount: Int { lock.withLock { finishedCalls } }

    func install(_ c: CheckedContinuation<TransportFailure?, Never>) { lock.withLock { continuation = c } }

    func head(_ head: HTTPHead) -> TransferVerdict {
        let w = lock.withLock {
            headSeen = true
            defer { headWaiter = nil }
            return headWaiter
        }
        w?.resume()
        return .more
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict { .more }

    func finished(_ failure: TransportFailure?) {
        let c = lock.withLock {
            finishedCalls += 1
            defer { continuation = nil }
            return continuation
        }
        c?.resume(returning: failure)
    }

    /// Returns once the response head has arrived.
    func headArrived() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = lock.withLock {
                if !headSeen { headWaiter = c }
                return headSeen
            }
            if now { c.resume() }
        }
    }
}

@Suite("CurlLoop transfers: cancel, finish, drain", .timeLimit(.minutes(2)))
struct CurlLoopTests {
    /// A loop of the test's own, so other suites' transfers do not count in its in-flight number.
    let loop = CurlLoop()

    func transfer(_ url: String, deadline: Duration = .seconds(60)) -> (CurlTransfer, CountingConsumer) {
        let consumer = CountingConsumer()
        let t = CurlTransfer(
            request: HTTPRequest(
                method: "POST", url: url, headers: [("Content-Type", "application/json")],
                body: Array(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.utf8)),
            deadline: .now + deadline, maxBytes: 1 << 20, consumer: consumer)
        return (t, consumer)
    }

    func run(_ t: CurlTransfer, _ consumer: CountingConsumer) async -> TransportFailure? {
        await loop.perform(t) { consumer.install($0) }
    }

    @Test func aTransferCancelledBeforeItStartsEndsCancelledWithoutReachingTheServer() async throws {
        let server = try await Faults.local()
        let marker = UUID().uuidString
        let (t, consumer) = transfer(server.base + "/echo-headers?cancelled=\(marker)")
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }  // cancelled before the transfer starts
            return await run(t, consumer)
        }
        #expect(await task.value == .cancelled)
        #expect(consumer.finishedCount == 1)
        #expect(t.state == .finished)
        #expect(loop.inFlightCount == 0)  // never counted: it was never queued
        // A later transfer on the same loop reaches the server; the cancelled one never did.
        let (after, afterConsumer) = transfer(server.base + "/echo-headers?after=\(marker)")
        #expect(await run(after, afterConsumer) == nil)
        #expect(Faults.loggedHeaders(pathContaining: "after=\(marker)").count == 1)
        #expect(Faults.loggedHeaders(pathContaining: "cancelled=\(marker)").isEmpty)
    }

    @Test func aCancelAfterTheEndChangesNothing() async throws {
        let server = try await Faults.local()
        let (t, consumer) = transfer(server.base + "/echo-headers")
        #expect(await run(t, consumer) == nil)
        loop.cancel(t)
        loop.cancel(t)
        // Another transfer through the loop: any stray effect of those cancels would have happened by its end.
        let (next, nextConsumer) = transfer(server.base + "/echo-headers")
        #expect(await run(next, nextConsumer) == nil)
        #expect(consumer.finishedCount == 1)
        #expect(nextConsumer.finishedCount == 1)
        #expect(t.state == .finished)
        #expect(await loop.drain(until: .now + .seconds(30)))
    }

    @Test func aCancelledSlowRequestEndsCancelled() async throws {
        let server = try await Faults.local()
        // The server answers after 30 s, the deadline is a minute away: only the cancel can end it early.
        let (t, consumer) = transfer(server.base + "/slow?seconds=30")
        let task = Task { await run(t, consumer) }
        task.cancel()
        #expect(await task.value == .cancelled)
        #expect(consumer.finishedCount == 1)
        #expect(await loop.drain(until: .now + .seconds(30)))
    }

    @Test func aCancelMidStreamEndsCancelled() async throws {
        let server = try await Faults.local()
        let (t, consumer) = transfer(server.base + "/sse-never-ends")
        let task = Task { await run(t, consumer) }
        await consumer.headArrived()  // attached, answering, never ending
        #expect(t.state == .attached)
        task.cancel()
        #expect(await task.value == .cancelled)
        #expect(consumer.finishedCount == 1)
        #expect(await loop.drain(until: .now + .seconds(30)))
    }

    @Test func drainAfterAFailedAttachReturnsAtOnce() async throws {
        let (t, consumer) = transfer("http://127.0.0.1:9/")
        t.failsToAttach = true
        #expect(await run(t, consumer) == .unreachable("cannot create a curl handle"))
        #expect(consumer.finishedCount == 1)
        // True only when every transfer ended; false would mean it waited out the (long) deadline.
        #expect(await loop.drain(until: .now + .seconds(60)))
    }

}

/// The transfer lifecycle alone, without a loop.
@Suite("Transfer state machine")
struct TransferStateMachineTests {
    @Test func aTransferThatCannotStartIsFinishedOnce() {
        var m = TransferStateMachine()
        #expect(m.start(unavailable: .unreachable("no libcurl")) == .finish(.unreachable("no libcurl")))
        #expect(m.cancel() == .nothing)
        #expect(m.finish() == false)
    }

    @Test func theStateMachineEndsEachTransferOnce() {
        // Cancelled before start: starting it finishes it, and nothing else will.
        var early = TransferStateMachine()
        #expect(early.cancel() == .nothing)
        #expect(early.start(unavailable: nil) == .finish(.cancelled))
        #expect(early.attach() == false)
        #expect(early.finish() == false)
        // Cancelled while queued: the canceller finishes it; the curl thread then skips it.
        var queued = TransferStateMachine()
        #expect(queued.start(unavailable: nil) == .enqueue)
        #expect(queued.cancel() == .finishQueued)
        #expect(queued.attach() == false)
        #expect(queued.cancel() == .nothing)
        // Attached, answered, then cancelled: the curl thread detaches it and ends it once.
        var live = TransferStateMachine()
        _ = live.start(unavailable: nil)
        #expect(live.attach() == true)
        let until = ContinuousClock.now + .milliseconds(500)
        live.answered(lingerUntil: until)
        #expect(live.lingerDeadline == until)
        #expect(live.cancel() == .detach)
        #expect(live.finish() == true)
        #expect(live.finish() == false)
        #expect(live.cancel() == .nothing)
    }
}
