/// A plain aligned text table for terminal output: a header row, then rows, columns padded with spaces.
public struct TextTable {
    public var header: [String]
    public var rows: [[String]] = []

    public init(header: [String]) { self.header = header }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The rendered table; the last column is not padded, so lines carry no trailing spaces.
    public func render() -> String {
        var widths = header.map(\.count)
        for r in rows {
            for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }
        var out = ""
        for r in [header] + rows {
            var line = ""
            for (i, c) in r.enumerated() {
                if i == r.count - 1 {
                    line += c
                } else {
                    line += c + String(repeating: " ", count: widths[i] - c.count + 2)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}

extension Connector {
    /// The table of `mcpconn list`.
    public static func table(_ connectors: [Connector]) -> String {
        var t = TextTable(header: ["ID", "NAME", "TYPE", "AUTH", "ACTIVE", "VERIFIED", "TOOLS", "URL"])
        for c in connectors {
            t.append([
                String(c.id ?? 0), c.name, c.connectorType, c.authType.rawValue, c.isActive ? "yes" : "no",
                c.isVerified ? "yes" : "no", String(c.toolCount), c.serverURL,
            ])
        }
        return t.render()
    }

    /// The key/value block of `mcpconn get`.
    public var details: String {
        var lines: [(String, String)] = [
            ("id", String(id ?? 0)),
            ("name", name),
            ("description", description ?? "-"),
            ("url", serverURL),
            ("type", connectorType),
            ("auth", authType.rawValue),
            ("credentials", hasCredentials ? "set" : "none"),
            ("active", isActive ? "yes" : "no"),
            ("verified", isVerified ? "yes" : "no"),
            ("tools", String(toolCount)),
            ("last verified", lastVerifiedAt.map(Timestamp.iso8601) ?? "never"),
        ]
        if let lastError { lines.append(("last error", lastError)) }
        if let protocolVersion {
            lines.append(("protocol", "\(protocolVersion) (\(protocolEra ?? "?"), \(transport ?? "?"))"))
        }
        let server = [serverName, serverVersion].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        if !server.isEmpty { lines.append(("server", server)) }
        lines.append(("created", Timestamp.iso8601(createdAt)))
        lines.append(("updated", Timestamp.iso8601(updatedAt)))
        let w = lines.map(\.0.count).max() ?? 0
        return lines.map { $0.0 + ":" + String(repeating: " ", count: w - $0.0.count + 1) + $0.1 }
            .joined(separator: "\n") + "\n"
    }

    /// The tool list of `mcpconn tools`: name and the first line of its description.
    public static func toolTable(_ tools: [JSONValue]) -> String {
        var t = TextTable(header: ["TOOL", "DESCRIPTION"])
        for tool in tools {
            let name = tool["name"]?.stringValue ?? "?"
            let desc = tool["description"]?.stringValue ?? ""
            let first = desc.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            t.append([name, first.count > 100 ? String(first.prefix(99)) + "…" : first])
        }
        return t.render()
    }
}
