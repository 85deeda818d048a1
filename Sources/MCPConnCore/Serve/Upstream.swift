import Foundation

/// One connector behind `serve`: sessions opened at first use and kept open (their era remembered, their
/// connections kept alive), each request with its own deadline. An `MCPClient` serves one request at a time, so
/// concurrent requests to a remote connector use up to `maxRemoteSessions` sessions, opened as the load needs
/// them; a local server gets one session (one process: many servers keep state, a lock file, a browser, that a
/// second copy would fight over), and its requests take turns. A session that fails below the protocol (the
/// server went away, a timeout) is dropped, and the next request opens a new one.
///
/// Each request's deadline runs from its arrival, waiting for its turn included: behind a hung local server,
/// the requests queued after the first end at their own `--timeout`, not one `--timeout` after another.
actor Upstream {
    typealias Session = (client: MCPClient, redactor: Redactor)

    static let maxRemoteSessions = 8

    let connector: Connector
    private let sessions: ConnectorSessions
    private let settings: NetworkSettings
    private let limit: Int
    private var idle: [Session] = []
    /// Sessions that exist or are being opened (idle ones included).
    private var open = 0
    /// Requests waiting for a session, in arrival order, each resumed once: with a session, with a freed slot
    /// to open one in, or, at its deadline or cancellation, with nothing.
    private var waiting: [(ticket: Int, turn: CheckedContinuation<Turn, Never>)] = []
    private var tickets = 0

    /// What a request waiting for a session gets.
    private enum Turn {
        case session(Session)
        /// A slot is reserved for it: it opens a session.
        case open
        /// Its deadline passed, or it was cancelled, before its turn.
        case none
    }
    private var closing = false
    private var drained: [CheckedContinuation<Void, Never>] = []

    init(_ connector: Connector, sessions: ConnectorSessions, settings: NetworkSettings) {
        self.connector = connector
        self.sessions = sessions
        self.settings = settings
        limit = connector.isStdio ? 1 : Self.maxRemoteSessions
    }

    nonisolated var name: String { connector.name }

    /// A catalog's items; none when the server does not offer it (method not found).
    func list(_ catalog: Catalog) async -> Result<[JSONValue], MCPConnError> {
        await run(nil) { client, redactor throws(MCPClientError) in
            do throws(MCPClientError) {
                return try await catalog.fetchAll(client).map(redactor.redact)
            } catch {
                if case .rpc(let e) = error, e.code == JSONRPCError.methodNotFound { return [] }
                throw error
            }
        }
    }

    /// A request, its result as the server sent it; its notifications go to `notifications`. Both redacted. What the
    /// server asks meanwhile goes through `relay` (nil: the unattended answers).
    func request(
        _ method: String, _ params: JSONValue?, notifications: RequestNotifications? = nil, relay: Relay? = nil
    ) async -> Result<JSONValue, MCPConnError> {
        await run(relay) { client, redactor throws(MCPClientError) in
            redactor.redact(
                try await client.request(method, params, notifications: notifications?.redacted(by: redactor)))
        }
    }

    /// Ends every session (a local server's process with it), waiting for the requests using them.
    func close() async {
        closing = true
        while open > 0 {
            if let s = idle.popLast() {
                open -= 1
                await s.client.close()
            } else {
                await withCheckedContinuation { drained.append($0) }
            }
        }
    }

    /// An idle session, or a slot to open one in; when all are busy, waits for its turn until `deadline` or
    /// until the request is cancelled.
    private func take(until deadline: ContinuousClock.Instant) async -> Turn {
        if let s = idle.popLast() { return .session(s) }
        if open < limit {
            open += 1
            return .open
        }
        tickets += 1
        let ticket = tickets
        let timer = Task {
            try? await Task.sleep(until: deadline)
            await self.expire(ticket)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (turn: CheckedContinuation<Turn, Never>) in
                // On the actor: a cancellation before this line finds no ticket to expire, so it is seen here.
                if Task.isCancelled { turn.resume(returning: .none) } else { waiting.append((ticket, turn)) }
            }
        } onCancel: {
            Task { await self.expire(ticket) }
        }
    }

    private static func seconds(_ t: Double) -> String { t == t.rounded() ? String(Int(t)) : String(t) }

    /// Ends a request's wait for its turn, if it is still waiting.
    private func expire(_ ticket: Int) {
        guard let i = waiting.firstIndex(where: { $0.ticket == ticket }) else { return }
        waiting.remove(at: i).turn.resume(returning: .none)
    }

    /// Returns a session after use, or frees its slot (nil: it was ended, or never opened).
    private func give(_ session: Session?) {
        if !closing, !waiting.isEmpty {
            waiting.removeFirst().turn.resume(returning: session.map(Turn.session) ?? .open)
            return
        }
        if let session { idle.append(session) } else { open -= 1 }
        if closing {
            for d in drained { d.resume() }
            drained = []
        }
    }

    /// Runs `body` on a session; what it returns must be redacted with the redactor it is given (a server may
    /// echo the credential it was sent, and the client must never see it).
    private func run<T: Sendable>(_ relay: Relay?, _ body: (MCPClient, Redactor) async throws(MCPClientError) -> T)
        async -> Result<T, MCPConnError>
    {
        let timeout = Duration.milliseconds(Int(settings.timeout * 1000))
        let deadline = ContinuousClock.now + timeout
        let s: Session
        switch await take(until: deadline) {
        case .session(let taken): s = taken
        case .open:
            do throws(MCPConnError) {
                var remaining = settings
                remaining.timeout = max(0.001, Double((deadline - .now) / .milliseconds(1)) / 1000)
                s = try await sessions.openSession(connector, settings: remaining)
            } catch {
                give(nil)
                return .failure(error)
            }
        case .none:
            return .failure(
                MCPConnError(
                    .timeout,
                    "connector '\(connector.name)': timed out after \(Self.seconds(settings.timeout)) s waiting for its turn: its server is busy with earlier requests"
                ))
        }
        s.client.setDeadline(deadline)
        s.client.relay(to: relay?.handlers(redactor: s.redactor), inputRounds: relay?.inputRounds ?? true)
        do throws(MCPClientError) {
            let value = try await body(s.client, s.redactor)
            s.client.relay(to: nil)
            give(s)
            return .success(value)
        } catch {
            s.client.relay(to: nil)
            // A server's "no" or a request the client cancelled leaves the session as it is; anything else below
            // the protocol (the server went away, a timeout) ends it, and a later request opens a new one.
            switch error {
            case .rpc, .transport(.cancelled): give(s)
            default:
                await s.client.close()
                give(nil)
            }
            return .failure(sessions.sessionFailure(error, connector, s.redactor))
        }
    }
}

extension RequestNotifications {
    /// The same, with the connector's secrets taken out of what the server says (it may echo a credential).
    func redacted(by redactor: Redactor) -> RequestNotifications {
        guard !redactor.isEmpty else { return self }
        var n = self
        let receive = self.receive
        n.receive = { method, params in receive(method, params.map(redactor.redact)) }
        return n
    }
}
