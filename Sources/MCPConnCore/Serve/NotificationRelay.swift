import Foundation

/// What a client's request asks to hear while it runs, and the relay of what its connector says about it:
/// progress under the client's own token, log messages from the level the client asked for.
///
/// Notifications come on a transport's thread, which must not wait on the client: they are queued and written by
/// a task of the request's own, in order, and all before the answer (the request waits for the queue to drain).
/// At most `maxPending` wait (the oldest dropped first: the latest progress is what counts), none larger than
/// `maxBytes`, so a chatty connector cannot make `serve` hold more than that for a slow client.
struct NotificationRelay: Sendable {
    static let maxPending = 64
    static let maxBytes = 64 * 1024
    /// The level a handshake-era client hears from: such a client sets its level for the session
    /// (`logging/setLevel`), which `serve` does not keep (one gateway may serve several clients).
    static let handshakeLogLevel = "info"

    /// The client's progressToken (a string or an integer), which the relayed progress carries.
    let progressToken: JSONValue?
    /// The least severe level relayed; nil relays no log messages.
    let logLevel: String?

    /// What the request's `_meta` asks for. A 2026-07-28 request opts in to log messages itself (and hears none
    /// without); a handshake-era client hears `handshakeLogLevel` and above.
    init(_ params: JSONValue?) {
        let meta = params?["_meta"]
        switch meta?["progressToken"] {
        case let token? where token.stringValue != nil || token.intValue != nil: progressToken = token
        default: progressToken = nil
        }
        let level =
            meta?[MCPVocabulary.Meta.protocolVersion] == nil
            ? Self.handshakeLogLevel : meta?[MCPVocabulary.Meta.logLevel]?.stringValue
        logLevel = level.flatMap { Self.severity($0) == nil ? nil : $0 }
    }

    static func severity(_ level: String) -> Int? { MCPVocabulary.severity(level) }

    var wantsAny: Bool { progressToken != nil || logLevel != nil }

    /// Runs `body` (the request to the connector) with the client's notifications relayed to `notify`; returns
    /// once every one queued has been handed over.
    func run<T: Sendable>(
        to notify: @escaping @Sendable (JSONValue) -> Void, _ body: (RequestNotifications) async -> T
    ) async -> T {
        let (queue, input) = AsyncStream.makeStream(
            of: JSONValue.self, bufferingPolicy: .bufferingNewest(Self.maxPending))
        async let drained: Void = Self.drain(queue, to: notify)
        let listener = RequestNotifications(progress: progressToken != nil, logLevel: logLevel) { method, params in
            if let note = relayed(method, params) { input.yield(note) }
        }
        let result = await body(listener)
        input.finish()
        await drained
        return result
    }

    private static func drain(_ queue: AsyncStream<JSONValue>, to notify: @Sendable (JSONValue) -> Void) async {
        for await note in queue { notify(note) }
    }

    /// The notification the client gets for one from the connector, if any: progress with the client's token (and
    /// only the spec's fields: nothing of the connector's own), a log message as it came, when at the level.
    func relayed(_ method: String, _ params: JSONValue?) -> JSONValue? {
        let note: JSONValue
        switch method {
        case NotificationRoute.progress:
            guard let progressToken, let progress = params?["progress"], case .number = progress else { return nil }
            var p: JSONObject = ["progressToken": progressToken, "progress": progress]
            if let total = params?["total"], case .number = total { p["total"] = total }
            if let message = params?["message"], case .string = message { p["message"] = message }
            note = JSONRPC.notification(method: method, params: .object(p))
        case NotificationRoute.logMessage:
            guard let least = logLevel.flatMap(Self.severity), let level = params?["level"]?.stringValue,
                let severity = Self.severity(level), severity >= least
            else { return nil }
            note = JSONRPC.notification(method: method, params: params)
        default:
            return nil
        }
        guard note.compactBytes().count <= Self.maxBytes else { return nil }
        return note
    }
}
