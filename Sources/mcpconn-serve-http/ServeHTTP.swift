import Foundation
import MCPConnCore
import NIOCore
import NIOPosix

/// `mcpconn serve --http`, which execs this program with its checked plan: the connectors behind one MCP
/// endpoint over streamable HTTP until SIGINT or SIGTERM, then every connection and upstream session closed
/// (local servers' processes ended) and exit 0. Failures: one line on stderr and mcpconn's exit codes.
@main
enum ServeHTTP {
    static func main() async {
        // Swift's tasks run on NIO's event loops: a request then goes from its connection to the gateway and
        // back without the thread switches between two pools (measured: see docs/performance.md).
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let environment = ProcessInfo.processInfo.environment
        // As mcpconn itself: the key is in the environment and secrets are decrypted here.
        ProcessHardening.forbidCoreDumps()
        ProcessHardening.silenceCrashReports(environment: environment)
        let args = CommandLine.arguments
        guard args.count == 3, args[1] == "--plan", let plan = HTTPServePlan(encoded: args[2]) else {
            fail(MCPConnError(.usage, "\(HTTPServePlan.programName) is started by 'mcpconn serve --http'"))
        }
        do throws(MCPConnError) {
            try await serve(plan, environment)
        } catch {
            fail(error)
        }
        await Network.drain()
        ChildProcesses.endProgram(status: 0)
    }

    static func serve(_ plan: HTTPServePlan, _ environment: [String: String]) async throws(MCPConnError) {
        try plan.checkNoToken(environment)  // again: this program may be started by hand with any plan
        let given = try BearerToken.fromEnvironment(environment)
        let token = plan.noToken || plan.clients || plan.oauthIssuer != nil ? nil : given ?? BearerToken.generate()
        let manager = ConnectorManager(
            store: try Store.open(
                plan.database.isEmpty ? ProcessInfo.processInfo.environment["MCPCONN_DB"] ?? "" : plan.database),
            userID: plan.user,
            keys: KeyProvider(environment: environment, notice: { say($0) }))
        let connectors = try manager.storage.targets(plan.connectors.map(String.init), all: false)
        try manager.storage.checkKey(for: connectors)
        let log: (@Sendable (String) -> Void)? = plan.verbose ? Self.say : nil
        let settings = NetworkSettings(timeout: plan.timeout, maxBytes: plan.maxBytes, trace: log)
        let audit =
            plan.audit
            ? try AuditWriter(
                storage: manager.storage, sealArguments: plan.auditArguments,
                interval: AuditWriter.interval(environment),
                warn: { say("mcpconn serve: warning: " + $0) }) : nil
        // Metrics are kept for a gateway of clients only: a plain serve has one caller, and stays as lean.
        let metrics = plan.clients ? GatewayMetrics() : nil
        let recorders = [audit?.recorder, metrics?.recorder].compactMap { $0 }
        let gateway = Gateway(
            manager: manager, connectors: connectors, settings: settings, log: log,
            warn: { say("mcpconn serve: warning: " + $0) }, recorders: recorders)
        audit?.start()
        let hosts = AllowedHosts(listen: plan.listen, names: plan.allowedHosts)
        let registry =
            plan.clients || plan.oauthIssuer != nil
            ? try ClientRegistry(storage: manager.storage, warn: { say("mcpconn serve: warning: " + $0) }, log: log)
            : nil
        let clients = plan.clients ? registry : nil
        let oauth = try await oauthResource(plan, registry, log: log)
        let health = StoreHealth(storage: manager.storage)
        var monitor = ServeMonitor(healthy: { health.healthy })
        if let metrics { monitor.metrics = { metrics.exposition(sessions: $0) } }
        let endpoint = HTTPEndpoint(
            gateway: gateway, token: token, clients: clients, oauth: oauth, hosts: hosts, log: log, monitor: monitor)
        let stopped = OneTimeEvent()  // the first SIGINT or SIGTERM
        ChildProcesses.onFirstTerminationSignal { _ in stopped.happen() }
        let server = try await HTTPServer.start(endpoint, at: plan.listen, maxBodyBytes: plan.maxBytes)
        let url = "http://\(plan.listen.urlHost):\(server.port ?? plan.listen.port)\(endpoint.path)"
        oauth?.listening(at: url)
        if plan.json {
            // For scripts: where to connect, and whether the token is the environment's (never the token itself).
            // Before the line on stderr, so whoever waits for that one finds this one written.
            let source =
                plan.clients
                ? "clients"
                : oauth != nil ? "oauth" : plan.noToken ? "none" : given == nil ? "generated" : "environment"
            LineWriter(fd: 1).write(.object(["url": .string(url), "token": .string(source)]))
        }
        say("mcpconn serve: listening on \(url)")
        if let token, given == nil {
            say("mcpconn serve: the token for this run (clients send 'Authorization: Bearer TOKEN'): \(token)")
        }
        if let oauth {
            say(
                "mcpconn serve: --oauth-issuer: access tokens of \(oauth.issuer) for \(oauth.resource), scopes "
                    + oauth.rules.map { "\($0.scope)=\($0.client)" }.joined(separator: " "))
        }
        if let clients {
            say(
                "mcpconn serve: --clients: \(clients.count) client(s); each sends 'Authorization: Bearer' its own token"
            )
        } else if token == nil && oauth == nil {
            say("mcpconn serve: warning: --no-token: any user or process on this machine can call every connector")
        }
        let watcher = Task { await endpoint.watchStoredTools() }
        let clientWatcher = Task { await registry?.watch() }
        let healthWatcher = Task { await health.watch() }
        await stopped.wait()
        log?("serve: stopping: closing connections and upstream sessions")
        watcher.cancel()
        clientWatcher.cancel()
        healthWatcher.cancel()
        await server.stop()
        if let registry { await Blocking.run { registry.shareRates() } }  // the last admitted, for the replicas left
        await gateway.close()
        await gateway.recordedCallsEnded()  // the calls cut short by the end are rows too (5 s at most)
        await audit?.finish()
    }

    /// `--oauth-issuer`: the issuer's metadata and keys read, each `--oauth-scope`'s client found (66 if not).
    static func oauthResource(_ plan: HTTPServePlan, _ registry: ClientRegistry?, log: (@Sendable (String) -> Void)?)
        async throws(MCPConnError) -> OAuthResourceServer?
    {
        guard let issuer = plan.oauthIssuer, let registry else { return nil }
        var rules: [OAuthResourceServer.ScopeRule] = []
        for text in plan.oauthScopes {
            let rule = try OAuthResourceServer.ScopeRule.parse(text)
            guard registry.client(named: rule.client) != nil else {
                throw MCPConnError(
                    .notFound, "--oauth-scope \(rule.scope)=\(rule.client): no client '\(rule.client)' (client add)")
            }
            rules.append(rule)
        }
        let verifier = try await JWTVerifier.start(
            issuer: issuer, timeout: plan.timeout, warn: { say("mcpconn serve: warning: " + $0) })
        return OAuthResourceServer(
            issuer: verifier.issuerName, resource: plan.oauthAudience, rules: rules, registry: registry,
            verify: { await verifier.verify($0, audience: $1) }, log: log)
    }

    private static let stderr = LineWriter(fd: 2)

    /// One line on stderr, made safe for a terminal.
    @Sendable static func say(_ text: String) { stderr.write(line: text) }

    static func fail(_ error: MCPConnError) -> Never {
        say("mcpconn: " + error.message)
        ChildProcesses.endProgram(status: error.status.rawValue)
    }
}
