/// A kind of MCP server mcpconn knows by name (Notion, Slack, …), recognised from its URL or connector name.
public struct ConnectorType: Sendable, Equatable {
    /// The identifier stored in `connector_type`, e.g. `notion`.
    public let id: String
    /// The service's name for people, e.g. `Notion`.
    public let displayName: String
    /// Host names (or their last labels) that identify the service, e.g. `notion.com`.
    let hosts: [String]
    /// Words that identify the service in a host label, a path segment or a connector name.
    let keywords: [String]

    /// The fallback type for servers the registry does not know.
    public static let generic = ConnectorType(id: "generic", displayName: "MCP server", hosts: [], keywords: [])
}
