import Foundation

/// The streamable HTTP transport (MCP 2025-03-26 and later): one POST per message, answered with JSON or
/// an SSE stream; a session id from initialize rides on every later request.
final class StreamableHTTPTransport: MessageChannel {
    /// What changes as the session goes: the endpoint (after redirects), the server's session id, the
    /// negotiated version, and the GET stream on which the server sends requests of its own (see `listen`).
    private struct State {
        var endpoint: String
        var sessionID: String?
        var protocolVersion: String?
        var listener: CurlTransfer?
    }
    private let state: Locked<State>
    private let credentials: CredentialScope
    private let settings: TransportSettings
    /// Resumptions of one request's event stream, at most (each after the server's `retry` delay).
    static let maxResumptions = 5
    /// Extra headers per request (2026-07-28 mirrors method and name into headers).
    private let perRequestHeaders: (@Sendable (JSONValue) -> [(name: String, value: String)])?

    init(
        url: String, settings: TransportSettings,
        perRequestHeaders: (@Sendable (JSONValue) -> [(name: String, value: String)])? = nil
    ) {
        self.perRequestHeaders = perRequestHeaders
        state = Locked(State(endpoint: url))
        credentials = CredentialScope(serverURL: url)
        self.settings = settings
    }

    var currentSessionID: String? { state.withLock { $0.sessionID } }

    func setProtocolVersion(_ version: String) { state.withLock { $0.protocolVersion = version } }

    /// Forgets the session (after the server expired it).
    func resetSession() {
        let l: CurlTransfer? = state.withLock { s in
            s.sessionID = nil
            defer { s.listener = nil }
            return s.listener
        }
        if let l { CurlLoop.shared.cancel(l) }
    }

    /// Opens the GET stream a session's server may send its own requests on (the spec's "listening for
    /// messages from the server"; the Swift SDK sends elicitation and sampling requests only there), and
    /// returns once the server has answered it, waiting a second at most. Only with a session: without one
    /// the server could not tell whose stream it is.
    func listen(deadline: ContinuousClock.Instant) async {
        let url = state.withLock { $0.endpoint }
        var req = HTTPRequest(
            method: "GET", url: url, headers: [(name: "Accept", value: "text/event-stream")] + sessionHeaders(),
            tls: settings.tls)
        req.headers += credentials.headers(settings.credentialHeaders, for: url)
        let consumer = ListenConsumer(log: settings.log, inbound: settings.inbound)
        // A stream that outlives the operation (a watch) is bounded per event (the SSE parser's cap), not in total.
        let maxBytes = settings.streamDeadline == nil ? settings.maxBytes : Int.max
        let t = CurlTransfer(request: req, deadline: deadline, maxBytes: maxBytes, consumer: consumer)
        // Checked and kept in one step, so a session closed meanwhile cannot be left with a stream.
        enum Opening { case opened, sessionless, open }
        let opening: Opening = state.withLock { s in
            guard s.sessionID != nil else { return .sessionless }
            guard s.listener == nil else { return .open }
            s.listener = t
            return .opened
        }
        guard opening == .opened else {
            // A server that keeps no session has no stream for messages about no request: a watch must hear so.
            if opening == .sessionless {
                settings.inbound.unrelatedStreamEnded(.http(status: 405, detail: "no session, so no event stream"))
            }
            return
        }
        settings.log?.request(req)
        CurlLoop.shared.start(t)
        await consumer.waitForHead(until: min(deadline, .now + .seconds(1)))
    }

    /// POSTs the message. A request's answer and the notifications about it come on its own event stream (and
    /// on its resumptions), to the session; it fails here when the exchange ends without the answer.
    func send(_ message: JSONValue, requestID: JSONValue?, deadline: ContinuousClock.Instant)
        async throws(MCPClientError)
    {
        let r = try await post(message, expectedID: requestID, deadline: deadline)
        if requestID != nil, !r.answered { throw .notMCP(r.bodyProblem ?? describe(r)) }
    }

    /// Sends DELETE for the session without waiting for the answer (200, 204 or 405 are all fine):
    /// it completes in the background while the caller goes on; `CurlLoop.drain` lets it finish before exit.
    func close(deadline: ContinuousClock.Instant) async {
        if let l = state.withLock({ $0.listener }) { CurlLoop.shared.cancel(l) }
        guard state.withLock({ $0.sessionID }) != nil else { return }
        let url = state.withLock { $0.endpoint }
        var req = HTTPRequest(method: "DELETE", url: url, headers: headers(for: nil), tls: settings.tls)
        req.headers += credentials.headers(settings.credentialHeaders, for: url)
        settings.log?.request(req)
        CurlLoop.shared.start(
            CurlTransfer(request: req, deadline: deadline, maxBytes: 64 * 1024, consumer: DiscardConsumer()))
        resetSession()
    }

    private func headers(for message: JSONValue?) -> [(name: String, value: String)] {
        var h: [(name: String, value: String)] = [
            (name: "Accept", value: "application/json, text/event-stream"),
            (name: "Content-Type", value: "application/json"),
        ]
        h += sessionHeaders()
        if let message, let extra = perRequestHeaders { h += extra(message) }
        return h
    }

    /// The session id and negotiated protocol version, when there are.
    private func sessionHeaders() -> [(name: String, value: String)] {
        state.withLock { s in
            var h: [(name: String, value: String)] = []
            if let sid = s.sessionID { h.append((name: "Mcp-Session-Id", value: sid)) }
            if let v = s.protocolVersion { h.append((name: "MCP-Protocol-Version", value: v)) }
            return h
        }
    }

    /// POSTs one message, following up to five redirects; credentials go only to the connector's own origin.
    private func post(_ message: JSONValue, expectedID: JSONValue?, deadline: ContinuousClock.Instant)
        async throws(MCPClientError) -> ExchangeResult
    {
        let body = message.compactBytes()
        var url = state.withLock { $0.endpoint }
        var redirects = RedirectState(start: url)
        while true {
            var req = HTTPRequest(
                method: "POST", url: url, headers: headers(for: message), body: body, tls: settings.tls)
            req.headers += credentials.headers(settings.credentialHeaders, for: url)
            let r = try await exchange(req, expectedID: expectedID, deadline: deadline)
            let status = r.head.status
            if [301, 302, 303, 307, 308].contains(status), let loc = r.head.value("Location") {
                url = try redirects.follow(loc, from: url)
                if !credentials.admits(url) {
                    settings.log?.note(
                        "redirected to another origin (\(Origin(url)?.host ?? url)): credentials withheld")
                }
                state.withLock { $0.endpoint = url }
                continue
            }
            if let sid = r.head.value("Mcp-Session-Id"), !sid.isEmpty, state.withLock({ $0.sessionID == nil }) {
                // A session id is visible ASCII (spec): anything else is not safe to echo in a header.
                guard sid.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }), sid.utf8.count <= 1024 else {
                    throw .notMCP("the server sent an invalid Mcp-Session-Id")
                }
                state.withLock { $0.sessionID = sid }
            }
            if status == 404, req.headers.contains(where: { $0.name == "Mcp-Session-Id" }) { throw .sessionExpired }
            guard (200..<300).contains(status) else {
                // 2026-07-28 servers pair 4xx statuses with a JSON-RPC error body: that body is the answer. A 5xx
                // is the server failing whatever its body says (69; its message goes in the error's detail).
                if let expectedID, (400..<500).contains(status), status != 401, status != 403,
                    let msgs = JSONRPCMessage.parseAll(Array(r.snippet.utf8)),
                    let answer = msgs.first(where: { $0.responseID == expectedID }), case .errorResponse = answer
                {
                    var x = r
                    x.answered = true
                    _ = settings.inbound.receive(answer, expectedID)
                    return x
                }
                throw .http(status: status, detail: Self.detail(r))
            }
            if expectedID != nil, !r.answered, r.bodyProblem == nil, r.head.mediaType != "application/json",
                r.head.mediaType != "text/event-stream"
            {
                throw .notMCP(describe(r))
            }
            if let expectedID, !r.answered, r.streamEndedEarly {
                return try await resumeStream(after: r, expectedID: expectedID, deadline: deadline)
            }
            return r
        }
    }

    /// Sends one HTTP request and reads its answer, answering the server's requests on the way.
    private func exchange(_ req: HTTPRequest, expectedID: JSONValue?, deadline: ContinuousClock.Instant)
        async throws(MCPClientError) -> ExchangeResult
    {
        settings.log?.request(req)
        let consumer = ExchangeConsumer(expectedID: expectedID, log: settings.log, inbound: settings.inbound)
        switch await consumer.run(req, deadline: deadline, maxBytes: settings.maxBytes) {
        case .success(let r): return r
        case .failure(let f): throw .transport(f)
        }
    }

    /// Resumes an event stream that ended before our answer (2025-11-25): GET the endpoint with
    /// `Last-Event-ID` after the delay the server asked for (`retry`, else a second), a bounded number of
    /// times, within the deadline. Without an event id to resume from, the first result stands.
    private func resumeStream(after first: ExchangeResult, expectedID: JSONValue, deadline: ContinuousClock.Instant)
        async throws(MCPClientError) -> ExchangeResult
    {
        var r = first
        for _ in 0..<Self.maxResumptions {
            guard r.streamEndedEarly, let eventID = r.lastEventID, Self.isHeaderSafe(eventID) else { return r }
            let delay = Duration.milliseconds(r.retryMilliseconds ?? 1000)
            guard delay < deadline - .now else { throw .transport(.timeout) }
            try? await Task.sleep(for: delay)
            let url = state.withLock { $0.endpoint }
            var req = HTTPRequest(
                method: "GET", url: url,
                headers: [(name: "Accept", value: "text/event-stream"), (name: "Last-Event-ID", value: eventID)]
                    + sessionHeaders(), tls: settings.tls)
            req.headers += credentials.headers(settings.credentialHeaders, for: url)
            let retry = r.retryMilliseconds
            r = try await exchange(req, expectedID: expectedID, deadline: deadline)
            let status = r.head.status
            if status == 404, req.headers.contains(where: { $0.name == "Mcp-Session-Id" }) { throw .sessionExpired }
            guard (200..<300).contains(status) else { throw .http(status: status, detail: Self.detail(r)) }
            guard r.head.mediaType == "text/event-stream" else {
                throw .notMCP("resuming the event stream: " + describe(r))
            }
            if r.answered { return r }
            // A resumed stream that named no newer id or delay resumes from where this one did.
            r.lastEventID = r.lastEventID ?? eventID
            r.retryMilliseconds = r.retryMilliseconds ?? retry
        }
        return r
    }

    /// True for text safe to send as a header value: visible ASCII and spaces, bounded.
    static func isHeaderSafe(_ value: String) -> Bool {
        value.utf8.count <= 1024 && value.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
    }

    private func describe(_ r: ExchangeResult) -> String {
        let type = r.head.value("Content-Type") ?? "no content type"
        if r.head.mediaType == "text/html" { return "the server answered an HTML page (HTTP \(r.head.status))" }
        return "the server answered \(type) (HTTP \(r.head.status))"
    }

    static func detail(_ r: ExchangeResult) -> String {
        // A JSON-RPC error body explains itself; HTML or other bodies are not worth echoing.
        if let v = try? JSONValue.parse(r.snippet), let e = v["error"], let m = e["message"]?.stringValue {
            return ServerText.oneLine(m, limit: 200)
        }
        return ""
    }
}
