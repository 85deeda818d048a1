import ArgumentParser
import Foundation
import MCPConnCore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve connectors to MCP clients over stdio or HTTP, credentials kept inside.",
        discussion: """
            mcpconn speaks MCP on stdin and stdout (or over streamable HTTP with --http) and forwards requests to \
            the connectors: one connector's tools keep their names; with several (or --all, every active one) \
            each is named <connector>__<tool>. Resources keep their URIs; one no connector lists goes to the \
            connector whose resource template it fits. Sessions to the connectors open at first use and stay open; a \
            failure reaches the client as a tool result with isError. --timeout applies to each forwarded \
            request; its progress and log messages reach the client before its answer. Over stdio, runs until \
            stdin closes.

            With --http, every request needs 'Authorization: Bearer TOKEN': the token is MCPCONN_SERVE_TOKEN \
            (16 characters or more), else one made for this run and printed once on stderr, with the address. \
            --no-token, for a loopback address only, serves requests without one (any user or process on this \
            machine can then use the connectors). \
            Requests from a web page of another origin, or naming a host other than loopback, the listening \
            address or an --allowed-host, are refused. Runs until SIGINT or SIGTERM.

            With --http --clients, each request carries the token of a client made with `client add` instead: the \
            client sees only its user's connectors among those served, and only the tools its --allow/--deny rules \
            let through (a call outside them: a JSON-RPC error); over its --rate, HTTP 429 with Retry-After. A \
            client removed or rotated is refused within about a second.

            Every tools/call is audited (see `mcpconn audit`): time, client, connector, tool, a SHA-256 of the \
            arguments (never the arguments, unless --audit-args seals them too), outcome, latency and size, written \
            to the store in batches; --no-audit writes nothing. A request carrying a value sealed in the store (a \
            credential of any connector) is refused, and such a value in an answer is replaced by \
            [redacted by mcpconn].
            With --http --oauth-issuer URL, serve is an OAuth protected resource (MCP authorization): callers bring \
            access tokens (JWTs) of that issuer, signed by a key of its JWKS, issued for serve's URL (--oauth-audience \
            names another, such as a public one behind a proxy) and not expired; each --oauth-scope SCOPE=CLIENT \
            gives a token with SCOPE the rules of a client made with `client add` (a token with several: the first \
            in flag order; with none: HTTP 403). Its metadata (RFC 9728) is at \
            /.well-known/oauth-protected-resource/mcp. With --clients too, tokens of `client add` still work.
            """)

    @OptionGroup var selection: ConnectorSelection

    @Option(
        help: ArgumentHelp(
            "Serve over streamable HTTP at http://HOST:PORT/mcp instead of stdio (port 0: any free one).",
            valueName: "host:port"))
    var http: String?

    @Flag(help: "With --http, allow an address other than loopback (clients still need the token).")
    var allowRemote = false

    @Flag(
        help: ArgumentHelp(
            "With --http on a loopback address, serve requests without a token: any user or process on this "
                + "machine can then call every connector."))
    var noToken = false

    @Option(
        name: .customLong("allowed-host"),
        help: ArgumentHelp(
            "With --http, a host name (or address) clients reach it by, besides loopback and the listening address "
                + "(repeatable); a request naming another host is refused (421).",
            valueName: "name"))
    var allowedHosts: [String] = []

    @Flag(
        help: ArgumentHelp(
            "With --http, accept the tokens of the clients made with `client add` (not serve's own), each limited to "
                + "its user's connectors, its --allow/--deny rules and its --rate."))
    var clients = false

    @Flag(help: "Do not write the audit trail of the calls (see `mcpconn audit`).")
    var noAudit = false

    @Flag(help: "Keep each call's arguments in the audit trail too, sealed under the store key (`audit --show-args`).")
    var auditArgs = false

    @Option(
        name: .customLong("oauth-issuer"),
        help: ArgumentHelp(
            "With --http, accept access tokens (JWTs) of this OAuth issuer, checked against its published keys.",
            valueName: "url"))
    var oauthIssuer: String?

    @Option(
        name: .customLong("oauth-audience"),
        help: ArgumentHelp(
            "With --oauth-issuer, the audience tokens must name (default: serve's URL, http://HOST:PORT/mcp).",
            valueName: "url"))
    var oauthAudience: String?

    @Option(
        name: .customLong("oauth-scope"),
        help: ArgumentHelp(
            "With --oauth-issuer, a token scope and the client (of `client add`) whose rules its holders get "
                + "(repeatable; the first a token holds applies).",
            valueName: "scope=client"))
    var oauthScopes: [String] = []

    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if allowRemote && http == nil { throw ValidationError("--allow-remote goes with --http") }
        if !allowedHosts.isEmpty && http == nil { throw ValidationError("--allowed-host goes with --http") }
        if noToken && http == nil { throw ValidationError("--no-token goes with --http") }
        if clients && http == nil { throw ValidationError("--clients goes with --http") }
        if clients && noToken { throw ValidationError("--clients and --no-token contradict each other: drop one") }
        if noAudit && auditArgs { throw ValidationError("--audit-args and --no-audit contradict each other: drop one") }
        if oauthIssuer != nil && http == nil { throw ValidationError("--oauth-issuer goes with --http") }
        if (oauthAudience != nil || !oauthScopes.isEmpty) && oauthIssuer == nil {
            throw ValidationError("--oauth-audience and --oauth-scope go with --oauth-issuer")
        }
        if oauthIssuer != nil && oauthScopes.isEmpty {
            throw ValidationError("--oauth-issuer needs at least one --oauth-scope SCOPE=CLIENT")
        }
        if oauthIssuer != nil && noToken {
            throw ValidationError("--oauth-issuer and --no-token contradict each other: drop one")
        }
    }

    func run() async throws {
        let manager = try global.manager()
        let connectors = try selection.connectors(manager)
        try manager.storage.checkKey(for: connectors)
        let settings = network.settings()
        if let http { try serveHTTP(http, manager, connectors, settings) }
        let warn: @Sendable (String) -> Void = { Output.stderrLine("mcpconn serve: warning: " + $0) }
        let audit =
            noAudit
            ? nil
            : try AuditWriter(
                storage: manager.storage, sealArguments: auditArgs, interval: AuditWriter.interval(global.environment),
                warn: warn)
        let gateway = Gateway(
            manager: manager, connectors: connectors, settings: settings, log: network.verbose ? Output.trace : nil,
            warn: warn, recorders: audit.map { [$0.recorder] } ?? [])
        if let audit {
            audit.start()
            // The audit rows still queued are written before a signal ends serve (a second one ends it at once).
            ChildProcesses.onFirstTerminationSignal { signal in
                Task {
                    await gateway.recordedCallsEnded()  // calls under way answered and recorded first (5 s at most)
                    await audit.finish()
                    ChildProcesses.endProgram(status: 128 + signal)
                }
            }
        }
        await StdioServer.run(gateway, maxLineBytes: settings.maxBytes)
        await audit?.finish()
    }

    /// Hands over to mcpconn-serve-http (exec), after every check that can fail here.
    private func serveHTTP(
        _ address: String, _ manager: ConnectorManager, _ connectors: [Connector], _ settings: NetworkSettings
    ) throws(MCPConnError) -> Never {
        let listen = try ListenAddress.parse(address)
        if !listen.isLoopback && !allowRemote {
            throw MCPConnError(
                .usage,
                "--http \(address) listens beyond this machine: add --allow-remote (clients still need the token)")
        }
        for name in allowedHosts where AllowedHosts.normalized(name: name) == nil {
            throw MCPConnError(
                .usage,
                "--allowed-host wants a host name or IP address without a port, not '\(TerminalText.escape(name))'")
        }
        _ = try BearerToken.fromEnvironment(global.environment)
        for url in [oauthIssuer, oauthAudience].compactMap({ $0 }) where !OAuthResourceServer.isWebURL(url) {
            throw MCPConnError(
                .usage, "--oauth-issuer and --oauth-audience want http(s) URLs, not '\(TerminalText.escape(url))'")
        }
        for rule in oauthScopes { _ = try OAuthResourceServer.ScopeRule.parse(rule) }
        // A shared store's URL may hold a password: it goes to mcpconn-serve-http in MCPCONN_DB (which no
        // server it starts ever inherits), not on a command line every local user can read.
        if manager.store.isShared { setenv("MCPCONN_DB", global.storeLocation, 1) }
        let plan = HTTPServePlan(
            database: manager.store.isShared ? "" : manager.store.path, user: manager.userID,
            connectors: connectors.compactMap(\.id),
            listen: listen, allowedHosts: allowedHosts, timeout: settings.timeout, maxBytes: settings.maxBytes,
            verbose: network.verbose, json: global.json, noToken: noToken, clients: clients, audit: !noAudit,
            auditArguments: auditArgs, oauthIssuer: oauthIssuer, oauthAudience: oauthAudience, oauthScopes: oauthScopes)
        try plan.checkNoToken(global.environment)
        Output.flush()
        try plan.exec()
    }
}
