/// Resource subscriptions: `notifications/resources/updated` for some URIs, for as long as the caller watches.
extension MCPClient {
    package static let resourceUpdated = "notifications/resources/updated"

    /// What a watch waits for.
    private enum WatchEvent: Sendable {
        case session(SessionEvent)
        /// The 2026-07-28 listen request ended (it is not expected to, while watched).
        case listenEnded(MCPClientError)
        case subscribeDeadline
    }

    /// Subscribes to `uris` (by `subscribeBy`), then hands each update's params to `update` until it returns false
    /// (enough) or the task is cancelled. Throws when updates can no longer come (the server ended its stream or
    /// exited). Handshake era: `resources/subscribe` for each, updates on the session's shared stream (the GET
    /// stream, stdout, the legacy stream), `resources/unsubscribe` at the end. 2026-07-28: `subscriptions/listen`,
    /// acknowledged by the server, whose updates come on its own stream, cancelled at the end. The streams must
    /// outlive the operation's deadline: the client is made with `streamDeadline` far ahead.
    package func watch(
        _ uris: [String], subscribeBy: ContinuousClock.Instant, update: @escaping @Sendable (JSONValue?) -> Bool
    ) async throws(MCPClientError) {
        let (events, sink) = AsyncStream<WatchEvent>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        session.listen { sink.yield(.session($0)) }
        defer { session.listen(nil) }
        let timer = Task {
            try? await Task.sleep(until: subscribeBy, clock: .continuous)
            sink.yield(.subscribeDeadline)
        }
        defer { timer.cancel() }
        var listen: Task<Void, Never>?
        let watchUntil = options.streamDeadline ?? options.deadline
        if modernVersion != nil {
            options.deadline = watchUntil
            listen = Task {
                do throws(MCPClientError) {
                    _ = try await self.request(ListenSubscriptions.self, .init(resources: uris))
                    sink.yield(.listenEnded(.notMCP("the server ended subscriptions/listen")))
                } catch {
                    sink.yield(.listenEnded(error))
                }
            }
        } else {
            options.deadline = subscribeBy
            for uri in uris { _ = try await request(SubscribeResource.self, .init(uri: uri)) }
            options.deadline = watchUntil
            timer.cancel()
        }
        defer { listen?.cancel() }
        var acknowledged = listen == nil
        for await event in events {
            switch event {
            case .session(.notification(ListenSubscriptions.acknowledged, _)):
                acknowledged = true
                timer.cancel()
            case .session(.notification(Self.resourceUpdated, let params)):
                if !update(params) { return await unsubscribe(uris, listen) }
            case .session(.notification): continue
            case .session(.ended(let error)), .listenEnded(let error): throw error
            case .subscribeDeadline: if !acknowledged { throw .transport(.timeout) }
            }
        }
    }

    /// Ends the subscriptions politely, within two seconds.
    private func unsubscribe(_ uris: [String], _ listen: Task<Void, Never>?) async {
        if let listen {
            listen.cancel()
            await listen.value
            return
        }
        options.deadline = .now + .seconds(2)
        for uri in uris { _ = try? await request(UnsubscribeResource.self, .init(uri: uri)) }
    }
}
