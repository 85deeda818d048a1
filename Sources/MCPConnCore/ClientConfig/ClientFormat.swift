import Foundation

/// The six MCP clients whose config files `import` reads and `export` writes. What each one accepts is in
/// docs/client-config-formats.md, with its sources.
public enum ClientFormat: String, Sendable, CaseIterable {
    case claudeDesktop = "claude-desktop"
    case claudeCode = "claude-code"
    case vscode
    case cursor
    case codex
    case gemini

    /// Parses `--from`/`--to` (64 for an unknown name).
    public static func parse(_ text: String) throws(MCPConnError) -> ClientFormat {
        guard let f = ClientFormat(rawValue: text.lowercased()) else {
            throw .usage("unknown format '\(text)': use \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return f
    }

    /// The key holding the servers: `servers` for VS Code, `mcp_servers` (a TOML table) for Codex.
    var rootKey: String {
        switch self {
        case .vscode: return "servers"
        case .codex: return "mcp_servers"
        default: return "mcpServers"
        }
    }

    var isTOML: Bool { self == .codex }

    /// Whether the client itself reaches a server by URL (Claude Desktop's file holds local servers only).
    var reachesRemote: Bool { self != .claudeDesktop }

    /// Whether it speaks the legacy HTTP+SSE transport (Codex: streamable HTTP only).
    var reachesSSE: Bool { reachesRemote && self != .codex }

    /// Whether an entry can set a local server's working directory.
    var hasWorkingDirectory: Bool { self == .codex || self == .gemini }

    /// Which `${…}` forms the client expands (none for Claude Desktop and Codex: their values are literal).
    var substitution: Substitution.Syntax {
        switch self {
        case .claudeDesktop, .codex: return []
        case .claudeCode: return [.braced, .withDefault]
        case .cursor: return [.envPrefix, .editorVariables]
        case .vscode: return [.envPrefix, .editorVariables, .inputs]
        case .gemini: return [.braced, .withDefault, .bare]
        }
    }

    /// The format a file's name says, if it says one.
    static func detect(path: String) -> ClientFormat? {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent.lowercased()
        let parent = url.deletingLastPathComponent().lastPathComponent.lowercased()
        switch name {
        case "claude_desktop_config.json": return .claudeDesktop
        case ".mcp.json", ".claude.json": return .claudeCode
        case "config.toml" where parent == ".codex": return .codex
        case "settings.json" where parent == ".gemini" || parent == "gemini-cli": return .gemini
        case "mcp.json" where parent == ".vscode" || parent == "user": return .vscode
        case "mcp.json" where parent == ".cursor": return .cursor
        default: return name.hasSuffix(".toml") ? .codex : nil
        }
    }

    /// The format a parsed JSON document's shape says: `servers` is VS Code's; `mcpServers` entries with a
    /// key only one client uses say which. Plain `command`/`url` entries read the same in every `mcpServers`
    /// client, so they are taken as Claude Code's, whose `${VAR}` forms are the common ones.
    static func detect(document: JSONValue) -> ClientFormat? {
        if document["servers"]?.objectValue != nil || document["mcp"]?["servers"]?.objectValue != nil { return .vscode }
        guard let servers = document["mcpServers"]?.objectValue else { return nil }
        let keys = Set(servers.flatMap { $0.value.objectValue?.keys ?? [] })
        if !keys.isDisjoint(with: ["httpUrl", "trust", "includeTools", "excludeTools", "timeout", "cwd"]) {
            return .gemini
        }
        if keys.contains("type") || document["projects"] != nil { return .claudeCode }
        if keys.contains("url") || keys.contains("auth") { return .cursor }
        return .claudeCode
    }
}
