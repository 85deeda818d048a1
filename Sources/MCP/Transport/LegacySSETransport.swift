import Foundation

/// The HTTP+SSE transport of MCP 2024-11-05: a long-lived GET event stream carries the server's messages;
/// the client POSTs its own to the endpoint the stream announces first.
///
final class LegacySSETransport: MessageChannel {
    private let credentials: CredentialScope
    private let settings: TransportSettings
    private let session: Locked<Session>

    /// The stream's URL (after redirects), its consumer and transfer, and the endpoint it announced.
    private struct Session: Sendable {
        var url: String
        var stream: StreamConsumer
        var transfer: CurlTransfer?
        var endpoint: String?
    }

    init(url: String, settings: TransportSettings) {
        credentials = CredentialScope(serverURL: url)
        self.settings = settings
        session = Locked(Session(url: url, stream: StreamConsumer(log: settings.log, inbound: .none)))
    }

    func setProtocolVersion(_ version: String) {}

    private func credentials(for url: String) -> [(name: String, value: String)] {
        credentials.headers(settings.credentialHeaders, for: url)
    }

    /// Opens the event stream (following redirects, ``RedirectState``) and waits for its `endpoint` event.
    func connect(deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        var redirects = RedirectState(start: session.withLock { $0.url })
        while true {
            let url = session.withLock { $0.url }
            // Every message of the stream goes to the session: answers, notifications, the server's requests.
            let stream = StreamConsumer(log: settings.log, inbound: settings.inbound)
            let req = HTTPRequest(
                method: "GET", url: url,
                headers: [(name: "Accept", value: "text/event-stream"), (name: "Cache-Control", value: "no-cache")]
                    + credentials(for: url), tls: settings.tls)
            settings.log?.request(req)
            // The stream lives as long as the session; the requests on it have their own deadlines.
            let t = CurlTransfer(
                request: req, deadline: settings.streamDeadline ?? deadline + .seconds(3600),
                maxBytes: settings.streamDeadline == nil ? settings.maxBytes : Int.max, consumer: stream)
            session.withLock {
                $0.stream = stream
                $0.transfer = t
            }
            CurlLoop.shared.start(t)
            switch try await stream.waitForEndpoint(deadline: deadline) {
            case .redirect(let location):
                let next = try redirects.follow(location, from: url)
                session.withLock { $0.url = next }
            case .endpoint(let path):
                guard let resolved = Origin.resolve(path, against: url), Origin(resolved) == Origin(url) else {
                    throw .notMCP("the SSE endpoint event points to another origin ('\(path)')")
                }
                session.withLock { $0.endpoint = resolved }
                return
            }
        }
    }

    /// POSTs the message; a request's answer, and what the server says about it, come on the session's one
    /// stream, to the session.
    func send(_ message: JSONValue, requestID: JSONValue?, deadline: ContinuousClock.Instant)
        async throws(MCPClientError)
    {
        try await post(message, deadline: deadline)
    }

    private func post(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        let (endpoint, url) = session.withLock { ($0.endpoint, $0.url) }
        guard let endpoint else { throw .notMCP("no SSE endpoint") }
        let req = HTTPRequest(
            method: "POST", url: endpoint,
            headers: [(name: "Content-Type", value: "application/json")] + credentials(for: url),
            body: message.compactBytes(), tls: settings.tls)
        settings.log?.request(req)
        let consumer = ExchangeConsumer(expectedID: nil, log: settings.log, inbound: nil)
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
        let transfer = session.withLock { s in
            defer { s.transfer = nil }
            return s.transfer
        }
        if let transfer { CurlLoop.shared.cancel(transfer) }
    }
}

/// Reads the legacy event stream on the curl thread: its endpoint event for the transport, every message for the
/// session (``Inbound``).
///
/// Its state is one value under one lock (the parser too: only the curl thread feeds it, so the lock is never
/// contended there); waiters are resumed after it is released.
final class StreamConsumer: TransferConsumer, Sendable {
    private struct State {
        var parser = SSEParser()
        var endpointWaiter: Parked?
        var start: StreamStart?
        var ended: MCPClientError?
    }
    private let state = Locked(State())
    private let log: ProtocolLog?
    private let inbound: Inbound

    init(log: ProtocolLog?, inbound: Inbound) {
        self.log = log
        self.inbound = inbound
    }

    /// The endpoint's waiter and the timer that gives up on it at its deadline; resuming it ends the timer too.
    private struct Parked {
        let continuation: CheckedContinuation<Result<StreamStart, MCPClientError>, Never>
        let timer: Task<Void, Never>

        func resume(_ r: Result<StreamStart, MCPClientError>) {
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
        let (events, overflowed, cap) = state.withLock { s in
            (s.parser.feed(bytes), s.parser.overflowed, Int(s.parser.maxEventBytes))
        }
        for e in events {
            log?.body(e.data, event: e.event)
            if e.event == "endpoint" {
                settle(.endpoint(e.data.trimmingCharacters(in: .whitespacesAndNewlines)))
                continue
            }
            guard e.event == "message", let msgs = JSONRPCMessage.parseAll(Array(e.data.utf8)) else { continue }
            for m in msgs where !inbound.receive(m, nil) {
                fail(.notMCP(ServerRequestAnswerer.floodProblem))
                return .stop
            }
        }
        if overflowed {
            fail(.transport(.oversized(cap)))
            return .stop
        }
        return .more
    }

    func finished(_ failure: TransportFailure?) {
        fail(failure.map { .transport($0) } ?? .notMCP("the server closed the SSE stream"))
    }

    /// The stream ended: the session's requests fail with `error`, and so does a wait for the endpoint. A stream
    /// that redirected ends nothing: the transport follows the redirect with another.
    private func fail(_ error: MCPClientError) {
        let (first, waiter): (Bool, Parked?) = state.withLock { s in
            var first = s.ended == nil
            if first { s.ended = error }
            if case .redirect? = s.start { first = false }
            defer { s.endpointWaiter = nil }
            return (first, s.endpointWaiter)
        }
        waiter?.resume(.failure(error))
        if first { inbound.ended(error) }
    }

    private func settle(_ s: StreamStart) {
        let w: Parked? = state.withLock { state in
            if state.start == nil { state.start = s }
            defer { state.endpointWaiter = nil }
            return state.endpointWaiter
        }
        w?.resume(.success(s))
    }

    /// Waits for the stream's start: its endpoint event, or a redirect. The timer is made under the lock, so no
    /// resume can come before it exists to be cancelled.
    func waitForEndpoint(deadline: ContinuousClock.Instant) async throws(MCPClientError) -> StreamStart {
        let r: Result<StreamStart, MCPClientError> = await withCheckedContinuation { c in
            let now: Result<StreamStart, MCPClientError>? = state.withLock { s in
                if let start = s.start { return .success(start) }
                if let ended = s.ended { return .failure(ended) }
                // The timer holds the consumer until it fires or is cancelled (every resume cancels it): no weak
                // reference, whose side table a process exiting with the cancelled timer not yet unwound left
                // behind (LeakSanitizer reported it after every refused flood).
                let timer = Task {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    guard !Task.isCancelled else { return }
                    let w: Parked? = self.state.withLock { s in
                        defer { s.endpointWaiter = nil }
                        return s.endpointWaiter
                    }
                    w?.resume(.failure(.transport(.timeout)))
                }
                s.endpointWaiter = Parked(continuation: c, timer: timer)
                return nil
            }
            if let now { c.resume(returning: now) }
        }
        return try r.get()
    }
}

/// How an SSE stream began: with its endpoint event, or with a redirect to follow.
enum StreamStart: Sendable {
    case endpoint(String)
    case redirect(String)
}
