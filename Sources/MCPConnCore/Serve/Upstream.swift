import Foundation

/// One connector behind `serve`: its session opened at first use and kept open (its era remembered, its
/// connection kept alive), each request with its own deadline. Requests to one connector take turns: an
/// `MCPClient` is not shared between tasks. A session that fails below the protocol (the server went away, a
/// timeout) is dropped and opened again by the next request.
actor Upstream {
    let connector: Connector
    private let manager: ConnectorManager
    private let settings: NetworkSettings
    private var session: (client: MCPClient, redactor: Redactor)?
    /// Turns: an actor is reentrant at each `await`, so the session is held explicitly while one request uses it.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ connector: Connector, manager: ConnectorManager, settings: NetworkSettings) {
        self.connector = connector
        self.manager = manager
        self.settings = settings
    }

    nonisolated var name: String { connector.name }

    /// A catalog's items; none when the server does not offer it (method not found).
    func list(_ method: String, key: String) async -> Result<[JSONValue], MCPConnError> {
        await run { client throws(MCPClientError) in
            do throws(MCPClientError) {
                return try await client.listAll(method, key: key)
            } catch {
                if case .rpc(let e) = error, e.code == JSONRPCError.methodNotFound { return [] }
                throw error
            }
        }
    }

    /// Any other request, its result as the server sent it.
    func request(_ method: String, _ params: JSONValue?) async -> Result<JSONValue, MCPConnError> {
        await run { client throws(MCPClientError) in try await client.request(method, params) }
    }

    func call(_ tool: String, arguments: JSONObject) async -> Result<JSONValue, MCPConnError> {
        await run { client throws(MCPClientError) in try await client.callTool(tool, arguments: arguments) }
    }

    /// Ends the session (a local server's process with it), once the request using it is done.
    func close() async {
        await acquire()
        defer { release() }
        await endSession()
    }

    private func endSession() async {
        guard let s = session else { return }
        session = nil
        await s.client.close()
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the turn to the next waiter (who then holds it), or frees it.
    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    private func run<T: Sendable>(_ body: (MCPClient) async throws(MCPClientError) -> T) async
        -> Result<T, MCPConnError>
    {
        await acquire()
        defer { release() }
        let s: (client: MCPClient, redactor: Redactor)
        if let open = session {
            s = open
        } else {
            do throws(MCPConnError) {
                s = try await manager.openSession(connector, settings: settings)
            } catch {
                return .failure(error)
            }
            session = s
        }
        s.client.setDeadline(.now + .milliseconds(Int(settings.timeout * 1000)))
        do throws(MCPClientError) {
            let value = try await body(s.client)
            return .success(value)
        } catch {
            // A server's "no" or a request the client cancelled leaves the session as it is; anything else below
            // the protocol (the server went away, a timeout) ends it, and the next request opens a new one.
            switch error {
            case .rpc, .transport(.cancelled): break
            default: await endSession()
            }
            return .failure(manager.sessionFailure(error, connector, s.redactor))
        }
    }
}
