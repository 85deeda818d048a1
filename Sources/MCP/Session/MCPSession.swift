import Foundation

/// The one owner of a client session's exchanges with a server, whatever carries them: request ids, the table of
/// requests waiting for their answers (with their deadlines and cancellation), where the server's notifications
/// about them go, and the answers to the server's own requests (its handlers, within flood bounds counted per
/// request of ours). Channels (``MessageChannel``) only carry messages: they hand each one to ``inbound()``'s
/// functions as they read it.
///
/// One lock over an explicit state, not an actor: messages arrive synchronously on libcurl's thread and on a local
/// server's reader task, and each must be routed before the next is read (a flood stops its stream at once, a
/// request's answer is settled before its POST's transfer ends). An actor would cost a task hop per message and
/// lose that order. Nothing blocks under the lock; continuations are resumed after it is released.
package final class MCPSession: Sendable {
    /// A request's end: its answer, or why there is none. An enum of its own rather than `Result`: a generic
    /// instantiation over a new error type costs the runtime a scan of every protocol conformance record at its
    /// first use, on every `call` (0.28 M instructions, measured with callgrind).
    package enum Outcome: Sendable {
        case answer(JSONRPCMessage)
        case failure(MCPClientError)

        func get() throws(MCPClientError) -> JSONRPCMessage {
            switch self {
            case .answer(let m): return m
            case .failure(let e): throw e
            }
        }
    }

    /// A request of ours, from its send to its answer.
    fileprivate enum PendingState {
        /// Sent (or being sent); nobody waits yet.
        case expecting
        /// Its outcome came before its waiter.
        case arrived(Outcome)
        case waiting(Parked)
        /// Its waiter got its outcome; later ones (a late answer, a timer) change nothing.
        case settled
    }

    /// A waiter and the timer that gives up on it at its deadline; resuming it ends the timer too.
    fileprivate struct Parked {
        let continuation: CheckedContinuation<Outcome, Never>
        let timer: Task<Void, Never>

        func resume(_ r: Outcome) {
            timer.cancel()
            continuation.resume(returning: r)
        }
    }

    private struct State {
        var nextID = 1
        /// A list, not a dictionary: a handful of entries at most, and a dictionary keyed by JSONValue would cost
        /// a conformance scan (Hashable) at its first use on every `call`, as `Outcome` says.
        var pending = PendingTable()
        /// Where the notifications about the requests in flight go.
        var routes = NotificationRoutes()
        /// The channel in use and its generation: a channel replaced during negotiation cannot end its successor.
        var channel: (any MessageChannel)?
        var generation = 0
        /// Why the channel in use carries nothing more, once it does not.
        var ended: MCPClientError?
        /// The latest deadline of a request: answers to the server's requests are sent within it.
        var latestDeadline: ContinuousClock.Instant?
        /// Who hears the notifications no request in flight takes, and the ends of their streams (a watch).
        var listener: (@Sendable (SessionEvent) -> Void)?
        /// How a stream about no request ended while no one listened (told to the next listener).
        var unheardEnd: MCPClientError?
    }

    private let state = Locked(State())
    private let answerer: ServerRequestAnswerer
    /// What the client declares it can do at `initialize`, from the handlers registered.
    package let capabilities: JSONObject

    package init(handlers: ServerRequestHandlers = .unattended, maxInFlight: Int = 4, maxTotal: Int = 64) {
        answerer = ServerRequestAnswerer(maxInFlight: maxInFlight, maxTotal: maxTotal, handlers: handlers)
        capabilities = handlers.capabilities
    }

    /// Who answers the server's requests from now on: `serve` hands each request it relays to the handlers of the
    /// client it relays for, and back to the session's own after.
    package func answer(with handlers: ServerRequestHandlers) { answerer.use(handlers) }

    // MARK: - Channels

    /// Where a new channel delivers what it reads. Made before the channel (which keeps it), then
    /// ``use(_:)``: messages from an older channel are still handled, but its end no longer fails anything.
    func inbound() -> Inbound {
        let generation = state.withLock { s in
            s.generation += 1
            return s.generation
        }
        var inbound = Inbound(
            receive: { [weak self] message, stream in self?.receive(message, onStreamOf: stream) ?? false },
            ended: { [weak self] error in self?.channelEnded(error, generation: generation) })
        inbound.unrelatedStreamEnded = { [weak self] error in self?.tellListener(.ended(error)) }
        return inbound
    }

    /// Sets who hears the notifications no request in flight takes (see ``SessionEvent``); nil stops. A stream
    /// about no request that ended before anyone listened is told at once: a watch set up after it must not wait.
    package func listen(_ listener: (@Sendable (SessionEvent) -> Void)?) {
        let missed: MCPClientError? = state.withLock { s in
            s.listener = listener
            defer { s.unheardEnd = nil }
            return listener == nil ? nil : s.unheardEnd
        }
        if let missed, let listener { listener(.ended(missed)) }
    }

    private func tellListener(_ event: SessionEvent) {
        let listener: (@Sendable (SessionEvent) -> Void)? = state.withLock { s in
            if s.listener == nil, case .ended(let e) = event { s.unheardEnd = e }
            return s.listener
        }
        listener?(event)
    }

    /// A watch waits long after its last request: the server's requests meanwhile (a ping, roots/list) are answered
    /// until `deadline`, and get a fresh budget (the flood bound), as a request of the client's would give them.
    package func keepAnswering(until deadline: ContinuousClock.Instant) {
        state.withLock { $0.latestDeadline = max($0.latestDeadline ?? deadline, deadline) }
        answerer.requestStarted()
    }

    /// Makes `channel` (whose inbound is the latest made) the one requests and answers go through.
    func use(_ channel: (any MessageChannel)?) {
        state.withLock { s in
            s.channel = channel
            s.ended = nil
        }
    }

    /// The channel in use.
    var channel: (any MessageChannel)? { state.withLock { $0.channel } }

    /// A fresh request id, unique in the session.
    func allocateID() -> Int {
        state.withLock { s in
            defer { s.nextID += 1 }
            return s.nextID
        }
    }

    // MARK: - Requests of ours

    /// Sends request `message` (whose id is `id`) and returns the server's answer, or why there is none: the
    /// channel's failure, the channel's end, the deadline, or the caller's cancellation (then the server is told,
    /// `notifications/cancelled`). What the server says about it meanwhile goes to `route`.
    func request(
        _ message: JSONValue, id: JSONValue, route: NotificationRoute?, deadline: ContinuousClock.Instant
    ) async throws(MCPClientError) -> JSONRPCMessage {
        let start: Result<any MessageChannel, MCPClientError> = state.withLock { s in
            guard let c = s.channel else { return .failure(.notMCP("not connected")) }
            if let e = s.ended { return .failure(e) }
            s.pending[id] = .expecting
            if let route { s.routes.add(route, for: id) }
            s.latestDeadline = max(s.latestDeadline ?? deadline, deadline)
            return .success(c)
        }
        let channel = try start.get()
        answerer.requestStarted()
        defer {
            state.withLock { s in
                s.pending[id] = nil
                s.routes.remove(id)
            }
        }
        do {
            try await channel.send(message, requestID: id, deadline: deadline)
        } catch {
            settle(id, .failure(error))
        }
        let outcome = await wait(id, until: deadline, channel: channel)
        if case .failure(.transport(.cancelled)) = outcome, Task.isCancelled {
            await Self.tellCancelled(id, over: channel)
        }
        return try outcome.get()
    }

    /// Sends a notification, or an answer, through the channel in use.
    func notify(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        guard let channel else { throw .notMCP("not connected") }
        try await channel.send(message, requestID: nil, deadline: deadline)
    }

    /// The spec's `notifications/cancelled` for a request our caller gave up on, so the server may stop the work.
    /// Sent from a task of its own: the cancelled one would cancel the send too. Best effort, two seconds at most.
    static func tellCancelled(_ id: JSONValue, over channel: any MessageChannel) async {
        let note = JSONRPC.notification(
            method: "notifications/cancelled",
            params: .object(["requestId": id, "reason": "the client cancelled the request"]))
        await Task { try? await channel.send(note, requestID: nil, deadline: .now + .seconds(2)) }.value
    }

    /// Waits for `id`'s outcome: one that came already, or what comes before the deadline. The timer is made
    /// under the lock, so no outcome can come before it exists to be cancelled.
    private func wait(_ id: JSONValue, until deadline: ContinuousClock.Instant, channel: any MessageChannel) async
        -> Outcome
    {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
                let now: Outcome? = state.withLock { s in
                    switch s.pending[id] {
                    case .arrived(let o)?:
                        s.pending[id] = .settled
                        return o
                    case .expecting?:
                        if let e = s.ended { return .failure(e) }
                        // The timer holds the session until it fires or is cancelled (every resume cancels it).
                        let timer = Task {
                            try? await Task.sleep(until: deadline, clock: .continuous)
                            guard !Task.isCancelled else { return }
                            self.settle(id, .failure(channel.timeoutError()))
                        }
                        s.pending[id] = .waiting(Parked(continuation: c, timer: timer))
                        return nil
                    case .waiting?, .settled?, nil:
                        return .failure(.transport(.cancelled))
                    }
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            settle(id, .failure(.transport(.cancelled)))
        }
    }

    /// Delivers `id`'s outcome to its waiter, or keeps it for the waiter to come; the first outcome wins.
    private func settle(_ id: JSONValue, _ outcome: Outcome) {
        let parked: Parked? = state.withLock { s in
            switch s.pending[id] {
            case .expecting?:
                s.pending[id] = .arrived(outcome)
                return nil
            case .waiting(let p)?:
                s.pending[id] = .settled
                return p
            case .arrived?, .settled?, nil:
                return nil
            }
        }
        parked?.resume(outcome)
    }

    /// Settles every request in flight with `error` (the channel ended, or the server failed them all).
    private func settleAll(_ error: MCPClientError, andEnd: Bool, generation: Int? = nil) {
        let parked: [Parked] = state.withLock { s in
            if let generation, generation != s.generation { return [] }
            if andEnd, s.ended == nil { s.ended = error }
            var taken: [Parked] = []
            for id in s.pending.ids {
                switch s.pending[id]! {
                case .expecting: s.pending[id] = .arrived(.failure(error))
                case .waiting(let w):
                    s.pending[id] = .settled
                    taken.append(w)
                case .arrived, .settled: break
                }
            }
            return taken
        }
        for p in parked { p.resume(.failure(error)) }
    }

    private func channelEnded(_ error: MCPClientError, generation: Int) {
        settleAll(error, andEnd: true, generation: generation)
        if state.withLock({ $0.generation == generation }) { tellListener(.ended(error)) }
    }

    // MARK: - What the server sends

    /// One message from the server (see ``Inbound/receive``).
    private func receive(_ message: JSONRPCMessage, onStreamOf stream: JSONValue?) -> Bool {
        switch message {
        case .response(let id, _),
            .errorResponse(let id?, _) where id != .null:
            state.withLock { $0.routes.remove(id) }  // answered: no longer in flight
            settle(id, .answer(message))
        case .errorResponse(_, let e):
            // The server could not read one of our messages, so it cannot say which: on a shared stream, every
            // request fails; on a request's own stream, the channel finds that request unanswered.
            if stream == nil { settleAll(.rpc(e), andEnd: false) }
        case .notification(let method, let params):
            // Progress and log messages go to the request in flight they concern (on a request's own stream,
            // that request only); the rest (a resource updated, a list changed) to the listener, if any.
            let (route, listener) = state.withLock { s in
                (
                    stream.map { s.routes.route(of: $0, for: method, params) } ?? s.routes.route(for: method, params),
                    s.listener
                )
            }
            if let route {
                route.receive(method, params)
            } else {
                listener?(.notification(method: method, params: params))
            }
        case .request(let id, let method, let params):
            let deadline = state.withLock { $0.latestDeadline } ?? .now + .seconds(10)
            // Held strongly until sent (no weak reference made and dropped: see StdioSession.notify).
            return answerer.submit(id: id, method: method, params: params, deadline: deadline) { answer, until in
                try? await self.notify(answer, deadline: until)
            }
        }
        return true
    }
}

/// The requests in flight by id, in the order they were sent.
private struct PendingTable {
    private var entries: [(id: JSONValue, state: MCPSession.PendingState)] = []

    subscript(id: JSONValue) -> MCPSession.PendingState? {
        get { entries.first { $0.id == id }?.state }
        set {
            let i = entries.firstIndex { $0.id == id }
            switch (i, newValue) {
            case (let i?, let v?): entries[i].state = v
            case (let i?, nil): entries.remove(at: i)
            case (nil, let v?): entries.append((id, v))
            case (nil, nil): break
            }
        }
    }

    var ids: [JSONValue] { entries.map(\.id) }
}
