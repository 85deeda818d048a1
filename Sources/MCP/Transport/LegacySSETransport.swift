import Foundation

/// The HTTP+SSE transport of MCP 2024-11-05: a long-lived GET event stream carries the server's messages;
/// the client POSTs its own to the endpoint the stream announces first.
///
/// Safe to share: what changes after init (`session`) is read and written only under `lock`.
final class LegacySSETransport: MCPTransport, @unchecked Sendable {
    private let credentials: CredentialScope
    private let settings: TransportSettings
    private let lock = NSLock()
    private var session: Session

    /// The stream's URL (after redirects), its consumer and transfer, and the endpoint it announced.
    private struct Session {
        var url: String
        var stream: StreamConsumer
        var transfer: CurlTransfer?
        var endpoint: String?
    }

    init(url: String, settings: TransportSettings) {
        credentials = CredentialScope(serverURL: url)
        self.settings = settings
        session = Session(url: url, stream: StreamConsumer(log: settings.log, onServerRequest: { _, _ in false }))
    }

    func setProtocolVersion(_ version: String) {}

    private var stream: StreamConsumer { lock.withLock { session.stream } }

    private func credentials(for url: String) -> [(name: String, value: String)] {
        credentials.headers(settings.credentialHeaders, for: url)
    }

    /// Opens the event stream (following redirects, ``RedirectState``) and waits for its `endpoint` event.
    func connect(deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        var redirects = RedirectState(start: lock.withLock { session.url })
        while true {
            let url = lock.withLock { session.url }
            // The server's requests are answered through the operation's bounded answerer.
            let stream = StreamConsumer(log: settings.log) { [weak self] id, method in
                guard let self else { return false }
                return self.settings.answerer.submit(id: id, method: method, deadline: deadline) {
                    [weak self] answer, until in
                    try? await self?.notify(answer, deadline: until)
                }
            }
            let req = HTTPRequest(
                method: "GET", url: url,
                headers: [(name: "Accept", value: "text/event-stream"), (name: "Cache-Control", value: "no-cache")]
                    + credentials(for: url), tls: settings.tls)
            settings.log?.request(req)
            // The stream lives as long as the session; the requests on it have their own deadlines.
            let t = CurlTransfer(
                request: req, deadline: deadline + .seconds(3600), maxBytes: settings.maxBytes, consumer: stream)
            lock.withLock {
                session.stream = stream
                session.transfer = t
            }
            CurlLoop.shared.start(t)
            switch try await stream.waitForEndpoint(deadline: deadline) {
            case .redirect(let location):
                let next = try redirects.follow(location, from: url)
                lock.withLock { session.url = next }
            case .endpoint(let path):
                guard let resolved = Origin.resolve(path, against: url), Origin(resolved) == Origin(url) else {
                    throw .notMCP("the SSE endpoint event points to another origin ('\(path)')")
                }
                lock.withLock { session.endpoint = resolved }
                return
            }
        }
    }

    /// The answer and the notifications about the request come on the session's one stream.
    func request(
        _ message: JSONValue, id: JSONValue, deadline: ContinuousClock.Instant, notifications: NotificationRoute?
    ) async throws(MCPClientError) -> JSONRPCMessage {
        let stream = self.stream
        stream.expect(id, notifications: notifications)
        defer { stream.forget(id) }
        try await post(message, deadline: deadline)
        return try await stream.wait(for: id, deadline: deadline)
    }

    func notify(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        try await post(message, deadline: deadline)
    }

    private func post(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        let (endpoint, url) = lock.withLock { (session.endpoint, session.url) }
        guard let endpoint else { throw .notMCP("no SSE endpoint") }
        let req = HTTPRequest(
            method: "POST", url: endpoint,
            headers: [(name: "Content-Type", value: "application/json")] + credentials(for: url),
            body: message.compactBytes(), tls: settings.tls)
        settings.log?.request(req)
        let consumer = ExchangeConsumer(expectedID: nil, log: settings.log, onServerRequest: { _, _ in true })
        switch await consumer.run(req, deadline: deadline, maxBytes: 1024 * 1024) {
        case .failure(let f): throw .transport(f)
        case .success(let r):
            guard (200..<300).contains(r.head.status) else {
                if r.head.status == 404 { throw .sessionExpired }
                throw .http(status: r.head.status, detail: StreamableHTTPTransport.detail(r))
            }
        }
    }

    func close(deadline: ContinuousClock.Instant) async {
        let transfer = lock.withLock {
            defer { session.transfer = nil }
            return session.transfer
        }
        if let transfer { CurlLoop.shared.cancel(transfer) }
    }
}

/// Reads the legacy event stream on the curl thread and hands messages to waiting requests, and the
/// notifications about them to their routes (see `NotificationRoutes`).
///
/// Safe to share: the parser is used only on the curl thread; everything else that changes is under `lock`,
/// and waiters are resumed after it is released.
final class StreamConsumer: TransferConsumer, @unchecked Sendable {
    private let lock = NSLock()
    private let log: ProtocolLog?
    private let onServerRequest: ServerRequestHandler
    private var parser = SSEParser()
    private var endpointWaiter: Parked<StreamStart>?
    private var start: StreamStart?
    private var answers: [JSONValue: JSONRPCMessage] = [:]
    private var waiters: [JSONValue: Parked<JSONRPCMessage>] = [:]
    private var expected: Set<JSONValue> = []
    private var routes = NotificationRoutes()
    private var ended: MCPClientError?

    /// `onServerRequest` answers a request the server made on the stream; false when it refuses (a flood).
    init(log: ProtocolLog?, onServerRequest: @escaping ServerRequestHandler) {
        self.log = log
        self.onServerRequest = onServerRequest
    }

    /// A waiter and the timer that gives up on it at its deadline; resuming it ends the timer too.
    private struct Parked<T: Sendable> {
        let continuation: CheckedContinuation<Result<T, MCPClientError>, Never>
        let timer: Task<Void, Never>

        func resume(_ r: Result<T, MCPClientError>) {
            timer.cancel()
            continuation.resume(returning: r)
        }
    }

    func head(_ head: HTTPHead) -> TransferVerdict {
        log?.response(head)
        if [301, 302, 303, 307, 308].contains(head.status), let location = head.value("Location") {
            settle(.redirect(location))
            return .stop
        }
        if !(200..<300).contains(head.status) {
            fail(
                head.status == 401 || head.status == 403 || head.status >= 500
                    ? .http(status: head.status, detail: "")
                    : .notMCP("GET for the SSE stream answered HTTP \(head.status)"))
            return .stop
        }
        if head.mediaType != "text/event-stream" {
            fail(
                .notMCP(
                    "GET for the SSE stream answered \(head.mediaType.isEmpty ? "no content type" : head.mediaType)"))
            return .stop
        }
        return .more
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict {
        for e in parser.feed(bytes) {
            log?.body(e.data, event: e.event)
            if e.event == "endpoint" {
                settle(.endpoint(e.data.trimmingCharacters(in: .whitespacesAndNewlines)))
                continue
            }
            guard e.event == "message", let msgs = JSONRPCMessage.parseAll(Array(e.data.utf8)) else { continue }
            for m in msgs {
                if case .request(let id, let method, _) = m, !onServerRequest(id, method) {
                    fail(.notMCP(ServerRequestAnswerer.floodProblem))
                    return .stop
                }
                if case .notification(let method, let params) = m {
                    lock.withLock { routes.route(for: method, params) }?.receive(method, params)
                }
                guard let id = m.responseID else { continue }
                let w: Parked<JSONRPCMessage>? = lock.withLock {
                    routes.remove(id)  // answered: no longer in flight
                    if let w = waiters.removeValue(forKey: id) { return w }
                    if expected.contains(id) { answers[id] = m }
                    return nil
                }
                w?.resume(.success(m))
            }
        }
        if parser.overflowed {
            fail(.transport(.oversized(Int(parser.maxEventBytes))))
            return .stop
        }
        return .more
    }

    func finished(_ failure: TransportFailure?) {
        fail(failure.map { .transport($0) } ?? .notMCP("the server closed the SSE stream"))
    }

    private func fail(_ error: MCPClientError) {
        lock.lock()
        if ended == nil { ended = error }
        let ws = waiters
        waiters.removeAll()
        let ew = endpointWaiter
        endpointWaiter = nil
        lock.unlock()
        for w in ws.values { w.resume(.failure(error)) }
        ew?.resume(.failure(error))
    }

    private func settle(_ s: StreamStart) {
        lock.lock()
        if start == nil { start = s }
        let w = endpointWaiter
        endpointWaiter = nil
        lock.unlock()
        w?.resume(.success(s))
    }

    /// Keeps the answer to `id` for its waiter, and routes the notifications about it, until `forget`.
    func expect(_ id: JSONValue, notifications: NotificationRoute?) {
        lock.withLock {
            expected.insert(id)
            if let notifications { routes.add(notifications, for: id) }
        }
    }

    /// The request is over, however it ended: nothing more is kept or routed for it.
    func forget(_ id: JSONValue) {
        lock.withLock {
            expected.remove(id)
            answers[id] = nil
            routes.remove(id)
        }
    }

    func waitForEndpoint(deadline: ContinuousClock.Instant) async throws(MCPClientError) -> StreamStart {
        try await waitFor(
            deadline: deadline, take: { start }, park: { endpointWaiter = $0 },
            unpark: { consumer in
                defer { consumer.endpointWaiter = nil }
                return consumer.endpointWaiter
            })
    }

    func wait(for id: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) -> JSONRPCMessage {
        try await waitFor(
            deadline: deadline,
            take: {
                expected.remove(id)
                return answers.removeValue(forKey: id)
            },
            park: { waiters[id] = $0 }, unpark: { $0.waiters.removeValue(forKey: id) })
    }

    /// Waits for something the stream delivers later. Under the lock, `take` returns it if it has come;
    /// otherwise `park` keeps the waiter for the curl thread to resume, and at the deadline its timer `unpark`s
    /// it (nil if it was resumed meanwhile) to resume it with a timeout. The timer is made under the lock, so
    /// no resume can come before it exists to be cancelled.
    private func waitFor<T: Sendable>(
        deadline: ContinuousClock.Instant, take: () -> T?,
        park: (Parked<T>) -> Void,
        unpark: @escaping @Sendable (StreamConsumer) -> Parked<T>?
    ) async throws(MCPClientError) -> T {
        let r: Result<T, MCPClientError> = await withCheckedContinuation { c in
            lock.lock()
            if let value = take() {
                lock.unlock()
                c.resume(returning: .success(value))
            } else if let e = ended {
                lock.unlock()
                c.resume(returning: .failure(e))
            } else {
                // The timer holds the consumer until it fires or is cancelled (every resume cancels it): no weak
                // reference, whose side table a process exiting with the cancelled timer not yet unwound left
                // behind (LeakSanitizer reported it after every refused flood).
                let timer = Task {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    guard !Task.isCancelled else { return }
                    self.lock.withLock { unpark(self) }?.resume(.failure(.transport(.timeout)))
                }
                park(Parked(continuation: c, timer: timer))
                lock.unlock()
            }
        }
        return try r.get()
    }
}

/// How an SSE stream began: with its endpoint event, or with a redirect to follow.
enum StreamStart: Sendable {
    case endpoint(String)
    case redirect(String)
}
