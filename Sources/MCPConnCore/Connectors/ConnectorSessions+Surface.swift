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
                return M.Result(redactor.redact(try await client.request(M.self, params).value))
            } catch {
                guard case .rpc(var e) = error, e.code == JSONRPCError.methodNotFound else { throw error }
                e.message = "\(M.name) is not offered: \(e.message)"
                throw .rpc(e)
            }
        }
    }
}
