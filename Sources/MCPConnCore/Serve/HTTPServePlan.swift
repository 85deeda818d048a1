import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `mcpconn serve --http` hands `mcpconn-serve-http`, the program it becomes (exec): the store, the user,
/// the connectors (resolved and checked already), where to listen and the network settings. The HTTP server
/// lives in a program of its own so that SwiftNIO's start-up cost and size stay off every other verb. No
/// secret is in the plan (it travels on argv): the key and the bearer token come from the environment, as
/// they would for mcpconn itself.
public struct HTTPServePlan: Sendable, Equatable {
    public var database: String
    public var user: Int64
    public var connectors: [Int64]
    public var listen: ListenAddress
    /// `--allowed-host`: more names the `Host` header may give (see `AllowedHosts`).
    public var allowedHosts: [String]
    public var timeout: Double
    public var maxBytes: Int
    public var verbose: Bool
    /// `--json`: the address as a JSON line on stdout once listening.
    public var json: Bool
    /// `--no-token`: requests need no bearer token (a loopback address only, see `checkNoToken`).
    public var noToken: Bool
    /// `--clients`: requests carry the token of a client made with `client add` (``ClientRegistry``), not serve's.
    public var clients: Bool
    /// The audit trail is written (`--no-audit`: not); `--audit-args`: with the arguments sealed.
    public var audit: Bool
    public var auditArguments: Bool
    /// `--oauth-issuer`: access tokens (JWTs) of this issuer are accepted too (``OAuthResourceServer``).
    public var oauthIssuer: String?
    /// `--oauth-audience`: the `aud` tokens must carry; nil: serve's own URL.
    public var oauthAudience: String?
    /// `--oauth-scope SCOPE=CLIENT`, in order.
    public var oauthScopes: [String]

    public init(
        database: String, user: Int64, connectors: [Int64], listen: ListenAddress, allowedHosts: [String] = [],
        timeout: Double, maxBytes: Int, verbose: Bool, json: Bool = false, noToken: Bool = false,
        clients: Bool = false, audit: Bool = true, auditArguments: Bool = false, oauthIssuer: String? = nil,
        oauthAudience: String? = nil, oauthScopes: [String] = []
    ) {
        self.database = database
        self.user = user
        self.connectors = connectors
        self.listen = listen
        self.allowedHosts = allowedHosts
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.verbose = verbose
        self.json = json
        self.noToken = noToken
        self.clients = clients
        self.audit = audit
        self.auditArguments = auditArguments
        self.oauthIssuer = oauthIssuer
        self.oauthAudience = oauthAudience
        self.oauthScopes = oauthScopes
    }

    /// `--no-token` serves only a loopback address: without a token, whoever reaches the port calls every
    /// connector with its credentials, so only this machine's users and processes may reach it (and the Host and
    /// Origin checks keep web pages out). Also a token set in the environment would be ignored: refused too.
    public func checkNoToken(_ environment: [String: String]) throws(MCPConnError) {
        if clients, noToken { throw MCPConnError(.usage, "--clients and --no-token contradict each other: drop one") }
        if oauthIssuer != nil, noToken {
            throw MCPConnError(.usage, "--oauth-issuer and --no-token contradict each other: drop one")
        }
        if oauthIssuer != nil, environment[BearerToken.environmentName].map({ !$0.isEmpty }) == true {
            throw MCPConnError(
                .usage,
                "--oauth-issuer and \(BearerToken.environmentName) contradict each other: callers bring the issuer's tokens"
            )
        }
        if clients, environment[BearerToken.environmentName].map({ !$0.isEmpty }) == true {
            throw MCPConnError(
                .usage,
                "--clients and \(BearerToken.environmentName) contradict each other: clients use their own tokens (client add)"
            )
        }
        guard noToken else { return }
        guard listen.isLoopback else {
            throw MCPConnError(
                .usage,
                "--no-token serves a loopback address only (like 127.0.0.1:8808), not \(listen.urlHost): "
                    + "beyond this machine, clients need the token")
        }
        if environment[BearerToken.environmentName].map({ !$0.isEmpty }) == true {
            throw MCPConnError(.usage, "--no-token and \(BearerToken.environmentName) contradict each other: drop one")
        }
    }

    /// The name of the serving program, found next to `mcpconn`.
    public static let programName = "mcpconn-serve-http"

    public var encoded: String {
        JSONValue.object([
            "database": .string(database), "user": .int(user), "connectors": .array(connectors.map { .int($0) }),
            "host": .string(listen.host), "port": .int(Int64(listen.port)),
            "allowedHosts": .array(allowedHosts.map { .string($0) }), "timeout": .double(timeout),
            "maxBytes": .int(Int64(maxBytes)), "verbose": .bool(verbose), "json": .bool(json),
            "noToken": .bool(noToken), "clients": .bool(clients), "audit": .bool(audit),
            "auditArguments": .bool(auditArguments),
            "oauthIssuer": oauthIssuer.map { .string($0) } ?? .null,
            "oauthAudience": oauthAudience.map { .string($0) } ?? .null,
            "oauthScopes": .array(oauthScopes.map { .string($0) }),
        ]).compactText()
    }

    public init?(encoded: String) {
        guard let v = try? JSONValue.parse(encoded), let database = v["database"]?.stringValue,
            let user = v["user"]?.intValue, let ids = v["connectors"]?.arrayValue, let host = v["host"]?.stringValue,
            let port = v["port"]?.intValue, let allowed = v["allowedHosts"]?.arrayValue,
            let timeout = v["timeout"]?.doubleValue,
            let maxBytes = v["maxBytes"]?.intValue, let verbose = v["verbose"]?.boolValue,
            let json = v["json"]?.boolValue, let noToken = v["noToken"]?.boolValue
        else { return nil }
        self.init(
            database: database, user: Int64(user), connectors: ids.compactMap { $0.intValue.map(Int64.init) },
            listen: ListenAddress(host: host, port: port), allowedHosts: allowed.compactMap(\.stringValue),
            timeout: timeout, maxBytes: maxBytes, verbose: verbose, json: json, noToken: noToken,
            clients: v["clients"]?.boolValue ?? false, audit: v["audit"]?.boolValue ?? true,
            auditArguments: v["auditArguments"]?.boolValue ?? false, oauthIssuer: v["oauthIssuer"]?.stringValue,
            oauthAudience: v["oauthAudience"]?.stringValue,
            oauthScopes: v["oauthScopes"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    /// Becomes `mcpconn-serve-http` (same process, same environment); returns only by throwing.
    public func exec() throws(MCPConnError) -> Never {
        let dir = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .resolvingSymlinksInPath().deletingLastPathComponent()
        let program = dir.appendingPathComponent(Self.programName).path
        guard access(program, X_OK) == 0 else {
            throw MCPConnError(
                .configuration,
                "serve --http needs \(Self.programName) next to mcpconn (\(program)): build or install both")
        }
        let argv = [program, "--plan", encoded]
        var cArgs = argv.map { strdup($0) } + [nil]
        execv(program, &cArgs)
        let reason = String(cString: strerror(errno))
        throw MCPConnError(.configuration, "cannot start \(program): \(reason)")
    }
}

/// `HOST:PORT` to listen on: `127.0.0.1:8808`, `[::1]:8808`, `localhost:0` (any free port), or a port alone
/// (loopback).
public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public static func parse(_ text: String) throws(MCPConnError) -> ListenAddress {
        let bad = MCPConnError(
            .usage, "--http wants HOST:PORT (like 127.0.0.1:8808), not '\(TerminalText.escape(text))'")
        var host = "127.0.0.1"
        var portText = text
        if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.isEmpty || host.contains(where: { $0 == " " || $0 == "/" }) { throw bad }
        }
        guard let port = Int(portText), (0...65535).contains(port) else { throw bad }
        return ListenAddress(host: host, port: port)
    }

    public var isLoopback: Bool { LoopbackAddress.isLoopback(host: host) }

    /// How a client writes it in a URL.
    public var urlHost: String { host.contains(":") ? "[\(host)]" : host }
}
