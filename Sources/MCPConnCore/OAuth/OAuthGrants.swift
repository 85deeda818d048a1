import Foundation

/// What `mcpconn login` needs beyond the connector.
public struct LoginOptions: Sendable {
    /// A client id given on the command line (else `<TYPE>_CLIENT_ID`, a remembered registration, or DCR).
    public var clientID: String?
    /// A client secret (read from the environment variable `--client-secret-env` names).
    public var clientSecret: String?
    /// Scopes to request instead of the advertised ones.
    public var scopes: [String]?
    /// The loopback port to listen on (a pre-registered client's redirect URI names it); nil: any free port.
    public var port: Int?
    /// Seconds to wait for the browser's redirect.
    public var timeout: Double = 300
    /// Open the authorization URL with xdg-open.
    public var openBrowser: Bool = true
    /// The process environment (for `<TYPE>_CLIENT_ID` / `<TYPE>_CLIENT_SECRET`).
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Told the authorization URL once it is ready (the CLI prints it alone on one stderr line).
    public var announce: @Sendable (String) -> Void = { _ in }

    public init() {}
}

/// The credential fields of an OAuth grant (inside the sealed auth_config).
enum OAuthField {
    static let accessToken = "access_token", refreshToken = "refresh_token", expiresAt = "expires_at"
    static let tokenEndpoint = "token_endpoint", revocationEndpoint = "revocation_endpoint", issuer = "issuer"
    static let clientID = "client_id", clientSecret = "client_secret", clientAuth = "client_auth"
    static let redirectURI = "redirect_uri", registered = "registered_client", resource = "resource", scope = "scope"
}

extension Credentials {
    /// The OAuth client stored with a grant, if any.
    var oauthClient: OAuthClient? {
        guard let id = fields[OAuthField.clientID]?.stringValue else { return nil }
        return OAuthClient(
            id: id, secret: fields[OAuthField.clientSecret]?.stringValue,
            authMethod: fields[OAuthField.clientAuth]?.stringValue ?? "none")
    }

    var accessToken: String? { fields[OAuthField.accessToken]?.stringValue }
    var refreshToken: String? { fields[OAuthField.refreshToken]?.stringValue }
    var expiresAt: Date? {
        guard case .number(let n)? = fields[OAuthField.expiresAt], let t = Double(n) else { return nil }
        return Date(timeIntervalSince1970: t)
    }

    /// True when the access token expires within `margin` seconds.
    func expiresSoon(margin: Double = 60) -> Bool {
        guard let e = expiresAt else { return false }
        return e.timeIntervalSinceNow < margin
    }

    /// Stores a new grant (keeping the refresh token when the server did not rotate it).
    mutating func apply(_ grant: TokenGrant) {
        fields[OAuthField.accessToken] = .string(grant.accessToken)
        if let r = grant.refreshToken { fields[OAuthField.refreshToken] = .string(r) }
        fields[OAuthField.expiresAt] = grant.expiresAt.map { .number(String(Int64($0.timeIntervalSince1970))) } ?? nil
        if let s = grant.scope { fields[OAuthField.scope] = .string(s) }
    }
}

/// The OAuth side of a user's connectors: login (authorization code with PKCE), token refresh serialized
/// across processes and hosts, logout with revocation. Grants are sealed and stored through ``storage``.
public struct OAuthGrants: Sendable {
    public let storage: ConnectorStorage

    var store: Store { storage.store }

    // MARK: login

    /// Runs the OAuth 2.1 authorization code flow with PKCE for a connector, stores the tokens and returns the
    /// updated connector.
    public func login(_ ref: String, options: LoginOptions, settings: NetworkSettings) async throws(MCPConnError)
        -> Connector
    {
        let c = try storage.get(ref)
        if c.isStdio {
            throw .usage(
                "connector '\(c.name)' is a local server: OAuth is for HTTP servers (a local server takes its token with --auth api_key --key-env VAR)"
            )
        }
        // Before anything is asked of the server: a URL changed outside mcpconn must not get a login.
        try storage.authenticate(c)
        let who = "login to '\(c.name)'"
        let stored = try? storage.credentials(of: c)
        let tls = c.tls.settings(serverURL: c.serverURL, credentials: stored)
        let discovery = try await OAuthDiscovery.run(
            serverURL: c.serverURL, tls: tls, timeout: settings.timeout, trace: settings.trace)
        let server = discovery.server
        let previous = c.authType == .oauth ? stored : nil
        let scopes = options.scopes ?? discovery.scopes

        // The client: given, from the environment, remembered from an earlier registration, or registered now.
        let typePrefix = c.connectorType.uppercased().replacingOccurrences(of: "-", with: "_")
        let envID = c.connectorType == "generic" ? nil : options.environment["\(typePrefix)_CLIENT_ID"]
        let envSecret = c.connectorType == "generic" ? nil : options.environment["\(typePrefix)_CLIENT_SECRET"]
        var client: OAuthClient?
        var listener: LoopbackListener
        var registered = false
        if let id = options.clientID ?? envID {
            let secret = options.clientSecret ?? envSecret
            client = OAuthClient(id: id, secret: secret, authMethod: secret == nil ? "none" : Self.secretMethod(server))
            listener = try LoopbackListener(preferredPort: options.port, required: options.port != nil)
        } else if options.port == nil, let p = previous, p.fields[OAuthField.registered] == .bool(true),
            p.fields[OAuthField.issuer]?.stringValue == server.issuer, let remembered = p.oauthClient,
            let uri = p.fields[OAuthField.redirectURI]?.stringValue, let port = URLComponents(string: uri)?.port,
            let l = try? LoopbackListener(preferredPort: port), l.port == port
        {
            // The registration holds its exact redirect URI: reuse it while that port is free.
            client = remembered
            listener = l
        } else {
            listener = try LoopbackListener(preferredPort: options.port, required: options.port != nil)
        }
        if client == nil {
            client = try await register(
                server, redirectURI: listener.redirectURI, scopes: scopes, who: who, tls: tls, settings: settings)
            registered = true
        }
        guard let client else { throw MCPConnError(.failure, "\(who): no OAuth client") }

        // The authorization request (RFC 6749 §4.1.1 + PKCE + RFC 8707's resource).
        let pkce = PKCE()
        let state = PKCE.randomToken(bytes: 24)
        var query: [(String, String)] = [
            ("response_type", "code"), ("client_id", client.id), ("redirect_uri", listener.redirectURI),
            ("code_challenge", pkce.challenge), ("code_challenge_method", "S256"), ("state", state),
            ("resource", discovery.resource),
        ]
        if !scopes.isEmpty { query.append(("scope", scopes.joined(separator: " "))) }
        let separator = server.authorizationEndpoint.contains("?") ? "&" : "?"
        let url =
            server.authorizationEndpoint + separator
            + query.map { FormEncoding.escape($0.0) + "=" + FormEncoding.escape($0.1) }.joined(separator: "&")
        options.announce(url)
        if options.openBrowser { Browser.open(url) }

        guard let redirect = await listener.waitForRedirect(timeout: options.timeout) else {
            throw MCPConnError(.timeout, "\(who): no browser redirect within \(Int(options.timeout)) s")
        }
        guard redirect["state"] == state else {
            throw MCPConnError(
                .protocolError,
                "\(who): the redirect's state does not match this login (a stale or forged redirect); run login again")
        }
        if let error = redirect["error"] {
            let d = redirect["error_description"].map { ": \(MCPConnError.oneLine($0, limit: 200))" } ?? ""
            let status: ExitStatus = error == "access_denied" ? .permissionDenied : .protocolError
            throw MCPConnError(
                status, "\(who): the authorization server refused (\(MCPConnError.oneLine(error, limit: 60))\(d))")
        }
        guard let code = redirect["code"], !code.isEmpty else {
            throw MCPConnError(.protocolError, "\(who): the redirect carries no authorization code")
        }

        // The token request (RFC 6749 §4.1.3 + PKCE verifier + resource).
        let fields = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", listener.redirectURI),
            ("code_verifier", pkce.verifier), ("resource", discovery.resource),
        ]
        let grant: TokenGrant
        switch await TokenEndpoint.request(
            server.tokenEndpoint, fields, client: client, tls: tls, timeout: settings.timeout)
        {
        case .success(let g): grant = g
        case .failure(.oauth(let code, let d)):
            let detail = d.map { ": \(MCPConnError.oneLine($0, limit: 200))" } ?? ""
            throw MCPConnError(
                .permissionDenied,
                "\(who): the token endpoint refused the code (\(MCPConnError.oneLine(code, limit: 60))\(detail))")
        case .failure(.other(let e)): throw MCPConnError(e.status, "\(who): \(e.message)")
        }

        var creds = Credentials(fields: JSONObject())
        creds.apply(grant)
        // Headers sealed beside the token (an imported config's `X-Tenant`) outlive a new grant, as does the
        // client certificate's key, whatever the connector's auth type was.
        creds.fields["headers"] = previous?.fields["headers"]
        creds.fields[Credentials.clientKeyField] = stored?.fields[Credentials.clientKeyField]
        creds.fields[OAuthField.tokenEndpoint] = .string(server.tokenEndpoint)
        creds.fields[OAuthField.revocationEndpoint] = server.revocationEndpoint.map { .string($0) } ?? nil
        creds.fields[OAuthField.issuer] = .string(server.issuer)
        creds.fields[OAuthField.resource] = .string(discovery.resource)
        creds.fields[OAuthField.clientID] = .string(client.id)
        creds.fields[OAuthField.clientSecret] = client.secret.map { .string($0) } ?? nil
        creds.fields[OAuthField.clientAuth] = .string(client.authMethod)
        creds.fields[OAuthField.redirectURI] = .string(listener.redirectURI)
        let isRegistered =
            registered
            || (previous?.fields[OAuthField.registered] == .bool(true) && options.clientID == nil && envID == nil)
        creds.fields[OAuthField.registered] = .bool(isRegistered)
        if creds.fields[OAuthField.scope] == nil, !scopes.isEmpty {
            creds.fields[OAuthField.scope] = .string(scopes.joined(separator: " "))
        }
        return try storage.storeGrant(creds, for: c, switchToOAuth: true)
    }

    /// Dynamic client registration (RFC 7591) for a loopback redirect.
    private func register(
        _ server: AuthorizationServerMetadata, redirectURI: String, scopes: [String], who: String,
        tls: TLSSettings, settings: NetworkSettings
    ) async throws(MCPConnError) -> OAuthClient {
        guard let endpoint = server.registrationEndpoint else {
            throw MCPConnError(
                .configuration,
                "\(who): the authorization server offers no dynamic client registration: give --client-id (and --client-secret-env VAR) or set the type's _CLIENT_ID/_CLIENT_SECRET variables"
            )
        }
        let method = server.tokenEndpointAuthMethods.contains("none") ? "none" : Self.secretMethod(server)
        var request = JSONObject()
        request["client_name"] = .string("mcpconn")
        request["redirect_uris"] = .array([.string(redirectURI)])
        request["grant_types"] = .array([.string("authorization_code"), .string("refresh_token")])
        request["response_types"] = .array([.string("code")])
        request["token_endpoint_auth_method"] = .string(method)
        if !scopes.isEmpty { request["scope"] = .string(scopes.joined(separator: " ")) }
        let r: HTTPResponse
        switch await HTTPFetch.postJSON(endpoint, request, tls: tls, timeout: settings.timeout) {
        case .success(let x): r = x
        case .failure(let f): throw f.error("\(who): client registration")
        }
        guard r.status == 201 || r.status == 200, let o = r.jsonObject, let id = o["client_id"]?.stringValue else {
            let e =
                r.jsonObject.flatMap { o in
                    o["error"]?.stringValue.map { $0 + (o["error_description"]?.stringValue.map { ": " + $0 } ?? "") }
                } ?? "HTTP \(r.status)"
            throw MCPConnError(
                .protocolError, "\(who): client registration failed (\(MCPConnError.oneLine(e, limit: 200)))")
        }
        return OAuthClient(
            id: id, secret: o["client_secret"]?.stringValue,
            authMethod: o["token_endpoint_auth_method"]?.stringValue ?? method)
    }

    private static func secretMethod(_ server: AuthorizationServerMetadata) -> String {
        server.tokenEndpointAuthMethods.contains("client_secret_post") ? "client_secret_post" : "client_secret_basic"
    }

    /// Whether an OAuth connector holds an access token (nil when its credentials cannot be read).
    public func tokenPresent(_ c: Connector) -> Bool? {
        guard c.authType == .oauth else { return nil }
        guard c.authConfig != nil else { return false }
        guard let creds = try? storage.credentials(of: c) else { return nil }
        return creds.accessToken != nil
    }

    // MARK: using tokens

    /// Refreshes a connector's tokens, safely across processes: a per-connector lock (a lock file next to a SQLite
    /// store, an advisory lock in a PostgreSQL one, which serializes every host) serializes refreshes,
    /// and under it the store is read again, so a process that waited finds the winner's tokens and uses them
    /// instead of spending a rotated (dead) refresh token. `rejected` is the access token a server refused
    /// (nil: refresh because it expires soon). Returns the connector and its credentials as stored now.
    func refreshTokens(_ c: Connector, rejected: String?, settings: NetworkSettings) async throws(MCPConnError)
        -> (Connector, Credentials)
    {
        let lock = try await refreshLock(c, settings: settings)
        defer { lock.release() }
        let current = try storage.get(String(c.id ?? 0))
        guard var creds = try storage.credentials(of: current) else {
            throw MCPConnError(
                .permissionDenied, "connector '\(c.name)' has no OAuth tokens: run `mcpconn login \(c.name)`")
        }
        // Another process refreshed meanwhile: its tokens are the ones to use.
        if let rejected, creds.accessToken != rejected { return (current, creds) }
        if rejected == nil, !creds.expiresSoon() { return (current, creds) }
        guard let refresh = creds.refreshToken, let endpoint = creds.fields[OAuthField.tokenEndpoint]?.stringValue,
            let client = creds.oauthClient
        else {
            throw MCPConnError(
                .permissionDenied,
                "the OAuth token of '\(c.name)' expired and cannot be refreshed: run `mcpconn login \(c.name)`")
        }
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refresh)]
        if let resource = creds.fields[OAuthField.resource]?.stringValue { fields.append(("resource", resource)) }
        settings.trace?("* refreshing the OAuth access token of '\(c.name)'")
        let tls = current.tls.settings(serverURL: current.serverURL, credentials: creds)
        switch await TokenEndpoint.request(endpoint, fields, client: client, tls: tls, timeout: settings.timeout) {
        case .success(let grant):
            creds.apply(grant)
            return (try storage.storeGrant(creds, for: current, onlyIfUnchanged: true), creds)
        case .failure(.oauth(let code, let d)):
            // Rotated by a process that did not take our lock (another machine sharing a SQLite file over a
            // network file system, an older mcpconn): the store may already hold the winner's tokens.
            let again = try storage.get(String(c.id ?? 0))
            if let newer = try storage.credentials(of: again), newer.refreshToken != refresh, newer.accessToken != nil {
                return (again, newer)
            }
            let detail = d.map { ": \(MCPConnError.oneLine($0, limit: 200))" } ?? ""
            throw MCPConnError(
                .permissionDenied,
                "the refresh token of '\(c.name)' was refused (\(MCPConnError.oneLine(code, limit: 60))\(detail)): run `mcpconn login \(c.name)`"
            )
        case .failure(.other(let e)):
            throw MCPConnError(e.status, "refreshing the token of '\(c.name)': \(e.message)")
        }
    }

    /// The per-connector refresh lock, waited for at most the operation's timeout.
    private func refreshLock(_ c: Connector, settings: NetworkSettings) async throws(MCPConnError) -> any HeldLock {
        do {
            return try await store.refreshLock(
                connectorID: c.id ?? 0, deadline: .now + .milliseconds(Int(settings.timeout * 1000)))
        } catch {
            switch error {
            case .timeout:
                throw MCPConnError(
                    .timeout,
                    "connector '\(c.name)': another process held its token refresh lock (\(store.refreshLockName(c.id ?? 0))) for the whole timeout"
                )
            case .cancelled:
                throw MCPConnError(
                    .failure, "connector '\(c.name)': cancelled while waiting for its token refresh lock")
            case .system(let why): throw .config(why)
            case .unreachable(let why): throw MCPConnError(.unavailable, why)
            }
        }
    }

    // MARK: logout

    /// Revokes a connector's tokens where the server offers revocation (RFC 7009) and removes them from the
    /// store; the registered client is kept for the next login. Returns whether anything was revoked.
    public func logout(_ ref: String, settings: NetworkSettings) async throws(MCPConnError) -> Bool {
        // Under the refresh lock: a refresh on another host must not store new tokens after they are removed.
        let lock = try await refreshLock(try storage.get(ref), settings: settings)
        defer { lock.release() }
        let c = try storage.get(ref)
        guard c.authType == .oauth, var creds = try storage.credentials(of: c) else {
            throw MCPConnError.notFound("connector '\(c.name)' holds no OAuth tokens")
        }
        var revoked = false
        var failure: MCPConnError?
        if let endpoint = creds.fields[OAuthField.revocationEndpoint]?.stringValue, let client = creds.oauthClient {
            for (token, hint) in [(creds.refreshToken, "refresh_token"), (creds.accessToken, "access_token")] {
                guard let token else { continue }
                switch await TokenEndpoint.revoke(
                    endpoint, token: token, hint: hint, client: client,
                    tls: c.tls.settings(serverURL: c.serverURL, credentials: creds), timeout: settings.timeout)
                {
                case .success: revoked = true
                case .failure(let e): failure = failure ?? e
                }
            }
        }
        for f in [OAuthField.accessToken, OAuthField.refreshToken, OAuthField.expiresAt, OAuthField.scope] {
            creds.fields[f] = nil
        }
        if creds.oauthClient == nil, creds.fields["headers"] == nil, creds.clientKey == nil {
            // A static bearer token: nothing else worth keeping (sealed extra headers would be).
            try storage.clearCredentials(of: c)
        } else {
            try storage.storeGrant(creds, for: c, onlyIfUnchanged: true)
        }
        if let failure {
            throw MCPConnError(
                .unavailable,
                "tokens of '\(c.name)' removed locally, but revoking them at the server failed: \(failure.message)")
        }
        return revoked
    }
}
