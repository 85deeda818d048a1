import Foundation

/// The handshake-era sessions of `serve --http`: an id given at `initialize`, the requests in flight in it (for
/// `notifications/cancelled`), and the event streams (GET) listening to it. At most `limit`: opening one more
/// forgets the one used least recently.
final class ServeSessions: @unchecked Sendable {
    // Safe to share: `sessions` and `nextKey` are touched only under `lock`; listeners are called outside it.
    typealias Listener = @Sendable (JSONValue) -> Void

    private struct Session {
        var inFlight = InFlight()
        var listeners: [Int: Listener] = [:]
        var lastUsed = ContinuousClock.now
    }

    static let limit = 1024
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    private var nextKey = 0

    var count: Int { lock.withLock { sessions.count } }

    /// A new session's id: 32 random bytes, base64url.
    func open() -> String {
        let id = BearerToken.generate()
        lock.withLock {
            if sessions.count >= Self.limit, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                sessions[oldest.key] = nil
            }
            sessions[id] = Session()
        }
        return id
    }

    /// The session's requests in flight, its use recorded; nil for an unknown (or forgotten) session.
    func use(_ id: String) -> InFlight? {
        lock.withLock {
            sessions[id]?.lastUsed = .now
            return sessions[id]?.inFlight
        }
    }

    /// Ends a session: its requests are cancelled. False when there was none.
    func close(_ id: String) -> Bool {
        guard let session = lock.withLock({ sessions.removeValue(forKey: id) }) else { return false }
        session.inFlight.cancelAll()
        return true
    }

    /// Adds an event stream to a session; its key, or nil for an unknown session.
    func subscribe(_ id: String, _ listener: @escaping Listener) -> Int? {
        lock.withLock {
            guard sessions[id] != nil else { return nil }
            nextKey += 1
            sessions[id]?.listeners[nextKey] = listener
            return nextKey
        }
    }

    func unsubscribe(_ id: String, _ key: Int) {
        _ = lock.withLock { sessions[id]?.listeners.removeValue(forKey: key) }
    }

    /// Sends a notification to every session's event streams.
    func broadcast(_ message: JSONValue) {
        let listeners = lock.withLock { sessions.values.flatMap { $0.listeners.values } }
        for l in listeners { l(message) }
    }
}
