/// The lifecycle of one `CurlTransfer`, after async-http-client's `Transaction.StateMachine`: a plain value,
/// changed only under its transfer's lock; each change returns what to do once the lock is released (tell the
/// consumer, wake the curl thread), so no consumer or continuation ever runs under a lock.
struct TransferStateMachine {
    enum State: Equatable {
        /// Created, not handed to the loop yet. `cancelled`: a cancel came first (a task cancelled before it
        /// started its transfer); starting it then ends it at once.
        case initialized(cancelled: Bool)
        /// Handed to the loop; the curl thread has not attached it yet.
        case queued
        /// On the multi handle (the curl thread owns it).
        case attached
        /// The consumer has its answer; the server may end the stream until `until`, then it is dropped.
        case lingering(until: ContinuousClock.Instant)
        /// Ended; its consumer was told so once, by whoever made this change.
        case finished
    }

    private(set) var state = State.initialized(cancelled: false)

    enum StartAction: Equatable {
        /// Queue it for the curl thread.
        case enqueue
        /// It ended before reaching libcurl: tell the consumer this failure.
        case finish(TransportFailure)
    }

    /// `unavailable`: why no transfer can run at all (libcurl could not be loaded), if so.
    mutating func start(unavailable: TransportFailure?) -> StartAction {
        guard case .initialized(let cancelled) = state else { preconditionFailure("a transfer starts once") }
        if let failure = cancelled ? .cancelled : unavailable {
            state = .finished
            return .finish(failure)
        }
        state = .queued
        return .enqueue
    }

    enum CancelAction: Equatable {
        /// Nothing to do now (not started yet, or already over).
        case nothing
        /// It was queued and never reached libcurl: tell the consumer `.cancelled` here and count it as ended.
        case finishQueued
        /// It is on the multi handle: the curl thread must take it off and tell the consumer.
        case detach
    }

    mutating func cancel() -> CancelAction {
        switch state {
        case .initialized:
            state = .initialized(cancelled: true)
            return .nothing
        case .queued:
            state = .finished
            return .finishQueued
        case .attached, .lingering: return .detach
        case .finished: return .nothing
        }
    }

    /// The curl thread picked it up; false when a cancel ended it meanwhile.
    mutating func attach() -> Bool {
        guard state == .queued else { return false }
        state = .attached
        return true
    }

    /// The consumer has its answer (`.done`): the stream gets until `until` to end.
    mutating func answered(lingerUntil until: ContinuousClock.Instant) {
        if state == .attached { state = .lingering(until: until) }
    }

    /// Ends it; true for the one caller that must tell the consumer.
    mutating func finish() -> Bool {
        if state == .finished { return false }
        state = .finished
        return true
    }

    /// When the server's time to end the stream runs out, if the answer was given.
    var lingerDeadline: ContinuousClock.Instant? {
        if case .lingering(let until) = state { return until }
        return nil
    }
}
