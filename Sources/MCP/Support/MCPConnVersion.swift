/// The version string of mcpconn.
public enum MCPConnVersion {
    public static let string = "0.1.0"
}
