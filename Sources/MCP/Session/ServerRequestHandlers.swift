/// How the client answers the requests a server makes of it (ping, roots/list, elicitation/create,
/// sampling/createMessage…): one handler per method. The capabilities the client declares come from the handlers
/// registered here, so a feature that answers a new kind of request adds one handler and nothing else. A method
/// without a handler gets mcpconn's unattended answer (``JSONRPC/answer(serverRequest:method:)``), which
/// declares nothing: no roots, every elicitation declined, no sampling.
package struct ServerRequestHandlers: Sendable {
    /// Answers one request's params with a result, or refuses it with a JSON-RPC error.
    package typealias Handler = @Sendable (_ params: JSONValue?) async -> Result<JSONValue, JSONRPCError>

    /// By method name: the handler, and the capability its method declares with its value.
    private var handlers: [String: (handle: Handler, capability: String?, declared: JSONObject)] = [:]

    /// Why a method without a handler is refused, by name, where the caller can say more than "method not found"
    /// (which flag would answer it); the code stays -32601.
    package var refusals: [String: String] = [:]

    package init() {}

    /// Unattended: no handler, today's answers.
    package static let unattended = ServerRequestHandlers()

    /// Registers a typed handler for `method` (see ``ServerRequestMethod``), replacing any earlier one: its params
    /// and result as the method's types, and the capability the method needs declared.
    /// `declared` is the capability's value (`{}` unless the method has sub-capabilities, such as elicitation's
    /// `form` and `url`).
    package mutating func on<M: ServerRequestMethod>(
        _ method: M.Type, declaring declared: JSONObject = [:],
        _ handler: @escaping @Sendable (M.Params) async -> Result<M.Result, JSONRPCError>
    ) {
        handlers[M.name] = ({ params in await handler(M.Params(params)).map(\.value) }, M.capability, declared)
    }

    /// Registers a handler for `method` by name, its params and result passed as they come (`serve` relays them
    /// to its own client unread), declaring `capability` with the value `declared`.
    package mutating func on(
        _ method: String, capability: String?, declaring declared: JSONObject, _ handler: @escaping Handler
    ) {
        handlers[method] = (handler, capability, declared)
    }

    /// What the client declares, from the handlers registered (in a stable order, so messages are reproducible).
    package var capabilities: JSONObject {
        var c = JSONObject()
        for method in handlers.keys.sorted() {
            if let h = handlers[method], let name = h.capability, c[name] == nil { c[name] = .object(h.declared) }
        }
        return c
    }

    /// Whether a 2026-07-28 input request of `method` has an answer: its handler's, or for roots and ping the
    /// unattended one (an empty list, `{}`), which is a real answer. An elicitation or a sample nothing answers
    /// has none: declining on the user's behalf is for the handshake era, where the server asked unbidden.
    package func answers(_ method: String) -> Bool {
        handlers[method] != nil || method == ListRoots.name || method == Ping.name
    }

    /// The result for one request of `method` (an input request of 2026-07-28), or the handler's refusal.
    package func result(_ method: String, params: JSONValue?) async -> Result<JSONValue, JSONRPCError> {
        if let handler = handlers[method]?.handle { return await handler(params) }
        if let unattended = ServerRequests.unattendedResult(method) { return .success(unattended) }
        return .failure(JSONRPCError(code: JSONRPCError.methodNotFound, message: "Method not found"))
    }

    /// The answer to server request `id`.
    func answer(id: JSONValue, method: String, params: JSONValue?) async -> JSONValue {
        guard let handler = handlers[method]?.handle else {
            if let why = refusals[method], ServerRequests.unattendedResult(method) == nil {
                return JSONRPC.error(id: id, code: JSONRPCError.methodNotFound, message: "Method not found: \(why)")
            }
            return JSONRPC.answer(serverRequest: id, method: method)
        }
        switch await handler(params) {
        case .success(let result): return JSONRPC.result(id: id, result)
        case .failure(let e): return JSONRPC.error(id: id, code: e.code, message: e.message, data: e.data)
        }
    }
}
