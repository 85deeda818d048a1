/// A JSON-RPC 2.0 error object.
public struct JSONRPCError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    package init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// Well-known codes.
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    public static let headerMismatch = -32020
    public static let unsupportedProtocolVersion = -32022
}

/// A message received from a server.
public enum JSONRPCMessage: Sendable, Equatable {
    case response(id: JSONValue, result: JSONValue)
    case errorResponse(id: JSONValue?, error: JSONRPCError)
    case request(id: JSONValue, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)

    /// Classifies a parsed JSON value; nil when it is not a JSON-RPC 2.0 message.
    public init?(_ v: JSONValue) {
        guard let o = v.objectValue, o["jsonrpc"]?.stringValue == "2.0" else { return nil }
        if let method = o["method"]?.stringValue {
            if let id = o["id"], !id.isNull {
                self = .request(id: id, method: method, params: o["params"])
            } else {
                self = .notification(method: method, params: o["params"])
            }
            return
        }
        if let e = o["error"]?.objectValue {
            let code = e["code"]?.intValue ?? 0
            self = .errorResponse(
                id: o["id"],
                error: JSONRPCError(code: code, message: e["message"]?.stringValue ?? "", data: e["data"]))
            return
        }
        if let id = o["id"], let result = o["result"] {
            self = .response(id: id, result: result)
            return
        }
        return nil
    }

    /// A message a client sent (to `serve`): as `init`, and nil too when its id is one MCP does not allow (an
    /// object, an array, a boolean, a fraction: anything but a string or an integer), which JSON-RPC 2.0 answers
    /// with Invalid Request rather than serving. A null id is still a notification's.
    package static func fromClient(_ v: JSONValue) -> JSONRPCMessage? {
        if let id = v["id"], !id.isNull, !isValidID(id) { return nil }
        return JSONRPCMessage(v)
    }

    /// A request id as MCP allows it: a string, or an integer (written without a fraction or an exponent).
    static func isValidID(_ id: JSONValue) -> Bool {
        switch id {
        case .string: return true
        case .number(let n):
            return n.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        default: return false
        }
    }

    /// True for a request (which the other side answers).
    var isRequest: Bool {
        if case .request = self { return true }
        return false
    }

    /// True for an answer (a result or an error).
    var isResponse: Bool {
        switch self {
        case .response, .errorResponse: return true
        default: return false
        }
    }

    /// The id when this is an answer to one of our requests.
    var responseID: JSONValue? {
        switch self {
        case .response(let id, _): return id
        case .errorResponse(let id, _): return id
        default: return nil
        }
    }

    /// Parses one JSON-RPC message or a batch (array) of them from JSON text.
    static func parseAll(_ bytes: [UInt8]) -> [JSONRPCMessage]? {
        guard let v = try? JSONValue.parse(bytes) else { return nil }
        if let arr = v.arrayValue {
            let msgs = arr.compactMap(JSONRPCMessage.init)
            return msgs.count == arr.count ? msgs : nil
        }
        return JSONRPCMessage(v).map { [$0] }
    }
}

/// A request a client sent (to `serve`), taken apart.
package struct JSONRPCRequest: Sendable, Equatable {
    package var id: JSONValue
    package var method: String
    package var params: JSONValue?

    package init(id: JSONValue, method: String, params: JSONValue?) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// Builders for outgoing JSON-RPC messages.
package enum JSONRPC {
    static func request(id: Int, method: String, params: JSONValue?) -> JSONValue {
        request(id: .int(id), method: method, params: params)
    }

    package static func request(id: JSONValue, method: String, params: JSONValue?) -> JSONValue {
        var o: JSONObject = ["jsonrpc": "2.0", "id": id, "method": .string(method)]
        if let params { o["params"] = params }
        return .object(o)
    }

    package static func notification(method: String, params: JSONValue? = nil) -> JSONValue {
        var o: JSONObject = ["jsonrpc": "2.0", "method": .string(method)]
        if let params { o["params"] = params }
        return .object(o)
    }

    /// The answer to a request the server makes of us mid-stream. mcpconn runs unattended: it shares no roots,
    /// declines every elicitation (no one to ask), and offers no sampling or anything else ("method not found").
    /// The answers are the methods' own (`ServerRequestMethod.unattendedResult`).
    static func answer(serverRequest id: JSONValue, method: String) -> JSONValue {
        guard let answer = ServerRequests.unattendedResult(method) else { return methodNotFound(id: id) }
        return result(id: id, answer)
    }

    /// A successful answer.
    package static func result(id: JSONValue, _ result: JSONValue) -> JSONValue {
        .object(["jsonrpc": "2.0", "id": id, "result": result])
    }

    /// An error answer (`data` only when given).
    package static func error(id: JSONValue, code: Int, message: String, data: JSONValue? = nil) -> JSONValue {
        var e: JSONObject = ["code": .int(code), "message": .string(message)]
        if let data { e["data"] = data }
        return .object(["jsonrpc": "2.0", "id": id, "error": .object(e)])
    }

    /// An error answer from an error object.
    package static func error(id: JSONValue, _ e: JSONRPCError) -> JSONValue {
        error(id: id, code: e.code, message: e.message, data: e.data)
    }

    /// Invalid Request (-32600) for a client's message that `JSONRPCMessage.fromClient` refused: with its id
    /// when it has one a request may carry, else with null (JSON-RPC 2.0 §5: the id could not be told).
    package static func invalidRequest(_ message: JSONValue) -> JSONValue {
        if case .array(let items) = message, items.isEmpty {
            return error(id: .null, code: JSONRPCError.invalidRequest, message: "an empty batch is not a request")
        }
        guard let id = message["id"], !id.isNull else {
            return error(id: .null, code: JSONRPCError.invalidRequest, message: "not a JSON-RPC 2.0 message")
        }
        guard JSONRPCMessage.isValidID(id) else {
            return error(
                id: .null, code: JSONRPCError.invalidRequest, message: "a request id must be a string or an integer")
        }
        return error(id: id, code: JSONRPCError.invalidRequest, message: "not a JSON-RPC 2.0 message")
    }

    /// An answer to a server request we do not support (e.g. sampling): method not found.
    static func methodNotFound(id: JSONValue) -> JSONValue {
        error(id: id, code: JSONRPCError.methodNotFound, message: "Method not found")
    }
}
