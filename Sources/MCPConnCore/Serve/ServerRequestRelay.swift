import Foundation

/// What a connector asks `serve`'s client mid-request (elicitation, sampling, roots), and the way there: the client
/// of the request being answered, what it declared it can answer, and how to ask it.
package struct DownstreamClient: Sendable {
    /// Asks the client one request and waits for its answer (or gives up at the deadline).
    package typealias Ask =
        @Sendable (_ method: String, _ params: JSONValue?, _ deadline: ContinuousClock.Instant)
        async -> Result<JSONValue, JSONRPCError>

    /// The capabilities the client declared (at `initialize`, or in a 2026-07-28 request's `_meta`).
    package var capabilities: JSONObject
    /// Nil when the request being answered has no channel to ask on: a batch, or a POST whose answer cannot be an
    /// event stream. A 2026-07-28 client is never asked this way: it gets `input_required` (``InputExchange``).
    package var ask: Ask?
    /// Who the client is, for what outlives a request (its resource subscriptions): "stdio", an HTTP session's id.
    package var id: String
    /// The client's stream for notifications about no request (stdout, a session's GET stream); nil: none.
    package var hear: (@Sendable (JSONValue) -> Void)?

    package init(
        capabilities: JSONObject, ask: Ask?, id: String = "stdio", hear: (@Sendable (JSONValue) -> Void)? = nil
    ) {
        self.capabilities = capabilities
        self.ask = ask
        self.id = id
        self.hear = hear
    }
}

/// How one forwarded request answers its connector's questions: by asking the client `serve` answers (`ask`, for
/// the methods whose capability it `declared`), with a 2026-07-28 connector's `input_required` answered the same
/// way (`inputRounds`) or passed down as it came, to a client of that era, which answers it itself.
struct Relay: Sendable {
    typealias Ask = @Sendable (_ method: String, _ params: JSONValue?) async -> Result<JSONValue, JSONRPCError>

    var declared: JSONObject
    var ask: Ask
    var inputRounds: Bool

    /// No client to ask: the unattended answers (see ``standing``), nothing declared up.
    static func nobody(inputRounds: Bool) -> Relay {
        Relay(
            declared: [:],
            ask: { _, _ in
                .failure(
                    JSONRPCError(code: JSONRPCError.internalError, message: "no client of mcpconn serve can answer"))
            }, inputRounds: inputRounds)
    }

    /// The server requests relayed, by the client capability each needs.
    static let methods: [(method: String, capability: String)] = [
        (Elicit.name, "elicitation"), (CreateMessage.name, "sampling"), (ListRoots.name, "roots"),
    ]

    /// What `serve`'s sessions to connectors declare at `initialize` (a handshake-era server asks only what was
    /// declared, and for the whole session): everything serve can relay. Between relayed requests, and for the
    /// methods a client did not declare, the unattended answers: elicitation declined, no roots, sampling refused.
    static var standing: ServerRequestHandlers {
        var h = ServerRequestHandlers()
        h.on(Elicit.name, capability: "elicitation", declaring: ["form": [:], "url": [:]]) { _ in
            .success(Elicit.Result.decline.value)
        }
        h.on(CreateMessage.name, capability: "sampling", declaring: [:]) { _ in
            .failure(
                JSONRPCError(
                    code: JSONRPCError.methodNotFound,
                    message: "Method not found: no client of mcpconn serve is waiting to answer sampling"))
        }
        h.on(ListRoots.name, capability: "roots", declaring: [:]) { _ in .success(ListRoots.Result(roots: []).value) }
        return h
    }

    /// A question as a handshake-era client must get it: a 2026-07-28 connector's URL elicitation has no
    /// `elicitationId` (that era removed it), which 2025-11-25 requires, and such a client refuses the request
    /// without one (the official Python SDK does), so serve gives it one of its own.
    static func forHandshakeClient(_ method: String, _ params: JSONValue?) -> JSONValue? {
        guard method == Elicit.name, var p = params?.objectValue, p["mode"]?.stringValue == "url",
            p["elicitationId"] == nil
        else { return params }
        p["elicitationId"] = .string("mcpconn-" + UUID().uuidString.lowercased())
        return .object(p)
    }

    /// The handlers of one forwarded request: each method the client declared goes to it, with the client's own
    /// declared value (a 2026-07-28 request carries it up); sampling it did not declare is refused saying so.
    /// What the connector asks is redacted first: it may echo the credential it was sent.
    func handlers(redactor: Redactor) -> ServerRequestHandlers {
        var h = ServerRequestHandlers()
        let ask = self.ask
        for (method, capability) in Self.methods {
            guard let value = declared[capability]?.objectValue else { continue }
            h.on(method, capability: capability, declaring: value) { params in
                await ask(method, params.map(redactor.redact))
            }
        }
        h.refusals[CreateMessage.name] = "the client of mcpconn serve declared no sampling capability"
        return h
    }
}
