/// How the client answers the requests a server makes of it (ping, roots/list, elicitation/create,
/// sampling/createMessage…): one handler per method. The capabilities the client declares come from the handlers
/// registered here, so a feature that answers a new kind of request adds one handler and nothing else. A method
/// without a handler gets mcpconn's unattended answer (``JSONRPC/answer(serverRequest:method:)``), which
/// declares nothing: no roots, every elicitation declined, no sampling.
package struct ServerRequestHandlers: Sendable {
    /// Answers one request's params with a result, or refuses it with a JSON-RPC error.
    package typealias Handler = @Sendable (_ params: JSONValue?) async -> Result<JSONValue, JSONRPCError>

    /// By method name: the handler, and the capability its method declares.
    private var handlers: [String: (handle: Handler, capability: String?)] = [:]

    package init() {}

    /// Unattended: no handler, today's answers.
    package static let unattended = ServerRequestHandlers()

    /// Registers a typed handler for `method` (see ``ServerRequestMethod``), replacing any earlier one: its params
    /// and result as the method's types, and the capability the method needs declared.
    package mutating func on<M: ServerRequestMethod>(
        _ method: M.Type, _ handler: @escaping @Sendable (M.Params) async -> Result<M.Result, JSONRPCError>
    ) {
        handlers[M.name] = ({ params in await handler(M.Params(params)).map(\.value) }, M.capability)
    }

    /// What the client declares, from the handlers registered (in a stable order, so messages are reproducible).
    package var capabilities: JSONObject {
        var c = JSONObject()
        for method in handlers.keys.sorted() {
            if let name = handlers[method]?.capability, c[name] == nil { c[name] = .object([:]) }
        }
        return c
    }

    /// The answer to server request `id`.
    func answer(id: JSONValue, method: String, params: JSONValue?) async -> JSONValue {
        guard let handler = handlers[method]?.handle else {
            return JSONRPC.answer(serverRequest: id, method: method)
        }
        switch await handler(params) {
        case .success(let result): return JSONRPC.result(id: id, result)
        case .failure(let e): return JSONRPC.error(id: id, code: e.code, message: e.message, data: e.data)
        }
    }
}
