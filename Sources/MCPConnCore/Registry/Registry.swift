import Foundation

/// The known connector types and their detection rules.
public enum Registry {
    /// Every known type, `generic` last.
    public static let types: [ConnectorType] = [
        ConnectorType(id: "notion", displayName: "Notion", hosts: ["notion.com", "notion.so"], keywords: ["notion"]),
        ConnectorType(id: "slack", displayName: "Slack", hosts: ["slack.com"], keywords: ["slack"]),
        ConnectorType(id: "airtable", displayName: "Airtable", hosts: ["airtable.com"], keywords: ["airtable"]),
        ConnectorType(
            id: "github", displayName: "GitHub", hosts: ["github.com", "githubcopilot.com"], keywords: ["github"]),
        ConnectorType(id: "gitlab", displayName: "GitLab", hosts: ["gitlab.com"], keywords: ["gitlab"]),
        ConnectorType(id: "linear", displayName: "Linear", hosts: ["linear.app"], keywords: ["linear"]),
        ConnectorType(
            id: "atlassian", displayName: "Atlassian (Jira, Confluence)", hosts: ["atlassian.com", "atlassian.net"],
            keywords: ["atlassian", "jira", "confluence"]),
        ConnectorType(id: "asana", displayName: "Asana", hosts: ["asana.com"], keywords: ["asana"]),
        ConnectorType(id: "hubspot", displayName: "HubSpot", hosts: ["hubspot.com"], keywords: ["hubspot"]),
        ConnectorType(id: "sentry", displayName: "Sentry", hosts: ["sentry.dev", "sentry.io"], keywords: ["sentry"]),
        ConnectorType(id: "stripe", displayName: "Stripe", hosts: ["stripe.com"], keywords: ["stripe"]),
        ConnectorType(id: "figma", displayName: "Figma", hosts: ["figma.com"], keywords: ["figma"]),
        ConnectorType(
            id: "google-drive", displayName: "Google Drive", hosts: ["drive.google.com"],
            keywords: ["gdrive", "google-drive", "googledrive", "google_drive"]),
        .generic,
    ]

    /// The type with this id, if known.
    public static func type(id: String) -> ConnectorType? {
        let key = id.lowercased()
        return types.first { $0.id == key }
    }

    /// Parses a `--type` value.
    public static func parseType(_ id: String) throws(MCPConnError) -> ConnectorType {
        guard let t = type(id: id) else {
            throw .usage("unknown connector type '\(id)': use one of \(types.map(\.id).joined(separator: ", "))")
        }
        return t
    }

    /// Detects the type of a server: its URL's host, then its URL's path, then the connector name; else generic.
    public static func detect(url: String, name: String) -> ConnectorType {
        let comps = URLComponents(string: url)
        let host = (comps?.host ?? "").lowercased()
        let labels = host.split(separator: ".").map(String.init)
        let known = types.dropLast()
        // 1. The host: an exact service domain (or a subdomain of it), then a label naming the service.
        if let t = known.first(where: { t in t.hosts.contains { host == $0 || host.hasSuffix("." + $0) } }) {
            return t
        }
        if let t = first(known, matching: labels.dropLast().map(Token.init)) { return t }
        // 2. The path segments.
        let segments = (comps?.path ?? "").lowercased().split(separator: "/").map { Token(String($0)) }
        if let t = first(known, matching: segments) { return t }
        // 3. The name.
        let words = name.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "_" })
            .map { Token(String($0)) }
        return first(known, matching: words) ?? .generic
    }

    /// The first type (in registry order) that one of `tokens` names.
    private static func first(_ known: ArraySlice<ConnectorType>, matching tokens: [Token]) -> ConnectorType? {
        guard !tokens.isEmpty else { return nil }
        return known.first { t in tokens.contains { $0.names(any: t.keywords) } }
    }

    /// A token split once into its `-`/`_` parts: `import` detects the type of thousands of connectors, and
    /// splitting again for each keyword of each type was a third of its time.
    struct Token {
        let text: String
        let parts: [Substring]

        init(_ text: String) {
            self.text = text
            parts = text.split(whereSeparator: { $0 == "-" || $0 == "_" })
        }

        /// True when the token names the service: equal to a keyword or made of it plus separators/affixes
        /// like `notion-mcp`, `mcp_slack`, `notionmcp`.
        func names(any keywords: [String]) -> Bool {
            keywords.contains { kw in
                text == kw || parts.contains { $0 == kw } || text.utf8.starts(with: kw.utf8)
                    || text.utf8.reversed().starts(with: kw.utf8.reversed())
            }
        }
    }

    /// Detects the type of a local server from its command line, as the URL does for HTTP: the package or binary
    /// it runs (`npx -y @notionhq/notion-mcp-server`, `github-mcp-server`, `uvx mcp-server-slack`,
    /// `docker run -i ghcr.io/github/github-mcp-server`), then the connector name; else generic. Options
    /// (`-y`, `--rm`) are skipped, and `-e NAME` values too, which name variables, not the server.
    public static func detect(commandLine words: [String], name: String) -> ConnectorType {
        let known = types.dropLast()
        var tokens: [String] = []
        var skipNext = false
        for w in words {
            if skipNext {
                skipNext = false
                continue
            }
            if w.hasPrefix("-") {
                skipNext = ["-e", "--env", "-v", "--volume", "--name", "-w"].contains(w)
                continue
            }
            // A path or package: its parts without scope markers and versions (`@scope/pkg@1.2`, `img:tag`).
            let parts = w.lowercased().split(whereSeparator: { "/:@".contains($0) }).map(String.init)
            tokens += parts.map { $0.hasSuffix(".py") || $0.hasSuffix(".js") ? String($0.dropLast(3)) : $0 }
        }
        if let t = first(known, matching: tokens.map(Token.init)) { return t }
        return detect(url: "", name: name)
    }
}
