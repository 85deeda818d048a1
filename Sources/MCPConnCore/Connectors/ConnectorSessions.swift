import Foundation

/// The outcome of checking or refreshing one connector.
public struct ConnectorReport: Sendable {
    public var id: Int64
    public var name: String
    public var ok: Bool
    public var latencyMs: Int?
    public var identity: ServerIdentity?
    public var toolCount: Int?
    /// How many prompts, resources and resource templates were found (verify/refresh).
    public var promptCount: Int?
    public var resourceCount: Int?
    public var templateCount: Int?
    public var error: MCPConnError?
    /// The names of the tools found (verify/refresh).
    public var toolNames: [String] = []
    /// Tools `--expect-tool` asked for that the server lacks.
    public var missingTools: [String] = []
    /// How the tools, prompts, resources and templates changed against the stored ones (verify/refresh).
    public var diff: SurfaceDiff?
}

/// The network side of a user's connectors: MCP sessions to their servers (verify, refresh, health, call, and
/// the sessions `serve` keeps open), run concurrently over fleets. What a session learns goes to ``storage``;
/// an OAuth grant about to expire is renewed through ``oauth`` first.
public struct ConnectorSessions: Sendable {
    public let storage: ConnectorStorage
    public let oauth: OAuthGrants

    var store: Store { storage.store }

    /// A connector ready for a session: it must be active; its credentials are decrypted once, in memory only,
    /// and an OAuth access token about to expire is refreshed first.
    func prepared(_ c: Connector, settings: NetworkSettings) async throws(MCPConnError) -> (Connector, Credentials?) {
        guard c.isActive else {
            throw .init(
                .unavailable, "connector '\(c.name)' is disabled (enable it with `mcpconn toggle \(c.name) --on`)")
        }
        let (c, creds) = try storage.opened(c)
        if c.authType == .oauth, let creds, creds.refreshToken != nil, creds.expiresSoon() {
            return try await refreshTokens(c, creds, rejected: false, settings: settings)
        }
        return (c, creds)
    }

    /// Refreshes an OAuth grant; the token endpoint's error text may echo the tokens it was sent.
    private func refreshTokens(_ c: Connector, _ creds: Credentials, rejected: Bool, settings: NetworkSettings)
        async throws(MCPConnError) -> (Connector, Credentials?)
    {
        do {
            return try await oauth.refreshTokens(c, rejected: rejected ? creds.accessToken : nil, settings: settings)
        } catch {
            throw Redactor(secrets: creds.secretValues).redact(error)
        }
    }

    /// Opens an MCP session to a connector with its decrypted credentials.
    func openClient(
        _ c: Connector, _ creds: Credentials?, _ settings: NetworkSettings, capture: ServerCertificateCapture? = nil
    ) throws(MCPConnError) -> MCPClient {
        if c.authType == .oauth, creds?.accessToken == nil, creds?.refreshToken == nil {
            throw .init(
                .permissionDenied,
                "connector '\(c.name)' has no OAuth token: run `mcpconn login \(c.name)` (or store a static token with `mcpconn update \(c.name) --secret-stdin`)"
            )
        }
        if c.authType != .none, creds == nil {
            throw .config(
                "connector '\(c.name)' has no credentials: set them with `mcpconn update \(c.name) --secret-stdin`")
        }
        // A local server gets its credentials in its environment, never as a header.
        let headers = c.isStdio ? [] : creds?.headers(for: c.authType) ?? []
        let log = settings.trace.map { sink in
            ProtocolLog(secrets: creds?.secretValues ?? [], redactedHeaders: headers.map(\.name), sink: sink)
        }
        var options = MCPClient.Options(
            deadline: .now + .milliseconds(Int(settings.timeout * 1000)), maxBytes: settings.maxBytes,
            credentialHeaders: headers, log: log,
            tls: c.isStdio ? nil : c.tls.settings(serverURL: c.serverURL, credentials: creds))
        options.tls?.certificateCapture = capture
        options.handlers = settings.answers.handlers(
            connector: c.name, deadline: options.deadline, redactor: Redactor(secrets: creds?.secretValues ?? []))
        if settings.streamsOutliveTimeout { options.streamDeadline = .now + .seconds(100 * 365 * 86400) }
        if let command = c.command {
            let launch = StdioLaunch(
                command: command, arguments: creds?.launchArguments(c.arguments) ?? c.arguments,
                workingDirectory: c.workingDirectory, environment: creds?.launchEnvironment ?? [:])
            // `server_url` holds a local server's command line as `list` shows it.
            return MCPClient.stdio(launch, label: c.serverURL, options: options)
        }
        return MCPClient(url: c.serverURL, options: options)
    }

    /// Runs `body` on a connected client and always closes the session. The client starts from what the
    /// store remembers of the server; when it learnt something new, the record is updated. What the server
    /// says passes through `Redactor` first: a server that echoes the credential (in an error, a tool result,
    /// its identity) must not get it stored, recorded or printed.
    func withSession<T>(
        _ connector: Connector, _ settings: NetworkSettings, useHint: Bool = true,
        capture: ServerCertificateCapture? = nil,
        _ body: (MCPClient, ServerIdentity, Redactor) async throws(MCPClientError) -> T
    ) async throws(MCPConnError) -> T {
        var (c, creds) = try await prepared(connector, settings: settings)
        // OAuth: a token refused with 401 is refreshed once and the whole exchange retried (the server refused
        // before doing anything).
        var retried = false
        func refreshable(_ error: MCPClientError) -> Credentials? {
            guard !retried, case .http(401, _) = error, c.authType == .oauth, let creds, creds.refreshToken != nil
            else { return nil }
            retried = true
            return creds
        }
        while true {
            let client = try openClient(c, creds, settings, capture: capture)
            let redactor = Redactor(secrets: creds?.secretValues ?? [])
            var connected = false
            let result: T
            do {
                let identity = redactor.redact(try await client.connect(hint: useHint ? c.identity : nil))
                connected = true
                result = try await body(client, identity, redactor)
                await client.close()
                if let id = client.identity.map(redactor.redact), client.renegotiated || c.identity != id.stored {
                    await storage.remember(id, for: c)
                }
            } catch {
                await client.close()
                if connected, client.renegotiated, let id = client.identity {
                    await storage.remember(redactor.redact(id), for: c)
                }
                // An answer of ours that failed is why the server failed the request: say that.
                if let problem = settings.answers.problem { throw redactor.redact(problem) }
                if let old = refreshable(error) {
                    (c, creds) = try await refreshTokens(c, old, rejected: true, settings: settings)
                    continue
                }
                throw redactor.redact(failure(error, connected: connected, c))
            }
            // An answer of ours that failed decides the outcome, whatever the server made of its refusal.
            if let problem = settings.answers.problem { throw redactor.redact(problem) }
            return result
        }
    }

    /// Opens a session the caller keeps open across requests (`serve`): credentials prepared (an expiring OAuth
    /// token refreshed first), the remembered era used, what the server said remembered. The caller closes it.
    public func openSession(_ connector: Connector, settings: NetworkSettings) async throws(MCPConnError)
        -> (client: MCPClient, redactor: Redactor)
    {
        let (c, creds) = try await prepared(connector, settings: settings)
        let client = try openClient(c, creds, settings)
        let redactor = Redactor(secrets: creds?.secretValues ?? [])
        do {
            let id = redactor.redact(try await client.connect(hint: c.identity))
            if client.renegotiated || c.identity != id.stored { await storage.remember(id, for: c) }
            return (client, redactor)
        } catch {
            await client.close()
            throw redactor.redact(failure(error, connected: false, c))
        }
    }

    /// A failure during an open session, as the CLI would report it.
    public func sessionFailure(_ error: MCPClientError, _ c: Connector, _ redactor: Redactor) -> MCPConnError {
        redactor.redact(failure(error, connected: true, c))
    }

    /// A session's failure as the CLI reports it.
    private func failure(_ error: MCPClientError, connected: Bool, _ c: Connector) -> MCPConnError {
        let who = "connector '\(c.name)'"
        // After a good handshake, a JSON-RPC error is the server's valid "no" (unknown tool, bad arguments):
        // the operation failed, the server is fine.
        if connected, case .rpc(let e) = error {
            return MCPConnError(.failure, "\(who): \(e.message) (error \(e.code))")
        }
        return loginHint(error.error(who), c)
    }

    /// A refused OAuth connector's error says how to get new tokens.
    private func loginHint(_ e: MCPConnError, _ c: Connector) -> MCPConnError {
        guard c.authType == .oauth, e.status == .permissionDenied else { return e }
        return MCPConnError(e.status, e.message + ": run `mcpconn login \(c.name)`")
    }

    // MARK: verify / refresh

    /// Connects, lists all tools and stores them; marks the connectors verified or records the failures.
    /// A missing or wrong key fails the whole run before anything is sent or written.
    public func verify(_ connectors: [Connector], expectTools: [String] = [], settings: NetworkSettings)
        async throws(MCPConnError) -> [ConnectorReport]
    {
        try storage.checkKey(for: connectors)
        let reports = await forEach(connectors, kind: .verify, settings: settings) { c in
            var r = await self.discover(c, settings: settings, kind: .verify)
            if r.ok { r.missingTools = expectTools.filter { !r.toolNames.contains($0) } }
            return r
        }
        if let lost = store.lostError { throw lost }
        return reports
    }

    /// Verifies one connector; its failure is thrown.
    public func verify(_ ref: String, expectTools: [String] = [], settings: NetworkSettings) async throws(MCPConnError)
        -> ConnectorReport
    {
        let c = try storage.get(ref)
        guard let r = try await verify([c], expectTools: expectTools, settings: settings).first else {
            throw MCPConnError(
                .failure, "connector '\(c.name)': another runner holds it or checked it within the --claim window")
        }
        if let e = r.error { throw e }
        return r
    }

    /// Re-discovers tools of several connectors (concurrently), storing each result and its drift.
    public func refresh(_ connectors: [Connector], settings: NetworkSettings) async throws(MCPConnError)
        -> [ConnectorReport]
    {
        try storage.checkKey(for: connectors)
        let reports = await forEach(connectors, kind: .refresh, settings: settings) { c in
            await self.discover(c, settings: settings, kind: .refresh)
        }
        if let lost = store.lostError { throw lost }
        return reports
    }

    /// Lists tools, prompts, resources and resource templates (those the server offers) and writes the outcome,
    /// its drift and a history entry in one short transaction (network work stays outside it; the drift is
    /// against what is stored at write time). A result counts only once stored: a write that fails (a read-only
    /// store, say) fails the connector's report.
    func discover(_ c: Connector, settings: NetworkSettings, kind: HistoryEntry.Kind) async -> ConnectorReport {
        let start = ContinuousClock.now
        var report = ConnectorReport(id: c.id ?? 0, name: c.name, ok: false)
        var surface = DiscoveredSurface()
        let capture = Self.certificateCapture(for: c)
        do throws(MCPConnError) {
            // verify negotiates afresh; refresh trusts what the store remembers (re-negotiating if refused).
            (report.identity, surface) = try await withSession(
                c, settings, useHint: kind != .verify, capture: capture
            ) {
                client, identity, redactor throws(MCPClientError) in
                var found = DiscoveredSurface(tools: try await client.listTools().map(redactor.redact))
                // The tools decide the check; a server that fails to list the rest keeps what was stored of it.
                func list<L: PagedList>(_ l: L.Type, _ kind: SurfaceKind) async -> [JSONValue] {
                    do throws(MCPClientError) {
                        return try await Self.listIfOffered(L.self, client, identity, redactor)
                    } catch {
                        found.unknown.insert(kind)
                        return []
                    }
                }
                found.prompts = await list(ListPrompts.self, .prompts)
                found.resources = await list(ListResources.self, .resources)
                found.templates = await list(ListResourceTemplates.self, .templates)
                return (identity, found)
            }
        } catch {
            report.error = error
            report.latencyMs = Self.milliseconds(since: start)
            if let unsaved = await storage.recordFailure(c, error, kind: kind, latencyMs: report.latencyMs) {
                report.error = unsaved
            }
            return report
        }
        report.latencyMs = Self.milliseconds(since: start)
        do throws(MCPConnError) {
            report.diff = try await storage.recordSurface(
                c, surface, serverKey: Self.serverKey(capture), kind: kind, latencyMs: report.latencyMs)
        } catch {
            report.error = ConnectorStorage.unsaved(c, error)
            return report
        }
        report.ok = true
        report.toolCount = surface.tools.count
        // A list the server failed to give has no count (it was left as stored).
        func count(_ kind: SurfaceKind) -> Int? { surface.unknown.contains(kind) ? nil : surface[kind].count }
        report.promptCount = count(.prompts)
        report.resourceCount = count(.resources)
        report.templateCount = count(.templates)
        report.toolNames = surface.tools.compactMap { $0["name"]?.stringValue }
        return report
    }

    /// Where an HTTPS connector's session keeps its server's certificate (verify, refresh, health: the server
    /// pin's key); nil for other connectors, and never for `call` or `serve`.
    static func certificateCapture(for c: Connector) -> ServerCertificateCapture? {
        !c.isStdio && c.serverURL.lowercased().hasPrefix("https:") ? ServerCertificateCapture() : nil
    }

    /// The key of the certificate a session kept; nil when it kept none (a connection reused from another
    /// connector's session to the same server: the stored key stays).
    static func serverKey(_ capture: ServerCertificateCapture?) -> String? {
        capture?.pem.flatMap { ServerKey.pin(certificatePEM: $0) }
    }

    // MARK: health

    /// Checks several connectors (concurrently): connect, then ping. The outcome counts once it is in history.
    public func health(_ connectors: [Connector], settings: NetworkSettings) async throws(MCPConnError)
        -> [ConnectorReport]
    {
        try storage.checkKey(for: connectors)
        let reports = await forEach(connectors, kind: .health, settings: settings) { c in
            let start = ContinuousClock.now
            var r = ConnectorReport(id: c.id ?? 0, name: c.name, ok: false)
            let capture = Self.certificateCapture(for: c)
            do throws(MCPConnError) {
                r.identity = try await self.withSession(c, settings, capture: capture) {
                    client, identity, redactor throws(MCPClientError) in
                    // A handshake or discover probe already proved the server answers; a remembered
                    // modern era sent nothing yet, so ask it something.
                    if client.exchanges == 0 { try await client.ping() }
                    return client.identity.map(redactor.redact) ?? identity
                }
                r.ok = true
            } catch {
                r.error = error
            }
            r.latencyMs = Self.milliseconds(since: start)
            do throws(MCPConnError) {
                try await self.storage.recordHealth(
                    c, ok: r.ok, latencyMs: r.latencyMs, error: r.error?.message, serverKey: Self.serverKey(capture))
            } catch {
                if r.ok { r.error = ConnectorStorage.unsaved(c, error) }
                r.ok = false
            }
            return r
        }
        if let lost = store.lostError { throw lost }
        return reports
    }

    // MARK: call

    /// Calls a tool; returns the CallToolResult as received. For a connector in pinned mode (its own or the
    /// store's), the server's tools are listed first on the same session and the tool is called only if its
    /// listed form is the approved one; else nothing is called and the call fails with 80 (``pinRefusal``).
    /// `allowUnpinned` skips that check; `warn` gets what was found changed outside mcpconn on the way. A tool
    /// outside the connector's allow-list is refused (80) before anything is sent, whatever the flags.
    public func call(
        _ ref: String, tool: String, arguments: JSONObject, settings: NetworkSettings, allowUnpinned: Bool = false,
        warn: (String) -> Void = { _ in }
    ) async throws(MCPConnError) -> JSONValue {
        let (c, gate) = try gated(ref, tool: tool, allowUnpinned: allowUnpinned, warn)
        let outcome = try await withSession(c, settings) {
            client, _, redactor throws(MCPClientError) -> Result<JSONValue, MCPConnError> in
            if gate.isPinned, let refused = Self.pinRefusal(tool, c, gate, try await client.listTools(), redactor) {
                return .failure(refused)
            }
            do throws(MCPClientError) {
                return .success(
                    redactor.redact(
                        try await client.callTool(
                            tool, arguments: arguments, notifications: settings.notifications?.redacted(redactor))))
            } catch {
                // Refused (Method not found, as the spec has it) because the tool runs only as a task: say so.
                guard case .rpc(var e) = error, e.code == JSONRPCError.methodNotFound,
                    (try? await Self.taskSupport(of: tool, client)) == "required"
                else { throw error }
                e.message =
                    "tool '\(tool)' runs only as a task (its execution.taskSupport is required): use `call --task` (\(e.message))"
                throw .rpc(e)
            }
        }
        return try outcome.get()
    }

    /// The connector `ref` and the gate its tools pass before a call (without pinned mode with `allowUnpinned`);
    /// fails (80) with nothing sent when `tool` is outside the connector's allow-list, which no flag lifts.
    func gated(_ ref: String, tool: String, allowUnpinned: Bool, _ warn: (String) -> Void) throws(MCPConnError)
        -> (Connector, PinGate)
    {
        let c: Connector
        var gate: PinGate
        if allowUnpinned {
            c = try storage.get(ref)
            gate = PinGate.open.filtered(by: c.toolFilter)
        } else {
            let warnings: [String]
            (c, gate, warnings) = try storage.gated(ref)
            warnings.forEach(warn)
        }
        if let refused = gate.filterRefusal(tool, connector: c.name) {
            throw MCPConnError(.unapproved, refused + ": nothing was called")
        }
        return (c, gate)
    }

    /// Why pinned mode refuses to call `tool`, given the server's tools as listed now (on the session about to
    /// call it, every page; redacted as they are stored, so their forms compare with the approved ones): every
    /// tool listed under that name must be in its approved form. A tool not listed is refused too: its form
    /// cannot be checked. Nil when the call may go ahead.
    static func pinRefusal(_ tool: String, _ c: Connector, _ gate: PinGate, _ listed: [JSONValue], _ redactor: Redactor)
        -> MCPConnError?
    {
        let named = listed.filter { $0["name"]?.stringValue == tool }.map(redactor.redact)
        guard !named.isEmpty else {
            return MCPConnError(
                .unapproved,
                "tool '\(TerminalText.escape(tool))' of connector '\(c.name)' is not in the server's tools/list, so its form cannot be checked against its approval (pinned mode): nothing was called"
            )
        }
        guard let status = named.map(gate.status(of:)).first(where: { $0 != .approved }) else { return nil }
        return MCPConnError(.unapproved, PinGate.reason(status, tool: tool, connector: c.name) + ": nothing was called")
    }

    /// Runs `work` over connectors with at most `settings.concurrency` at once; results keep the input order.
    /// With a claim policy, only the connectors this runner claims are worked on and reported.
    func forEach(
        _ connectors: [Connector], kind: HistoryEntry.Kind, settings: NetworkSettings,
        _ work: @escaping @Sendable (Connector) async -> ConnectorReport
    ) async -> [ConnectorReport] {
        let limit = max(1, settings.concurrency)
        return await withTaskGroup(of: (Int, ConnectorReport?).self) { group in
            var results = [ConnectorReport?](repeating: nil, count: connectors.count)
            var next = 0
            while next < connectors.count && next < limit {
                let i = next
                group.addTask { (i, await self.claimed(connectors[i], kind: kind, settings: settings, work)) }
                next += 1
            }
            var done = 0
            var failed = 0
            while let (i, r) = await group.next() {
                results[i] = r
                done += 1
                if r?.ok == false { failed += 1 }
                settings.progress?(done, connectors.count, failed)
                if next < connectors.count {
                    let j = next
                    group.addTask { (j, await self.claimed(connectors[j], kind: kind, settings: settings, work)) }
                    next += 1
                }
            }
            return results.compactMap { $0 }
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let d = (ContinuousClock.now - start).components
        return Int(d.seconds * 1000 + d.attoseconds / 1_000_000_000_000_000)
    }
}
