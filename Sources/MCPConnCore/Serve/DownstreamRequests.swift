import Foundation

/// The requests `serve` makes of its own client, relaying what a connector asks (elicitation, sampling, roots):
/// each sent with an id of serve's own and waiting for the client's answer, until the connector's request gives up
/// or is cancelled, when the client is told (`notifications/cancelled`). One table per client: stdio's, or an HTTP
/// session's, whose answers come back in POSTs of their own.
final class DownstreamRequests: Sendable {
    typealias Answer = Result<JSONValue, JSONRPCError>

    /// Questions waiting for their answers at once, at most: a connector that floods is refused past it.
    static let maxWaiting = 32

    private struct State {
        var next = 0
        var waiting: [String: CheckedContinuation<Answer, Never>] = [:]
        var closed = false
    }

    /// Continuations are resumed outside the lock.
    private let state = Locked(State())

    /// Sends `method` to the client through `send` and waits for its answer, until `deadline` or cancellation.
    func ask(
        _ method: String, _ params: JSONValue?, until deadline: ContinuousClock.Instant,
        send: @escaping @Sendable (JSONValue) -> Void
    ) async -> Answer {
        let id = state.withLock { s in
            s.next += 1
            return "mcpconn-\(s.next)"
        }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            if self.settle(id, .failure(Self.problem("the client did not answer \(method) in time"))) {
                send(Self.cancelled(id, "timed out"))
            }
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Answer, Never>) in
                let accepted = state.withLock { s in
                    guard !s.closed, s.waiting.count < Self.maxWaiting else { return false }
                    s.waiting[id] = c
                    return true
                }
                guard accepted else {
                    c.resume(returning: .failure(Self.problem("the client has too many questions waiting")))
                    return
                }
                send(JSONRPC.request(id: .string(id), method: method, params: params))
                // A cancellation before the question was registered found nothing to settle.
                if Task.isCancelled, settle(id, .failure(Self.problem("the request was cancelled"))) {
                    send(Self.cancelled(id, "cancelled"))
                }
            }
        } onCancel: {
            if settle(id, .failure(Self.problem("the request was cancelled"))) { send(Self.cancelled(id, "cancelled")) }
        }
    }

    /// Takes a message from the client: true when it answered one of serve's questions.
    func receive(_ message: JSONRPCMessage) -> Bool {
        switch message {
        case .response(let id, let result):
            guard let key = id.stringValue else { return false }
            return settle(key, .success(result))
        case .errorResponse(let id?, let error):
            guard let key = id.stringValue else { return false }
            return settle(key, .failure(error))
        default: return false
        }
    }

    /// The client is gone: every question fails, and no new one is asked.
    func close() {
        let all = state.withLock { s in
            s.closed = true
            defer { s.waiting = [:] }
            return Array(s.waiting.values)
        }
        for c in all { c.resume(returning: .failure(Self.problem("the client went away"))) }
    }

    /// Resumes question `id` with `answer`; false when it was no longer waiting.
    @discardableResult
    private func settle(_ id: String, _ answer: Answer) -> Bool {
        guard let c = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return false }
        c.resume(returning: answer)
        return true
    }

    private static func problem(_ text: String) -> JSONRPCError {
        JSONRPCError(code: JSONRPCError.internalError, message: text)
    }

    private static func cancelled(_ id: String, _ reason: String) -> JSONValue {
        JSONRPC.notification(
            method: "notifications/cancelled", params: .object(["requestId": .string(id), "reason": .string(reason)]))
    }
}
