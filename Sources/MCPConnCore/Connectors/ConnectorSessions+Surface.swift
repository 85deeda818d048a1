/// The rest of a server's surface beside tools, for the verbs that show it (`prompts`, `prompt`, `resources`,
/// `read`, `complete`): one session per verb, what the server says redacted before anyone sees it.
extension ConnectorSessions {
    /// Every item of one of the server's paged lists (prompts, resources, resource templates). A server that
    /// does not offer the feature (no capability declared, or `Method not found`) has none: an empty list.
    package func list<L: PagedList>(_ ref: String, _ list: L.Type, settings: NetworkSettings)
        async throws(MCPConnError) -> [JSONValue]
    {
        let c = try storage.get(ref)
        return try await withSession(c, settings) { client, identity, redactor throws(MCPClientError) in
            try await Self.listIfOffered(L.self, client, identity, redactor)
        }
    }

    /// Every item of a paged list, redacted; none when the server's capabilities (when known) do not declare the
    /// feature or it answers `Method not found`.
    static func listIfOffered<L: PagedList>(
        _ list: L.Type, _ client: MCPClient, _ identity: ServerIdentity, _ redactor: Redactor
    ) async throws(MCPClientError) -> [JSONValue] {
        if let capabilities = identity.capabilities?.objectValue, capabilities[L.capability] == nil { return [] }
        do throws(MCPClientError) {
            return try await client.listAll(L.self).map(redactor.redact)
        } catch {
            guard case .rpc(let e) = error, e.code == JSONRPCError.methodNotFound else { throw error }
            return []
        }
    }

    /// One request of a typed method, its result redacted. A server without the method says so in the words
    /// of the feature (`completion/complete is not offered: Method not found`), not only as an error code.
    package func request<M: MCPMethod>(_ ref: String, _ method: M.Type, _ params: M.Params, settings: NetworkSettings)
        async throws(MCPConnError) -> M.Result
    {
        try await withSession(try storage.get(ref), settings) { client, _, redactor throws(MCPClientError) in
            do throws(MCPClientError) {
                let notifications = settings.notifications?.redacted(redactor)
                return M.Result(
                    redactor.redact(try await client.request(M.self, params, notifications: notifications).value))
            } catch {
                guard case .rpc(var e) = error, e.code == JSONRPCError.methodNotFound else { throw error }
                e.message = "\(M.name) is not offered: \(e.message)"
                throw .rpc(e)
            }
        }
    }

    /// Watches resources (see `MCPClient.watch`): each `notifications/resources/updated`'s params, redacted, go to
    /// `update` until it returns false or the task is cancelled. `--timeout` bounds connecting and subscribing; the
    /// watch itself lasts. A server that declares no resource subscriptions is refused before anything is sent.
    public func watch(
        _ ref: String, uris: [String], settings: NetworkSettings, update: @escaping @Sendable (JSONValue) -> Bool
    ) async throws(MCPConnError) {
        try await watch(try storage.get(ref), uris: uris, settings: settings, update: update)
    }

    /// The same for a connector already read; `subscribed` is called once the server took the subscriptions.
    func watch(
        _ c: Connector, uris: [String], settings: NetworkSettings, subscribed: (@Sendable () -> Void)? = nil,
        update: @escaping @Sendable (JSONValue) -> Bool
    ) async throws(MCPConnError) {
        var lasting = settings
        lasting.streamsOutliveTimeout = true
        let subscribeBy = ContinuousClock.now + .milliseconds(Int(settings.timeout * 1000))
        try await withSession(c, lasting) { client, identity, redactor throws(MCPClientError) in
            let resources = identity.capabilities?["resources"]
            if identity.capabilities != nil, resources?["subscribe"]?.boolValue != true {
                throw .rpc(
                    JSONRPCError(
                        code: JSONRPCError.methodNotFound,
                        message: "the server offers no resource subscriptions (resources.subscribe)"))
            }
            try await client.watch(uris, subscribeBy: subscribeBy, subscribed: subscribed) { params in
                update(redactor.redact(params ?? .null))
            }
        }
    }
}

extension RequestNotifications {
    /// The same, with what the server says redacted before it is shown: a log message may echo a credential.
    func redacted(_ redactor: Redactor) -> RequestNotifications {
        let receive = self.receive
        return RequestNotifications(progress: progress, logLevel: logLevel) { method, params in
            receive(method, params.map(redactor.redact))
        }
    }
}
