import Foundation

/// A row of `user_mcp_connections`: one MCP server a user has connected.
public struct Connector: Sendable, Equatable {
    /// The table, as the seed names it.
    static let table = "user_mcp_connections"

    public var id: Int64?
    public var userID: Int64
    public var name: String
    public var description: String?
    public var serverURL: String
    /// The registry type (notion, slack, …, generic).
    public var connectorType: String
    public var authType: AuthType
    /// Sealed credentials (`v1:` + base64), never plaintext.
    public var authConfig: String?
    public var isActive: Bool
    public var isVerified: Bool
    /// The tools the server listed at the last verify/refresh, as a JSON array text.
    public var discoveredTools: String?
    public var toolCount: Int
    public var lastVerifiedAt: Date?
    /// The error of the last failed verify, if the last one failed.
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// The protocol version negotiated at the last successful contact.
    public var protocolVersion: String?
    /// `handshake` or `modern` (see ``ProtocolEra``).
    public var protocolEra: String?
    /// `streamable-http` or `sse` (negotiated), or `stdio` (a local server, set when added).
    public var transport: String?
    public var serverName: String?
    public var serverVersion: String?
    /// The server's `instructions`, for agent prompts.
    public var serverInstructions: String?
    /// When the stored OAuth access token expires, if it says.
    public var tokenExpiresAt: Date? = nil
    /// Whether a refresh token is stored, so the access token renews itself.
    public var tokenRefreshable: Bool = false
    /// A stdio connector's program (nil for a server reached over HTTP).
    public var command: String? = nil
    /// A stdio connector's arguments, as a JSON array text.
    public var commandArgs: String? = nil
    /// A stdio connector's working directory (nil: mcpconn's own).
    public var workingDirectory: String? = nil
    /// The names of a stdio connector's environment variables, as a JSON array text (values are sealed).
    public var envNames: String? = nil
    /// An HTTPS connector's TLS settings as a JSON object text (``ConnectorTLS``); nil when none are set.
    public var tlsConfig: String? = nil
    /// The prompts, resources and resource templates the server listed at the last verify/refresh, as JSON array
    /// texts (`[]` when it offers none); nil when never discovered (nor since the store learnt to keep them).
    public var discoveredPrompts: String? = nil
    public var discoveredResources: String? = nil
    public var discoveredResourceTemplates: String? = nil
    /// An HTTPS server's certificate key as last seen by verify, refresh or health: `sha256//` and the base64
    /// SHA-256 of its SubjectPublicKeyInfo (``ServerKey``). Learnt, not sealed, like the tool lists.
    public var serverKey: String? = nil
    /// Pinned mode (issue 25): `serve`, `call` and `agents` use only the tools approved in their approved form.
    /// The store's own setting (``PinPolicy``) may pin every connector besides.
    public var isPinned: Bool = false
    /// The connector's own tool allow-list (issue 26) as a JSON object text (``ToolFilter``); nil when none.
    public var toolFilterText: String? = nil
    /// The ``RecordSeal`` of the columns in ``Columns/sealed``: nil only for a row written outside mcpconn.
    var rowSeal: String? = nil

    /// What was learnt about the server at the last contact, if anything.
    public var identity: ServerIdentity? {
        guard let protocolVersion, let era = protocolEra.flatMap(ProtocolEra.init(rawValue:)) else { return nil }
        return ServerIdentity(
            name: serverName, version: serverVersion, protocolVersion: protocolVersion,
            instructions: serverInstructions, capabilities: nil, transport: transport ?? "streamable-http", era: era)
    }

    /// A connector about to be added: active, unverified, nothing learnt yet.
    static func new(
        userID: Int64, name: String, description: String?, serverURL: String, type: String, auth: AuthType
    ) -> Connector {
        let now = Date()
        return Connector(
            id: nil, userID: userID, name: name, description: description.flatMap { $0.isEmpty ? nil : $0 },
            serverURL: serverURL, connectorType: type, authType: auth, authConfig: nil, isActive: true,
            isVerified: false, discoveredTools: nil, toolCount: 0, lastVerifiedAt: nil, lastError: nil,
            createdAt: now, updatedAt: now, protocolVersion: nil, protocolEra: nil, transport: nil, serverName: nil,
            serverVersion: nil, serverInstructions: nil)
    }

    /// What a server pin would cover of the server as last seen; nil when never verified.
    public var serverForm: ServerForm? {
        guard identity != nil else { return nil }
        return ServerForm(name: serverName, version: serverVersion, key: serverKey)
    }

    /// True when sealed credentials are stored.
    public var hasCredentials: Bool { authConfig != nil }

    /// True for a local server launched as a child process.
    public var isStdio: Bool { command != nil }

    /// A stdio connector's arguments.
    public var arguments: [String] { Self.strings(commandArgs) }

    /// A stdio connector's program and arguments.
    public var commandLine: [String]? { command.map { [$0] + arguments } }

    /// The names of a stdio connector's environment variables.
    public var environmentNames: [String] { Self.strings(envNames) }

    static func strings(_ json: String?) -> [String] {
        guard let json, let v = try? JSONValue.parse(json) else { return [] }
        return (v.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The stored tools, parsed; empty when never discovered or unreadable.
    public var tools: [JSONValue] { Self.items(discoveredTools) }

    /// The stored list of one kind, parsed; empty when never discovered or unreadable.
    public func stored(_ kind: SurfaceKind) -> [JSONValue] { Self.items(storedText(kind)) }

    /// The stored list of one kind as its JSON text; nil when never discovered.
    public func storedText(_ kind: SurfaceKind) -> String? {
        switch kind {
        case .tools: return discoveredTools
        case .prompts: return discoveredPrompts
        case .resources: return discoveredResources
        case .templates: return discoveredResourceTemplates
        }
    }

    /// The stored lists, parsed, of the kinds that have one.
    var storedLists: [SurfaceKind: [JSONValue]] {
        var lists: [SurfaceKind: [JSONValue]] = [:]
        for kind in SurfaceKind.allCases where storedText(kind) != nil { lists[kind] = stored(kind) }
        return lists
    }

    static func items(_ text: String?) -> [JSONValue] {
        guard let text, let v = try? JSONValue.parse(text) else { return [] }
        return v.arrayValue ?? []
    }
}
