import Foundation

/// The HTTP+SSE transport of MCP 2024-11-05: a long-lived GET event stream carries the server's messages;
/// the client POSTs its own to the endpoint the stream announces first.
final class LegacySSETransport: MCPTransport, @unchecked Sendable {
    private var url: String
    private let credentialOrigin: Origin?
    private let settings: TransportSettings
    private var stream: StreamConsumer
    private var transfer: CurlTransfer?
    private var endpoint: String?

    init(url: String, settings: TransportSettings) {
        self.url = url
        credentialOrigin = Origin(url)
        self.settings = settings
        stream = StreamConsumer(log: settings.log)
    }

    func setProtocolVersion(_ version: String) {}

    private var credentials: [(name: String, value: String)] {
        Origin(url) == credentialOrigin ? settings.credentialHeaders : []
    }

    /// Opens the event stream (following same-scheme redirects) and waits for its `endpoint` event.
    func connect(deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        for _ in 0...5 {
            stream = StreamConsumer(log: settings.log)
            let req = HTTPRequest(
                method: "GET", url: url,
                headers: [(name: "Accept", value: "text/event-stream"), (name: "Cache-Control", value: "no-cache")]
                    + credentials)
            settings.log?.request(req)
            // The stream lives as long as the session; the requests on it have their own deadlines.
            let t = CurlTransfer(
                request: req, deadline: deadline + .seconds(3600), maxBytes: settings.maxBytes, consumer: stream)
            transfer = t
            stream.onServerRequest = { [weak self] id, method in
                let answerer = self?.settings.answerer
                return answerer?.submit(id: id, method: method, deadline: deadline) { [weak self] answer, until in
                    try? await self?.notify(answer, deadline: until)
                } ?? false
            }
            CurlLoop.shared.start(t)
            switch try await stream.waitForEndpoint(deadline: deadline) {
            case .redirect(let location):
                guard let next = Origin.resolve(location, against: url), let o = Origin(next),
                    o.scheme == Origin(url)?.scheme
                else { throw .badRedirect("refusing the SSE stream's redirect to '\(location)'") }
                url = next
            case .endpoint(let path):
                guard let resolved = Origin.resolve(path, against: url), Origin(resolved) == Origin(url) else {
                    throw .notMCP("the SSE endpoint event points to another origin ('\(path)')")
                }
                endpoint = resolved
                return
            }
        }
        throw .badRedirect("too many redirects")
    }

    func request(_ message: JSONValue, id: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError)
        -> JSONRPCMessage
    {
        stream.expect(id)
        try await post(message, deadline: deadline)
        return try await stream.wait(for: id, deadline: deadline)
    }

    func notify(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        try await post(message, deadline: deadline)
    }

    private func post(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        guard let endpoint else { throw .notMCP("no SSE endpoint") }
        let req = HTTPRequest(
            method: "POST", url: endpoint,
            headers: [(name: "Content-Type", value: "application/json")] + credentials,
            body: message.compactBytes())
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
        if let transfer { CurlLoop.shared.cancel(transfer) }
        transfer = nil
    }
}

/// Reads the legacy event stream on the curl thread and hands messages to waiting requests.
final class StreamConsumer: TransferConsumer, @unchecked Sendable {
    private let lock = NSLock()
    private let log: ProtocolLog?
    private var parser = SSEParser()
    private var endpointWaiter: CheckedContinuation<Result<StreamStart, MCPClientError>, Never>?
    private var start: StreamStart?
    private var answers: [JSONValue: JSONRPCMessage] = [:]
    private var waiters: [JSONValue: CheckedContinuation<Result<JSONRPCMessage, MCPClientError>, Never>] = [:]
    private var expected: Set<JSONValue> = []
    private var ended: MCPClientError?
    var onServerRequest: ServerRequestHandler?

    init(log: ProtocolLog?) { self.log = log }

    func head(_ head: HTTPHead) -> TransferVerdict {
        log?.response(head)
        if [301, 302, 303, 307, 308].contains(head.status), let location = head.value("Location") {
            settle(.redirect(location))
            return .stop
        }
        if !(200..<300).contains(head.status) {
            fail(head.status == 401 || head.status == 403 || head.status >= 500
                ? .http(status: head.status, detail: "") : .notMCP("GET for the SSE stream answered HTTP \(head.status)"))
            return .stop
        }
        if head.mediaType != "text/event-stream" {
            fail(.notMCP("GET for the SSE stream answered \(head.mediaType.isEmpty ? "no content type" : head.mediaType)"))
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
                if case .request(let id, let method, _) = m, onServerRequest?(id, method) == false {
                    fail(.notMCP(ServerRequestAnswerer.floodProblem))
                    return .stop
                }
                guard let id = m.responseID else { continue }
                lock.lock()
                if let w = waiters.removeValue(forKey: id) {
                    lock.unlock()
                    w.resume(returning: .success(m))
                } else {
                    if expected.contains(id) { answers[id] = m }
                    lock.unlock()
                }
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
        for w in ws.values { w.resume(returning: .failure(error)) }
        ew?.resume(returning: .failure(error))
    }

    private func settle(_ s: StreamStart) {
        lock.lock()
        if start == nil { start = s }
        let w = endpointWaiter
        endpointWaiter = nil
        lock.unlock()
        w?.resume(returning: .success(s))
    }

    func expect(_ id: JSONValue) { lock.withLock { _ = expected.insert(id) } }

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
    /// otherwise `park` keeps the continuation for the curl thread to resume, and at the deadline `unpark`
    /// takes it back (nil if it was resumed meanwhile) to resume it with a timeout.
    private func waitFor<T: Sendable>(
        deadline: ContinuousClock.Instant, take: () -> T?,
        park: (CheckedContinuation<Result<T, MCPClientError>, Never>) -> Void,
        unpark: @escaping @Sendable (StreamConsumer) -> CheckedContinuation<Result<T, MCPClientError>, Never>?
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
                park(c)
                lock.unlock()
                Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    guard let self else { return }
                    self.lock.withLock { unpark(self) }?.resume(returning: .failure(.transport(.timeout)))
                }
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
