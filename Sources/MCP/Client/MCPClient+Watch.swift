/// Resource subscriptions: `notifications/resources/updated` for some URIs, for as long as the caller watches.
extension MCPClient {
    package static let resourceUpdated = "notifications/resources/updated"

    /// What a watch waits for.
    private enum WatchEvent: Sendable {
        case session(SessionEvent)
        /// The 2026-07-28 listen request ended (it is not expected to, while watched).
        case listenEnded(MCPClientError)
        case subscribeDeadline
        /// Time to renew the server's budget of requests (see `keepAnswering`).
        case renewBudget
    }

    /// How often a watch renews the server's budget of requests: at most 64 per this long.
    static let watchBudgetPeriod = Duration.seconds(10)

    /// Subscribes to `uris` (by `subscribeBy`), then hands each update's params to `update` until it returns false
    /// (enough) or the task is cancelled. Throws when updates can no longer come (the server ended its stream or
    /// exited). Handshake era: `resources/subscribe` for each, updates on the session's shared stream (the GET
    /// stream, stdout, the legacy stream), `resources/unsubscribe` at the end. 2026-07-28: `subscriptions/listen`,
    /// acknowledged by the server, whose updates come on its own stream, cancelled at the end. The streams must
    /// outlive the operation's deadline: the client is made with `streamDeadline` far ahead.
    /// `subscribed` is called once the server took the subscriptions (each subscribe answered, or the listen
    /// request acknowledged).
    package func watch(
        _ uris: [String], subscribeBy: ContinuousClock.Instant, subscribed: (@Sendable () -> Void)? = nil,
        update: @escaping @Sendable (JSONValue?) -> Bool
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
                    sink.yield(.listenEnded(.transport(.unreachable("the server ended subscriptions/listen"))))
                } catch {
                    sink.yield(.listenEnded(error))
                }
            }
        } else {
            options.deadline = subscribeBy
            for uri in uris { _ = try await request(SubscribeResource.self, .init(uri: uri)) }
            options.deadline = watchUntil
            timer.cancel()
            subscribed?()
        }
        defer { listen?.cancel() }
        session.keepAnswering(until: watchUntil)
        let renewer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.watchBudgetPeriod)
                sink.yield(.renewBudget)
            }
        }
        defer { renewer.cancel() }
        var acknowledged = listen == nil
        for await event in events {
            switch event {
            case .session(.notification(ListenSubscriptions.acknowledged, _)):
                if !acknowledged { subscribed?() }
                acknowledged = true
                timer.cancel()
            case .session(.notification(Self.resourceUpdated, let params)):
                if !update(params) { return await unsubscribe(uris, listen) }
            case .session(.notification): continue
            case .session(.ended(let error)), .listenEnded(let error): throw Self.watchEnd(error)
            case .subscribeDeadline: if !acknowledged { throw .transport(.timeout) }
            case .renewBudget: session.keepAnswering(until: watchUntil)
            }
        }
    }

    /// Why a watch ended, as the caller reports it: a stream the server refused (HTTP 405 to the GET: it offers
    /// none) is a feature it lacks; a stream that grew past the size cap is one to start again, like one the server
    /// ended (a supervisor restarts on those).
    static func watchEnd(_ error: MCPClientError) -> MCPClientError {
        switch error {
        case .http(let status, _) where (400..<500).contains(status):
            let why = "the server offers no event stream for updates (HTTP \(status) to GET)"
            return .rpc(JSONRPCError(code: JSONRPCError.methodNotFound, message: why))
        case .transport(.oversized(let limit)):
            return .transport(.unreachable("the event stream passed \(limit / (1024 * 1024)) MiB (--max-response-mb)"))
        default: return error
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
