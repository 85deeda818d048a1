/// 2026-07-28's multi round-trip requests: a `tools/call`, `prompts/get` or `resources/read` may answer
/// `resultType: "input_required"` with `inputRequests` (keyed elicitations, samples, roots requests) and an opaque
/// `requestState`. The client answers each with its handlers and sends the same request again with
/// `inputResponses` and the `requestState` as it came; the server may ask again.
extension MCPClient {
    /// Rounds answered per request before the last `input_required` is returned as it is: a server that keeps
    /// asking does not keep the client forever.
    static let maxInputRounds = 8
    /// Input requests answered in one round, at most: each may run the sampling command or ask the user.
    static let maxInputRequests = 16

    /// Answers `first` and what follows; returns the first result that is not an `input_required` the client
    /// can answer in full (one asking for something no handler answers, or whose answer failed, is returned as
    /// it is, and the caller says what was asked).
    func answeringInput(
        _ method: String, _ params: JSONValue?, first: JSONValue, notifications: RequestNotifications?
    ) async throws(MCPClientError) -> JSONValue {
        var result = first
        var round = 1
        while let asked = InputRound(result), round <= Self.maxInputRounds {
            guard asked.requests.count <= Self.maxInputRequests,
                asked.requests.allSatisfy({ answering.answers($0.method) })
            else { return result }
            options.log?.note(
                "input round \(round): the server asks for \(asked.requests.map(\.method).joined(separator: ", "))")
            var responses = JSONObject()
            for request in asked.requests {
                switch await answering.result(request.method, params: request.params) {
                case .success(let answer): responses[request.key] = answer
                case .failure: return result
                }
            }
            var retry = params?.objectValue ?? JSONObject()
            retry["inputResponses"] = .object(responses)
            retry["requestState"] = asked.state
            result = try await requestOnce(method, .object(retry), notifications: notifications)
            round += 1
        }
        return result
    }
}

/// One `input_required` result: what it asks, in the server's order, and the state to send back.
struct InputRound {
    var requests: [(key: String, method: String, params: JSONValue?)]
    var state: JSONValue?

    init?(_ result: JSONValue) {
        guard result["resultType"]?.stringValue == "input_required" else { return nil }
        let asked = result["inputRequests"]?.objectValue ?? JSONObject()
        requests = asked.pairs.map { ($0.key, $0.value["method"]?.stringValue ?? "", $0.value["params"]) }
        state = result["requestState"]
    }
}
