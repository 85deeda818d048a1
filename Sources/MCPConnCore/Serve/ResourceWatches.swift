import Foundation

/// The resource subscriptions `serve` holds for its clients: for each client and URI, one watch on the URI's
/// connector, in a session of its own (a subscription outlives the requests that share the connector's other
/// sessions), whose `notifications/resources/updated` go to the client. At most `maxPerClient` per client and
/// `maxTotal` in all: each holds a connection (a local server's process).
final class ResourceWatches: Sendable {
    static let maxPerClient = 16
    static let maxTotal = 64

    private struct Watch {
        let client: String
        let uri: String
        let task: Task<Void, Never>
    }

    private let watches = Locked<[Watch]>([])

    /// Watches `uri` on `connector` for `client`, each update's params to `hear`; returns once the connector took
    /// the subscription, or with why it did not. A URI the client already watches is taken as it is.
    func subscribe(
        client: String, uri: String, connector: Connector, sessions: ConnectorSessions, settings: NetworkSettings,
        hear: @escaping @Sendable (JSONValue) -> Void
    ) async -> Result<Void, JSONRPCError> {
        let started = Locked<CheckedContinuation<Result<Void, JSONRPCError>, Never>?>(nil)
        @Sendable func settle(_ r: Result<Void, JSONRPCError>) { started.withLock { $0.take() }?.resume(returning: r) }
        return await withCheckedContinuation { c in
            started.withLock { $0 = c }
            let refusal: String? = watches.withLock { w in
                if w.contains(where: { $0.client == client && $0.uri == uri }) { return "" }
                if w.filter({ $0.client == client }).count >= Self.maxPerClient || w.count >= Self.maxTotal {
                    return "mcpconn serve holds at most \(Self.maxPerClient) subscriptions per client"
                }
                let task = Task {
                    do throws(MCPConnError) {
                        try await sessions.watch(
                            connector, uris: [uri], settings: settings, subscribed: { settle(.success(())) }
                        ) { params in
                            hear(params)
                            return true
                        }
                    } catch {
                        settle(.failure(JSONRPCError(code: JSONRPCError.internalError, message: error.message)))
                    }
                    settle(.success(()))
                    self.forget(client, uri)
                }
                w.append(Watch(client: client, uri: uri, task: task))
                return nil
            }
            switch refusal {
            case nil: break
            case ""?: settle(.success(()))
            case let why?: settle(.failure(JSONRPCError(code: JSONRPCError.invalidRequest, message: why)))
            }
        }
    }

    /// Ends the client's watch of `uri` (all its watches when nil).
    func unsubscribe(client: String, uri: String? = nil) {
        let ended = watches.withLock { w in
            let mine = w.filter { $0.client == client && (uri == nil || $0.uri == uri) }
            w.removeAll { $0.client == client && (uri == nil || $0.uri == uri) }
            return mine
        }
        for watch in ended { watch.task.cancel() }
    }

    func cancelAll() {
        let all = watches.withLock { w in
            defer { w = [] }
            return w
        }
        for watch in all { watch.task.cancel() }
    }

    private func forget(_ client: String, _ uri: String) {
        watches.withLock { $0.removeAll { $0.client == client && $0.uri == uri } }
    }
}
