import Foundation

/// The handshake-era sessions of `serve --http`: an id given at `initialize`, the requests in flight in it (for
/// `notifications/cancelled`), and the event streams (GET) listening to it. At most `limit`: opening one more
/// forgets the one used least recently.
final class ServeSessions: Sendable {
    typealias Listener = @Sendable (JSONValue) -> Void

    private struct Session {
        var inFlight = InFlight()
        /// What serve asks the client for its connectors, waiting for the answers the client POSTs.
        var asked = DownstreamRequests()
        /// What the client declared at `initialize` that it answers.
        var capabilities: JSONObject
        var listeners: [Int: Listener] = [:]
        var lastUsed = ContinuousClock.now
        /// The client of `serve --http --clients` that opened it: only its requests may use it.
        var owner: String?
    }

    private struct State {
        var sessions: [String: Session] = [:]
        var nextKey = 0
    }

    static let limit = 1024
    /// Listeners are called outside the lock.
    private let state = Locked(State())

    var count: Int { state.withLock { $0.sessions.count } }

    /// A new session's id (32 random bytes, base64url), for a client that declared `capabilities`, and the id of
    /// the session forgotten to make room, if one was.
    func open(capabilities: JSONObject, owner: String? = nil) -> (id: String, forgotten: String?) {
        let id = BearerToken.generate()
        let forgotten: (String, Session)? = state.withLock { state in
            var oldest: (String, Session)?
            if state.sessions.count >= Self.limit,
                let key = state.sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key,
                let session = state.sessions.removeValue(forKey: key)
            {
                oldest = (key, session)
            }
            state.sessions[id] = Session(capabilities: capabilities, owner: owner)
            return oldest
        }
        forgotten?.1.asked.close()
        return (id, forgotten?.0)
    }

    /// What a request in a session needs: its requests in flight, and the client to relay questions to.
    struct Use {
        var inFlight: InFlight
        var asked: DownstreamRequests
        var capabilities: JSONObject
    }

    /// The session's requests in flight and client, its use recorded; nil for an unknown (or forgotten) session,
    /// or another client's.
    func use(_ id: String, owner: String? = nil) -> Use? {
        state.withLock { state in
            guard state.sessions[id]?.owner == owner else { return nil }
            state.sessions[id]?.lastUsed = .now
            return state.sessions[id].map { Use(inFlight: $0.inFlight, asked: $0.asked, capabilities: $0.capabilities) }
        }
    }

    /// Ends a session: its requests are cancelled, its questions to the client fail. False when there was none.
    func close(_ id: String, owner: String? = nil) -> Bool {
        let session = state.withLock { s in s.sessions[id]?.owner == owner ? s.sessions.removeValue(forKey: id) : nil }
        guard let session else { return false }
        session.asked.close()
        session.inFlight.cancelAll()
        return true
    }

    /// Adds an event stream to a session; its key, or nil for an unknown session.
    func subscribe(_ id: String, owner: String? = nil, _ listener: @escaping Listener) -> Int? {
        state.withLock { state in
            guard state.sessions[id] != nil, state.sessions[id]?.owner == owner else { return nil }
            state.nextKey += 1
            state.sessions[id]?.listeners[state.nextKey] = listener
            return state.nextKey
        }
    }

    func unsubscribe(_ id: String, _ key: Int) {
        _ = state.withLock { $0.sessions[id]?.listeners.removeValue(forKey: key) }
    }

    /// Sends a notification to one session's event streams (none open: it is lost, as the spec allows).
    func send(_ id: String, _ message: JSONValue) {
        let listeners = state.withLock { $0.sessions[id].map { Array($0.listeners.values) } ?? [] }
        for l in listeners { l(message) }
    }

    /// Sends a notification to every session's event streams.
    func broadcast(_ message: JSONValue) {
        let listeners = state.withLock { $0.sessions.values.flatMap { $0.listeners.values } }
        for l in listeners { l(message) }
    }
}
