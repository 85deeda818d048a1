import Foundation

/// One `tools/call` through `serve`, as the audit trail and the metrics see it (issue 26): made on the call's
/// path from what is already at hand, and handed to ``CallRecorder``s; everything that costs (the arguments'
/// digest, the result's size, a store write) is theirs to do, off the call's path.
package struct CallRecord: Sendable {
    /// What became of the call, as recorded.
    package enum Outcome: String, Sendable, CaseIterable {
        /// The tool ran and its result is not an error.
        case ok
        /// The tool ran, or was tried, and its result is an error (`isError`, or the connector failed).
        case toolError = "tool_error"
        /// Refused before reaching the connector: the client's rules, the connector's allow-list, pinned mode, an
        /// unknown tool.
        case refused
        /// Refused because its arguments carried a value sealed in the store (a credential).
        case secretRefused = "secret_refused"
        /// The tool ran; a value sealed in the store was cut out of its result.
        case redacted
        /// The connector asked for input (2026-07-28's `input_required`), which went back to the client.
        case inputRequired = "input_required"
    }

    package var time: Date
    /// The client of `serve --http --clients` (its name), nil for serve's single token or stdio.
    package var client: String?
    /// The connector's name; empty when the tool named no connector's.
    package var connector: String
    /// The tool's name as the connector knows it (as the client asked, when no connector had it).
    package var tool: String
    package var arguments: JSONValue?
    package var outcome: Outcome
    package var milliseconds: Int
    /// The result (or error) returned to the client, for its size.
    package var answer: JSONValue?
    /// The connector could not answer (unreachable, timed out, broken exchange), as opposed to a tool that ran
    /// and said `isError`: the metrics' upstream health.
    package var upstreamFailed = false

    package init(
        time: Date, client: String?, connector: String, tool: String, arguments: JSONValue?, outcome: Outcome,
        milliseconds: Int, answer: JSONValue?
    ) {
        self.time = time
        self.client = client
        self.connector = connector
        self.tool = tool
        self.arguments = arguments
        self.outcome = outcome
        self.milliseconds = milliseconds
        self.answer = answer
    }
}

/// Gets every ``CallRecord`` of a `serve` (the audit writer, the metrics). Called on the call's path, after the
/// answer is made: it must return at once (queue, count), never wait.
package typealias CallRecorder = @Sendable (CallRecord) -> Void

/// The recorded calls under way, so that serve's end can wait for their records before the audit trail writes its
/// last rows (a call answered as serve stops is a row too).
final class RecordedCalls: Sendable {
    private struct State {
        var running = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Locked(State())

    func started() { state.withLock { $0.running += 1 } }

    func ended() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.running -= 1
            guard s.running == 0 else { return [] }
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    /// Returns once no recorded call is under way, or once the waiting task is cancelled.
    func none() async {
        let id = state.withLock { s in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now: Bool = state.withLock { s in
                    if s.running == 0 || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
