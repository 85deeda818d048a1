import Foundation

/// Answers the requests a server makes of us mid-operation (ping, roots/list, elicitation, sampling) with the
/// session's handlers (``ServerRequestHandlers``), for every channel, within bounds a flooding server cannot push: at most `maxInFlight` answers travel at
/// once, queued answers are at most `maxTotal`, and past `maxTotal` requests since the client's latest request
/// began the server is refused (the caller fails the exchange). The budget is renewed by each request of the
/// client (``requestStarted()``), not once per session: a session `serve` keeps for hours answers the server's
/// requests of every call, not only of its first 64.
final class ServerRequestAnswerer: Sendable {
    private let state: Locked<State>
    private let maxInFlight: Int
    private let maxTotal: Int

    /// Delivers one answer (a POST), giving up at the deadline.
    typealias Send = @Sendable (JSONValue, ContinuousClock.Instant) async -> Void
    private typealias Item = (
        id: JSONValue, method: String, params: JSONValue?, deadline: ContinuousClock.Instant, send: Send
    )

    private struct State {
        /// Who answers: the session's handlers, or for the length of a request `serve` relays, its client's.
        var handlers: ServerRequestHandlers
        var accepted = 0
        var inFlight = 0
        var queue: [Item] = []
    }

    /// The error text when a server exceeds `maxTotal`.
    static let floodProblem = "the server sent too many requests"

    init(maxInFlight: Int = 4, maxTotal: Int = 64, handlers: ServerRequestHandlers = .unattended) {
        self.maxInFlight = maxInFlight
        self.maxTotal = maxTotal
        state = Locked(State(handlers: handlers))
    }

    /// Who answers the requests that come from now on (those already being answered keep theirs).
    func use(_ handlers: ServerRequestHandlers) { state.withLock { $0.handlers = handlers } }

    /// Queues the answer to server request `id`; false when the server has asked too much already.
    /// Never blocks: called on the curl thread.
    func submit(
        id: JSONValue, method: String, params: JSONValue? = nil, deadline: ContinuousClock.Instant,
        send: @escaping Send
    ) -> Bool {
        let item: Item = (id, method, params, deadline, send)
        enum Step { case refuse, queued, start }
        let step: Step = state.withLock { state in
            guard state.accepted < maxTotal else { return .refuse }
            state.accepted += 1
            guard state.inFlight < maxInFlight else {
                state.queue.append(item)
                return .queued
            }
            state.inFlight += 1
            return .start
        }
        switch step {
        case .refuse: return false
        case .queued: return true
        case .start:
            Task { await work(first: item) }
            return true
        }
    }

    /// A request of the client begins: the server may ask up to `maxTotal` more questions. Answers still queued
    /// count against the new budget, so a flood cannot outrun its bound by riding on many requests.
    func requestStarted() {
        state.withLock { $0.accepted = $0.inFlight + $0.queue.count }
    }

    /// Answers being sent and answers waiting, for tests.
    var counts: (inFlight: Int, queued: Int) { state.withLock { ($0.inFlight, $0.queue.count) } }

    /// One of at most `maxInFlight` workers: sends answers until the queue is empty.
    private func work(first: Item) async {
        var next: Item? = first
        while let item = next {
            if ContinuousClock.now < item.deadline {
                let handlers = state.withLock { $0.handlers }
                let answer = await handlers.answer(id: item.id, method: item.method, params: item.params)
                if ContinuousClock.now < item.deadline { await item.send(answer, item.deadline) }
            }
            next = state.withLock { state in
                if state.queue.isEmpty {
                    state.inFlight -= 1
                    return nil
                }
                return state.queue.removeFirst()
            }
        }
    }
}
