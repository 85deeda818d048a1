import Foundation

/// The outcome of one POST of a JSON-RPC message.
struct ExchangeResult: Sendable {
    var head: HTTPHead
    /// A short snippet of a non-MCP body, for error messages.
    var snippet: String
    /// Why the body could not be read as MCP, if it could not.
    var bodyProblem: String?
    /// True once the answer to our request came and went to the session (which keeps it).
    var answered = false
    /// True when an event stream ended cleanly before our answer: resumable if it named an event id.
    var streamEndedEarly = false
    /// The stream's last event id and requested reconnection delay, for resuming it (2025-11-25).
    var lastEventID: String?
    var retryMilliseconds: Int?
}

/// Reads a POST answer on the curl thread: a JSON body, or an SSE stream. Every message in it goes to the session
/// (`inbound`, marked as this request's own stream), which settles the answer to `expectedID`, answers the
/// server's requests and routes the notifications; this consumer notes whether the answer came. Without
/// `inbound` (the legacy transport's POSTs, answered on its stream) messages are skipped.
// @unchecked Sendable: one thread at a time touches its state. `run` installs the continuation before the transfer
// starts (CurlLoop.perform, whose start takes the loop's lock), and from then on only the curl thread calls
// head, body and finished, which resume it once.
final class ExchangeConsumer: TransferConsumer, @unchecked Sendable {
    private let expectedID: JSONValue?
    private let log: ProtocolLog?
    private let inbound: Inbound?
    private var continuation: CheckedContinuation<Result<ExchangeResult, TransportFailure>, Never>?
    private var result = ExchangeResult(head: HTTPHead(), snippet: "", bodyProblem: nil)
    private enum Mode { case json, sse, other }
    private var mode = Mode.other
    private var buffer: [UInt8] = []
    private var sse = SSEParser()

    init(expectedID: JSONValue?, log: ProtocolLog?, inbound: Inbound?) {
        self.expectedID = expectedID
        self.log = log
        self.inbound = inbound
    }

    /// Runs `request` and waits for its answer.
    func run(_ request: HTTPRequest, deadline: ContinuousClock.Instant, maxBytes: Int) async -> Result<
        ExchangeResult, TransportFailure
    > {
        let transfer = CurlTransfer(request: request, deadline: deadline, maxBytes: maxBytes, consumer: self)
        return await CurlLoop.perform(transfer) { continuation = $0 }
    }

    private func resume(_ r: Result<ExchangeResult, TransportFailure>) {
        continuation?.resume(returning: r)
        continuation = nil
    }

    func head(_ head: HTTPHead) -> TransferVerdict {
        result.head = head
        log?.response(head)
        if (200..<300).contains(head.status) {
            switch head.mediaType {
            case "application/json": mode = .json
            case "text/event-stream": mode = .sse
            default: mode = .other
            }
        }
        return .more
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict {
        switch mode {
        case .json:
            buffer.append(contentsOf: bytes)
            return .more
        case .other:
            // Enough of an error body to read a JSON-RPC error from; the rest is not worth keeping.
            if buffer.count < 65536 { buffer.append(contentsOf: bytes.prefix(65536 - buffer.count)) }
            return .more
        case .sse:
            for event in sse.feed(bytes) {
                log?.body(event.data, event: event.event)
                // An event without data carries only an id to resume from (a "priming" event): no message.
                guard event.event == "message", !event.data.isEmpty else { continue }
                if take(Array(event.data.utf8)) { return .done }
                if result.bodyProblem == ServerRequestAnswerer.floodProblem { return .stop }
            }
            if sse.overflowed {
                result.bodyProblem = "an event exceeded the size cap"
                return .stop
            }
            return .more
        }
    }

    /// Handles one JSON-RPC payload; true when it held our answer.
    private func take(_ bytes: [UInt8]) -> Bool {
        guard let messages = JSONRPCMessage.parseAll(bytes) else {
            result.bodyProblem = "the server sent something that is not JSON-RPC 2.0"
            return false
        }
        guard let inbound else { return false }
        var found = false
        for m in messages {
            if !inbound.receive(m, expectedID), case .request = m {
                result.bodyProblem = ServerRequestAnswerer.floodProblem
                return false
            }
            if let expectedID, m.responseID == expectedID {
                result.answered = true
                found = true
            }
        }
        if found { resume(.success(result)) }
        return found
    }

    func finished(_ failure: TransportFailure?) {
        guard continuation != nil else { return }
        if let failure {
            resume(.failure(failure))
            return
        }
        switch mode {
        case .json:
            log?.body(String(decoding: buffer, as: UTF8.self))
            if !buffer.isEmpty, !take(buffer), result.bodyProblem == nil, expectedID != nil {
                result.bodyProblem = "the JSON answer holds no response to request \(expectedID!.compactText())"
            }
        case .sse:
            result.lastEventID = sse.lastEventID
            result.retryMilliseconds = sse.retryMilliseconds
            if result.bodyProblem == nil, expectedID != nil {
                result.bodyProblem = "the event stream ended before the response"
                result.streamEndedEarly = true
            }
        case .other:
            result.snippet = String(decoding: buffer, as: UTF8.self)
            if !buffer.isEmpty { log?.body(result.snippet) }
        }
        resume(.success(result))
    }
}

/// Reads the stream a client may open with GET for messages unrelated to its POSTs (streamable HTTP): the
/// server's own requests (some servers send elicitation and sampling only there) go to the session.
/// Runs on the curl thread in the background; `waitForHead` lets a caller know the server has it open.
final class ListenConsumer: TransferConsumer, Sendable {
    /// The parser (fed only on the curl thread, so its lock is never contended there), whether the head came,
    /// and who waits for it.
    private struct State {
        var sse = SSEParser()
        var headSeen = false
        var waiter: CheckedContinuation<Void, Never>?
        var timer: Task<Void, Never>?
        /// The status of an answer that was no event stream.
        var refused: Int?
    }
    private let state = Locked(State())
    private let log: ProtocolLog?
    private let inbound: Inbound

    init(log: ProtocolLog?, inbound: Inbound) {
        self.log = log
        self.inbound = inbound
    }

    func head(_ head: HTTPHead) -> TransferVerdict {
        log?.response(head)
        release()
        // 405 (the server offers no such stream) or anything but an event stream: nothing to listen to.
        let listening = (200..<300).contains(head.status) && head.mediaType == "text/event-stream"
        if !listening { state.withLock { $0.refused = head.status } }
        return listening ? .more : .stop
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict {
        let (events, overflowed) = state.withLock { s in (s.sse.feed(bytes), s.sse.overflowed) }
        for event in events {
            log?.body(event.data, event: event.event)
            guard event.event == "message", !event.data.isEmpty,
                let messages = JSONRPCMessage.parseAll(Array(event.data.utf8))
            else { continue }
            // Requests and notifications; a response has no place on a stream about no request.
            for m in messages where !m.isResponse && !inbound.receive(m, Inbound.noRequest) {
                log?.note("the server's GET stream: \(ServerRequestAnswerer.floodProblem); closing it")
                return .stop
            }
        }
        return overflowed ? .stop : .more
    }

    func finished(_ failure: TransportFailure?) {
        release()
        if let status = state.withLock({ $0.refused }) {
            inbound.unrelatedStreamEnded(.http(status: status, detail: "no event stream"))
        } else {
            inbound.unrelatedStreamEnded(.transport(failure ?? .unreachable("the server ended its event stream")))
        }
    }

    private func release() {
        let (w, t) = state.withLock { s in
            s.headSeen = true
            defer { (s.waiter, s.timer) = (nil, nil) }
            return (s.waiter, s.timer)
        }
        t?.cancel()
        w?.resume()
    }

    /// Returns once the response head has come (or the stream ended), or at `deadline`.
    func waitForHead(until deadline: ContinuousClock.Instant) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { s in
                if s.headSeen { return true }
                s.waiter = c
                s.timer = Task { [weak self] in
                    guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
                    self?.release()
                }
                return false
            }
            if now { c.resume() }
        }
    }
}
