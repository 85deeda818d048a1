import Foundation

/// A request `serve` forwards for a 2026-07-28 client to a connector that asks questions mid-request (a
/// handshake-era connector's elicitation, sampling, roots requests). That era has no requests to the client: the
/// connector's request keeps running, its questions reach the client as an `input_required` result under a
/// `requestState` of serve's own, and the client's retry (`inputResponses` with that state) answers them; then
/// the next questions, or the connector's result.
///
/// One lock over an explicit state; continuations are resumed outside it.
final class InputExchange: Sendable {
    typealias Outcome = Result<JSONValue, JSONRPCError>
    typealias Answer = Result<JSONValue, JSONRPCError>

    struct Question: Sendable {
        let key: String
        let method: String
        let params: JSONValue?
    }

    /// What the client hears next: questions, or the connector's outcome.
    enum Step: Sendable {
        case questions([Question])
        case done(Outcome)
    }

    private struct State {
        var next = 0
        /// Asked by the connector, not yet told to the client.
        var untold: [Question] = []
        /// Told to the client (or about to be), waiting for its answers, by key.
        var parked: [String: CheckedContinuation<Answer, Never>] = [:]
        var outcome: Outcome?
        /// The client's request waiting for the next step.
        var waiter: CheckedContinuation<Step, Never>?
        var abandoned = false
        var work: Task<Void, Never>?
    }

    private let state = Locked(State())
    /// The `requestState` the client sends back: random, so only the client that was told it can answer.
    let token = InputExchange.prefix + BearerToken.generate()
    /// What the client's retry must repeat: its method and the name (tool, prompt, URI) it named.
    let method: String
    let name: String
    /// When serve stops waiting for the client: the connector's request's own deadline.
    let deadline: ContinuousClock.Instant

    static let prefix = "mcpconn-input-"

    init(method: String, name: String, deadline: ContinuousClock.Instant) {
        self.method = method
        self.name = name
        self.deadline = deadline
    }

    /// Starts the connector's request, whose handlers ask through ``ask(_:_:)``; its outcome ends the exchange.
    func start(_ work: @escaping @Sendable () async -> Outcome) {
        let task = Task { self.finish(await work()) }
        let abandoned = state.withLock { s in
            s.work = task
            return s.abandoned
        }
        if abandoned { task.cancel() }
    }

    /// A question of the connector (on the engine's answering task): told to the client at its next step, answered
    /// by its retry.
    func ask(_ method: String, _ params: JSONValue?) async -> Answer {
        await withCheckedContinuation { (c: CheckedContinuation<Answer, Never>) in
            enum Then {
                case refuse
                case wake(CheckedContinuation<Step, Never>, [Question])
                case wait
            }
            let then: Then = state.withLock { s in
                guard !s.abandoned else { return .refuse }
                s.next += 1
                let key = "q\(s.next)"
                s.parked[key] = c
                s.untold.append(Question(key: key, method: method, params: params))
                guard let waiter = s.waiter else { return .wait }
                s.waiter = nil
                defer { s.untold = [] }
                return .wake(waiter, s.untold)
            }
            switch then {
            case .refuse: c.resume(returning: .failure(Self.gone))
            case .wake(let waiter, let questions): waiter.resume(returning: .questions(questions))
            case .wait: break
            }
        }
    }

    /// What the client hears next: the questions asked since it last heard, else the outcome, else waits for
    /// either. Cancelled (the client gave up), the exchange is abandoned.
    func next() async -> Step {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Step, Never>) in
                let now: Step? = state.withLock { s in
                    if !s.untold.isEmpty {
                        defer { s.untold = [] }
                        return .questions(s.untold)
                    }
                    if let outcome = s.outcome { return .done(outcome) }
                    if s.abandoned { return .done(.failure(Self.cancelled)) }
                    s.waiter = c
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            abandon()
        }
    }

    /// The client's answers (its retry's `inputResponses`), by the keys it was told; a question it left out is
    /// answered with an error.
    func answer(_ responses: JSONObject) {
        let parked = state.withLock { s in
            defer { s.parked = [:] }
            return s.parked
        }
        for (key, c) in parked {
            if let response = responses[key] {
                c.resume(returning: .success(response))
            } else {
                c.resume(
                    returning: .failure(
                        JSONRPCError(code: JSONRPCError.invalidParams, message: "the client did not answer \(key)")))
            }
        }
    }

    /// Ends the exchange: the client gave up, or never came back in time. The connector's request is cancelled,
    /// its questions refused.
    func abandon() {
        let (parked, waiter, work) = state.withLock { s in
            s.abandoned = true
            defer {
                s.parked = [:]
                s.waiter = nil
            }
            return (Array(s.parked.values), s.waiter, s.work)
        }
        // Cancelled before its questions are refused, so the connector's request sees the cancellation as soon as it
        // goes on (the other order let it run on, uncancelled, now and then).
        work?.cancel()
        for c in parked { c.resume(returning: .failure(Self.gone)) }
        waiter?.resume(returning: .done(.failure(Self.cancelled)))
    }

    private func finish(_ outcome: Outcome) {
        let waiter = state.withLock { s in
            s.outcome = outcome
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: .done(outcome))
    }

    private static let gone = JSONRPCError(
        code: JSONRPCError.internalError, message: "the client of mcpconn serve did not come back to answer")
    private static let cancelled = JSONRPCError(
        code: JSONRPCError.internalError, message: "the client gave up on the request")

    /// The result a 2026-07-28 client gets for questions: `input_required` with serve's `requestState`.
    func inputRequired(_ questions: [Question]) -> JSONValue {
        var asked = JSONObject()
        for q in questions {
            var request: JSONObject = ["method": .string(q.method)]
            if let params = q.params { request["params"] = params }
            asked[q.key] = .object(request)
        }
        return .object([
            "resultType": "input_required", "inputRequests": .object(asked), "requestState": .string(token),
        ])
    }
}

/// The exchanges waiting for their clients' retries, by `requestState`; each is dropped (and abandoned) at its
/// deadline, and past `limit` the oldest goes first.
final class InputExchanges: Sendable {
    static let limit = 256

    private let table = Locked<[(token: String, exchange: InputExchange)]>([])

    /// Keeps `exchange` for its client's retry until its deadline.
    func keep(_ exchange: InputExchange) {
        let evicted: InputExchange? = table.withLock { t in
            t.append((exchange.token, exchange))
            return t.count > Self.limit ? t.removeFirst().exchange : nil
        }
        evicted?.abandon()
        Task {
            try? await Task.sleep(until: exchange.deadline)
            self.take(exchange.token)?.abandon()
        }
    }

    /// The exchange a retry's `requestState` names, taken out (a state is answered once). Compared in constant
    /// time: the state is a secret of the client it was told to.
    func take(_ token: String) -> InputExchange? {
        let given = Array(token.utf8)
        return table.withLock { t in
            guard let i = t.firstIndex(where: { BearerToken.same(given, Array($0.token.utf8)) }) else { return nil }
            return t.remove(at: i).exchange
        }
    }

    func abandonAll() {
        let all = table.withLock { t in
            defer { t = [] }
            return t.map(\.exchange)
        }
        for e in all { e.abandon() }
    }
}
