/// Decrypted connector credentials, held in memory only while a request needs them.
///
/// Stored (sealed) as a JSON object: `{"api_key": …, "header": …}` for api_key,
/// `{"access_token": …}` for oauth, so later fields (refresh tokens, expiry) fit without a migration.
public struct Credentials: Sendable, Equatable {
    public var fields: JSONObject

    public init(fields: JSONObject) { self.fields = fields }

    /// The default header for api_key connectors.
    public static let defaultKeyHeader = "X-API-Key"

    /// Credentials for an api_key connector.
    public static func apiKey(_ secret: String, header: String?) -> Credentials {
        var f = JSONObject()
        f["api_key"] = .string(secret)
        f["header"] = .string(header ?? defaultKeyHeader)
        return Credentials(fields: f)
    }

    /// Credentials for an oauth connector holding a static bearer token.
    public static func bearer(_ token: String) -> Credentials {
        var f = JSONObject()
        f["access_token"] = .string(token)
        return Credentials(fields: f)
    }

    /// The HTTP header (name, value) to send for this auth type, if any.
    public func header(for auth: AuthType) -> (name: String, value: String)? {
        switch auth {
        case .none: return nil
        case .apiKey:
            guard let key = fields["api_key"]?.stringValue else { return nil }
            return (fields["header"]?.stringValue ?? Credentials.defaultKeyHeader, key)
        case .oauth:
            guard let token = fields["access_token"]?.stringValue else { return nil }
            return ("Authorization", "Bearer " + token)
        }
    }

    /// Every header to send: the auth type's own, then the sealed extra headers (an imported config's
    /// `X-Tenant: …` beside its token). An extra header never replaces the credential's.
    public func headers(for auth: AuthType) -> [(name: String, value: String)] {
        let own = header(for: auth)
        let extra = extraHeaders.filter { h in own.map { $0.name.lowercased() != h.name.lowercased() } ?? true }
        return (own.map { [$0] } ?? []) + extra
    }

    /// Headers sealed beside the credential, in the order given.
    public var extraHeaders: [(name: String, value: String)] {
        (fields["headers"]?.objectValue?.pairs ?? []).compactMap { pair in
            pair.value.stringValue.map { (name: pair.key, value: $0) }
        }
    }

    /// Every secret value, for redaction of logs and messages. A stdio connector's environment values and extra
    /// header values count when at least 8 characters long: they are often keys (`GITHUB_TOKEN=…`), while redacting a
    /// `1` or `true` everywhere would garble every message.
    public var secretValues: [String] {
        let named = ["api_key", "access_token", "refresh_token", "client_secret", Self.clientKeyField].compactMap {
            fields[$0]?.stringValue
        }
        let environment = (self.environment.map(\.value) + extraHeaders.map(\.value)).filter { $0.count >= 8 }
        return (named + environment).filter { !$0.isEmpty }
    }

    /// A stdio connector's environment variables, in the order given.
    public var environment: [EnvironmentVariable] {
        (fields["env"]?.objectValue?.pairs ?? []).compactMap { pair in
            pair.value.stringValue.map { EnvironmentVariable(name: pair.key, value: $0) }
        }
    }

    /// The variable that hands a stdio connector's api_key to its server.
    public var keyEnv: String? { fields["key_env"]?.stringValue }

    /// What a stdio server receives on top of the base environment: its variables, and its key in `keyEnv`.
    public var launchEnvironment: [String: String] {
        var env: [String: String] = [:]
        for v in environment { env[v.name] = v.value }
        if let keyEnv, let key = fields["api_key"]?.stringValue { env[keyEnv] = key }
        return env
    }

    /// The positions (0 = the first argument after the program) of a stdio connector's arguments that `import`
    /// stored as templates: only these get `${NAME}` filled from the connector's variables at launch, so an
    /// argument that holds `${…}` for the server itself (a shell's `sh -c '…${FOO}…'`) is passed as written.
    public var argumentTemplates: Set<Int> {
        Set((fields["arg_templates"]?.arrayValue ?? []).compactMap(\.intValue))
    }

    /// The arguments a stdio server is started with: the templates filled from its variables.
    public func launchArguments(_ arguments: [String]) -> [String] {
        let templates = argumentTemplates
        guard !templates.isEmpty else { return arguments }
        let env = launchEnvironment
        return arguments.enumerated().map { i, a in
            templates.contains(i) ? StdioLaunch.argument(a, environment: env) : a
        }
    }

    /// The field holding an HTTPS connector's client certificate key (PEM): sealed like any credential, kept
    /// when the credential beside it is replaced (it belongs to the connector's TLS settings).
    static let clientKeyField = "client_key"

    /// The client certificate's private key (PEM), if one is stored.
    public var clientKey: String? { fields[Self.clientKeyField]?.stringValue }

    /// The fields that belong to the connector rather than to its credential, kept when the credential changes:
    /// sealed extra headers (an imported `X-Tenant`) and the client certificate's key.
    static let connectorFields = ["headers", clientKeyField]

    /// The api_key header name, if set.
    public var keyHeader: String? { fields["header"]?.stringValue }

    /// `new` with `field` of `stored` kept (sealed extra headers, imported argument templates: they belong to
    /// the server, not to the credential an update replaces).
    static func keeping(_ field: String, of stored: Credentials?, in new: Credentials?) -> Credentials? {
        guard let value = stored?.fields[field] else { return new }
        var kept = new ?? Credentials(fields: JSONObject())
        kept.fields[field] = value
        return kept
    }

    /// `credentials` holding `key` as the client certificate's key, or none (nil when nothing else is left).
    static func settingClientKey(_ key: String?, in credentials: Credentials?) -> Credentials? {
        var c = credentials ?? Credentials(fields: JSONObject())
        c.fields[clientKeyField] = key.map(JSONValue.string)
        return c.fields.isEmpty ? nil : c
    }

    /// `new` with every field of `fields` that `stored` holds kept.
    static func keeping(_ fields: [String], of stored: Credentials?, in new: Credentials?) -> Credentials? {
        fields.reduce(new) { kept, field in keeping(field, of: stored, in: kept) }
    }
}
