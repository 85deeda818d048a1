/// How the client answers the requests a server makes of it (ping, roots/list, elicitation/create,
/// sampling/createMessage…): one handler per method. The capabilities the client declares come from the handlers
/// registered here, so a feature that answers a new kind of request adds one handler and nothing else. A method
/// without a handler gets mcpconn's unattended answer (``JSONRPC/answer(serverRequest:method:)``), which
/// declares nothing: no roots, every elicitation declined, no sampling.
package struct ServerRequestHandlers: Sendable {
    /// Answers one request's params with a result, or refuses it with a JSON-RPC error.
    package typealias Handler = @Sendable (_ params: JSONValue?) async -> Result<JSONValue, JSONRPCError>

    private var handlers: [String: Handler] = [:]

    package init() {}

    /// Unattended: no handler, today's answers.
    package static let unattended = ServerRequestHandlers()

    /// Registers `handler` for `method`, replacing any earlier one.
    package mutating func on(_ method: String, _ handler: @escaping Handler) { handlers[method] = handler }

    /// Registers a typed handler (see ``ServerRequestMethod``): its params and result as the method's types.
    package mutating func on<M: ServerRequestMethod>(
        _ method: M.Type, _ handler: @escaping @Sendable (M.Params) async -> Result<M.Result, JSONRPCError>
    ) {
        on(M.name) { params in await handler(M.Params(params)).map(\.value) }
    }

    /// The client capability each kind of server request needs (MCP's `ClientCapabilities`); ping needs none.
    static let capabilityOfMethod: [String: String] = [
        ListRoots.name: "roots", Elicit.name: "elicitation", CreateMessage.name: "sampling",
    ]

    /// What the client declares, from the handlers registered (in a stable order, so messages are reproducible).
    package var capabilities: JSONObject {
        var c = JSONObject()
        for method in handlers.keys.sorted() {
            if let name = Self.capabilityOfMethod[method], c[name] == nil { c[name] = .object([:]) }
        }
        return c
    }

    /// The answer to server request `id`.
    func answer(id: JSONValue, method: String, params: JSONValue?) async -> JSONValue {
        guard let handler = handlers[method] else { return JSONRPC.answer(serverRequest: id, method: method) }
        switch await handler(params) {
        case .success(let result): return JSONRPC.result(id: id, result)
        case .failure(let e): return JSONRPC.error(id: id, code: e.code, message: e.message, data: e.data)
        }
    }
}
