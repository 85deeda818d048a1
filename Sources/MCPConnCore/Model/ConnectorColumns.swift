import Foundation

/// How a column is shown in JSON (`get --json`, `list --json`) and in `list`'s table.
enum ColumnDisplay: Sendable {
    case int, text, optionalText, bool, date, optionalDate
    /// `true` when the column holds anything (sealed credentials: never their content).
    case presence
    /// A JSON array of strings written by mcpconn itself; null otherwise.
    case optionalJSONArray
    /// A JSON object written by mcpconn itself; null otherwise.
    case optionalJSONObject
}

/// One column of `user_mcp_connections`, defined once: its SQL name, the ``Connector`` field it holds, and how
/// JSON shows it. The SQL of both databases (reads, inserts, updates), `list`'s renderer and the JSON of `get`
/// are all derived from ``Connector/Columns/all``, so a new column is one line there (and a migration).
struct ConnectorColumn: Sendable {
    let name: String
    /// The key and form in the JSON output; nil for a column JSON never shows (the tool list, instructions).
    let json: (key: String, display: ColumnDisplay)?
    /// Reads the column from cell `i` of a row into the connector.
    let read: @Sendable (inout Connector, any SQLCells, Int) -> Void
    /// The connector's value of the column, to bind.
    let value: @Sendable (Connector) -> SQLValue

    init<V: SQLConvertible>(
        _ name: String, _ field: WritableKeyPath<Connector, V> & Sendable, _ display: ColumnDisplay?, key: String? = nil
    ) {
        self.name = name
        json = display.map { (key ?? name, $0) }
        read = { connector, cells, i in connector[keyPath: field] = V.read(cells, i) }
        value = { connector in connector[keyPath: field].sqlValue }
    }
}

extension Connector {
    /// The columns, in the order of the JSON output.
    enum Columns {
        static let id = ConnectorColumn("id", \.id, .int)
        static let userID = ConnectorColumn("user_id", \.userID, .int)
        static let name = ConnectorColumn("name", \.name, .text)
        static let description = ConnectorColumn("description", \.description, .optionalText)
        static let serverURL = ConnectorColumn("server_url", \.serverURL, .text)
        static let connectorType = ConnectorColumn("connector_type", \.connectorType, .text)
        static let authType = ConnectorColumn("auth_type", \.authType, .text)
        static let authConfig = ConnectorColumn("auth_config", \.authConfig, .presence, key: "has_credentials")
        static let isActive = ConnectorColumn("is_active", \.isActive, .bool)
        static let isVerified = ConnectorColumn("is_verified", \.isVerified, .bool)
        static let discoveredTools = ConnectorColumn("discovered_tools", \.discoveredTools, nil)
        static let toolCount = ConnectorColumn("tool_count", \.toolCount, .int)
        // The rest of the surface beside tools: `get --json` and `tools --kind` show them, `list` never reads them.
        static let discoveredPrompts = ConnectorColumn("discovered_prompts", \.discoveredPrompts, nil)
        static let discoveredResources = ConnectorColumn("discovered_resources", \.discoveredResources, nil)
        static let discoveredResourceTemplates = ConnectorColumn(
            "discovered_resource_templates", \.discoveredResourceTemplates, nil)
        static let lastVerifiedAt = ConnectorColumn("last_verified_at", \.lastVerifiedAt, .optionalDate)
        static let lastError = ConnectorColumn("last_error", \.lastError, .optionalText)
        static let protocolVersion = ConnectorColumn("protocol_version", \.protocolVersion, .optionalText)
        static let protocolEra = ConnectorColumn("protocol_era", \.protocolEra, .optionalText)
        static let transport = ConnectorColumn("transport", \.transport, .optionalText)
        // A stdio connector's launch; null for HTTP. Environment variables by name only: values are sealed.
        static let command = ConnectorColumn("command", \.command, .optionalText)
        static let commandArgs = ConnectorColumn("command_args", \.commandArgs, .optionalJSONArray, key: "args")
        static let workingDirectory = ConnectorColumn(
            "working_directory", \.workingDirectory, .optionalText, key: "cwd")
        static let envNames = ConnectorColumn("env_names", \.envNames, .optionalJSONArray, key: "env")
        // CA bundle and client certificate paths, pinned keys: what the connector trusts. Its key is sealed.
        static let tls = ConnectorColumn("tls", \.tlsConfig, .optionalJSONObject)
        static let serverName = ConnectorColumn("server_name", \.serverName, .optionalText)
        static let serverVersion = ConnectorColumn("server_version", \.serverVersion, .optionalText)
        static let serverKey = ConnectorColumn("server_key", \.serverKey, .optionalText)
        static let serverInstructions = ConnectorColumn("server_instructions", \.serverInstructions, nil)
        static let tokenExpiresAt = ConnectorColumn("token_expires_at", \.tokenExpiresAt, .optionalDate)
        static let tokenRefreshable = ConnectorColumn("token_refreshable", \.tokenRefreshable, .bool)
        static let createdAt = ConnectorColumn("created_at", \.createdAt, .date)
        static let updatedAt = ConnectorColumn("updated_at", \.updatedAt, .date)
        static let rowSeal = ConnectorColumn("row_seal", \.rowSeal, nil)
        // Pinned mode: sealed, so a writer without the key cannot turn it off (the row is then refused).
        static let pinned = ConnectorColumn("pinned", \.isPinned, .bool)
        // The tool allow-list (``ToolFilter``): sealed, so a writer without the key cannot widen it.
        static let toolFilter = ConnectorColumn("tool_filter", \.toolFilterText, .optionalJSONObject)

        static let all: [ConnectorColumn] = [
            id, userID, name, description, serverURL, connectorType, authType, authConfig, isActive, isVerified,
            discoveredTools, toolCount, lastVerifiedAt, lastError, protocolVersion, protocolEra, transport, command,
            commandArgs, workingDirectory, envNames, tls, serverName, serverVersion, serverKey, serverInstructions,
            tokenExpiresAt, tokenRefreshable, createdAt, updatedAt, rowSeal, discoveredPrompts, discoveredResources,
            discoveredResourceTemplates, pinned, toolFilter,
        ]
        /// What a writer of the store without its key must not change unnoticed (``ConnectorSeals``): who owns the
        /// row, how it is named and whether it is on, where it connects or what it runs, and how it authenticates.
        /// What a session learns (tools, identity, errors) is not here: a writer may only make that wrong.
        static let sealed = [
            userID, name, serverURL, authType, authConfig, isActive, command, commandArgs, workingDirectory, envNames,
            tls, pinned, toolFilter,
        ]
        /// ``sealed`` as seal formats 2 (before `tls`) and 3 (before `pinned` and `tool_filter`) had it, for
        /// ``SealMigration`` to check a row before it seals it in the current format.
        static let sealedInFormat2 = Array(sealed.dropLast(3))
        static let sealedInFormat3 = Array(sealed.dropLast(2))
        /// The stored lists of each kind (``SurfaceKind``).
        static let discovered = SurfaceKind.allCases.map(\.column)
        /// Every column but the stored lists, which only a few commands need and which can be large.
        static let withoutLists = all.filter { column in !discovered.contains { $0.name == column.name } }
        /// The columns JSON shows, in its order.
        static let shown = all.filter { $0.json != nil }
    }

    /// A connector read from the cells of a row holding `columns`, in that order; other fields keep their
    /// defaults (nil, false, 0, the epoch).
    init(_ cells: any SQLCells, _ columns: [ConnectorColumn]) {
        let epoch = Date(timeIntervalSince1970: 0)
        self.init(
            id: nil, userID: 0, name: "", description: nil, serverURL: "", connectorType: "", authType: .none,
            authConfig: nil, isActive: false, isVerified: false, discoveredTools: nil, toolCount: 0,
            lastVerifiedAt: nil, lastError: nil, createdAt: epoch, updatedAt: epoch, protocolVersion: nil,
            protocolEra: nil, transport: nil, serverName: nil, serverVersion: nil, serverInstructions: nil)
        for (i, column) in columns.enumerated() { column.read(&self, cells, i) }
    }

    /// The connector as the CLI's JSON object; never includes credentials (only whether there are some). With
    /// `includeLists`, the stored tools, prompts, resources and resource templates too (`get --json`).
    public func json(includeLists: Bool = false) -> JSONValue {
        var o = JSONObject()
        for column in Columns.shown {
            guard let (key, display) = column.json else { continue }
            o[key] = Self.json(column.value(self), display)
        }
        if includeLists {
            for kind in SurfaceKind.allCases { o[kind.storedKey] = .array(stored(kind)) }
        }
        return .object(o)
    }

    private static func json(_ value: SQLValue, _ display: ColumnDisplay) -> JSONValue {
        switch (value, display) {
        case (.null, .int): return .int(0)
        case (.null, .text): return .string("")
        case (.null, .bool), (.null, .presence): return .bool(false)
        case (.null, .date): return .string(Timestamp.iso8601(Date(timeIntervalSince1970: 0)))
        case (.null, _): return .null
        case (_, .presence): return .bool(true)
        case (.int(let i), _): return .int(i)
        case (.double(let d), _): return .double(d)
        case (.bool(let b), _): return .bool(b)
        case (.date(let d), _): return .string(Timestamp.iso8601(d))
        case (.text(let t), .optionalJSONArray):
            return (try? JSONValue.parse(t)).flatMap { $0.arrayValue.map(JSONValue.array) } ?? .null
        case (.text(let t), .optionalJSONObject):
            return (try? JSONValue.parse(t)).flatMap { $0.objectValue.map(JSONValue.object) } ?? .null
        case (.text(let t), _): return .string(t)
        }
    }
}

extension SurfaceKind {
    /// The column holding the stored list of this kind.
    var column: ConnectorColumn {
        switch self {
        case .tools: return Connector.Columns.discoveredTools
        case .prompts: return Connector.Columns.discoveredPrompts
        case .resources: return Connector.Columns.discoveredResources
        case .templates: return Connector.Columns.discoveredResourceTemplates
        }
    }
}
