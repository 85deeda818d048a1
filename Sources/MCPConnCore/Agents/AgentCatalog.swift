/// One connector as a sub-agent a main agent can mount as a tool.
public struct AgentEntry: Sendable, Equatable {
    public var connectorID: Int64
    public var connectorName: String
    public var connectorType: String
    /// Unique among the entries, and a valid function name (`[A-Za-z0-9_-]{1,64}`).
    public var toolName: String
    public var toolDescription: String
    public var systemPrompt: String
    /// The connector's MCP tools: name, description, parameters (the inputSchema).
    public var tools: [JSONValue]

    /// The `agents --json` entry.
    public var json: JSONValue {
        .object([
            "connector_id": .int(connectorID), "connector_name": .string(connectorName),
            "connector_type": .string(connectorType), "tool_name": .string(toolName),
            "tool_description": .string(toolDescription), "system_prompt": .string(systemPrompt),
            "tools": .array(tools),
        ])
    }

    /// The sub-agent as an OpenAI function tool taking a natural-language request.
    public var openAIFunction: JSONValue {
        .object([
            "type": "function",
            "name": .string(toolName),
            "description": .string(toolDescription),
            "parameters": .object([
                "type": "object",
                "properties": .object([
                    "input": .object([
                        "type": "string",
                        "description": .string(
                            "The request for the \(connectorName) sub-agent, in natural language, with every detail it needs."
                        ),
                    ])
                ]),
                "required": ["input"],
                "additionalProperties": false,
            ]),
            "strict": true,
        ])
    }
}

/// Builds the sub-agent entries of a user's active, verified connectors.
public enum AgentCatalog {
    /// Valid function names: letters, digits, `_` and `-`, 1 to 64 of them.
    public static func isValidToolName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.utf8.allSatisfy { $0.isASCIIAlnum || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Lowercase `[a-z0-9_]` words joined by `_`, e.g. "Team Docs (old)" → `team_docs_old`.
    static func slug(_ s: String) -> String {
        var out = ""
        var pendingSeparator = false
        for ch in s.lowercased().unicodeScalars {
            if ch.isASCII, ch.properties.isAlphabetic || ("0"..."9").contains(ch) {
                if pendingSeparator && !out.isEmpty { out.append("_") }
                out.unicodeScalars.append(ch)
                pendingSeparator = false
            } else {
                pendingSeparator = true
            }
        }
        return out
    }

    /// Entries for the given connectors (those not active or not verified are left out), in id order.
    /// A type with one connector keeps its plain tool name (`notion_connector`); when several share a name,
    /// each gets its connector's name appended (`notion_connector_team_docs`), and an id if still needed.
    /// A connector with a gate in `gates` has only its tools stored that pass its allow-list and, in pinned mode,
    /// in their approved form.
    public static func entries(_ connectors: [Connector], gates: [Int64: PinGate] = [:]) -> [AgentEntry] {
        let usable = connectors.filter { $0.isActive && $0.isVerified }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
        func base(_ c: Connector) -> String {
            if c.connectorType == ConnectorType.generic.id {
                let s = slug(c.name)
                return (s.isEmpty ? "mcp" : String(s.prefix(50))) + "_connector"
            }
            return (Registry.type(id: c.connectorType) ?? .generic).agent.toolName
        }
        var counts: [String: Int] = [:]
        for c in usable { counts[base(c), default: 0] += 1 }
        var taken: Set<String> = []
        return usable.map { c in
            var name = base(c)
            if counts[name, default: 0] > 1 {
                let suffix = slug(c.name)
                name = String((name + (suffix.isEmpty ? "" : "_" + suffix)).prefix(64))
            }
            if taken.contains(name) || !isValidToolName(name) {
                let id = "_\(c.id ?? 0)"
                name = String(name.prefix(64 - id.count)) + id
            }
            taken.insert(name)
            return entry(c, toolName: name, gate: gates[c.id ?? 0] ?? .open)
        }
    }

    static func entry(_ c: Connector, toolName: String, gate: PinGate = .open) -> AgentEntry {
        let type = Registry.type(id: c.connectorType) ?? .generic
        let offered = c.tools.filter(gate.offers)
        let tools = offered.map { t -> JSONValue in
            .object([
                "name": t["name"] ?? .null, "description": t["description"] ?? .string(""),
                "parameters": t["inputSchema"] ?? .object(["type": "object"]),
            ])
        }
        let toolLines = offered.compactMap { t -> String? in
            guard let n = t["name"]?.stringValue else { return nil }
            let d =
                (t["description"]?.stringValue ?? "").split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            return d.isEmpty ? "- \(n)" : "- \(n): \(d)"
        }
        let names = offered.compactMap { $0["name"]?.stringValue }
        let instructions = c.serverInstructions.flatMap { $0.isEmpty ? nil : $0 }

        var description: String
        var prompt: String
        if type == .generic {
            let server = c.serverName.flatMap { $0.isEmpty ? nil : $0 } ?? c.name
            let what = instructions.map { firstSentence($0) } ?? c.description ?? "Uses the MCP server \(server)."
            description = "\(what) Tools: \(summary(names))."
            prompt =
                "You are the sub-agent for the MCP server \"\(server)\", connected as \"\(c.name)\". "
                + "Answer the main agent's requests by calling this server's tools."
            if let instructions { prompt += "\n\nThe server's own instructions:\n\(instructions)" }
            prompt += AgentDefinitions.shared
        } else {
            description = type.agent.capabilities + " (connector \"\(c.name)\")"
            prompt =
                type.agent.systemPrompt + "\n\nThis connector is \"\(c.name)\""
                + (c.description.map { ": \($0)" } ?? "") + "."
            if let instructions { prompt += "\n\nThe server's own instructions:\n\(instructions)" }
        }
        if !toolLines.isEmpty { prompt += "\n\nYour tools:\n" + toolLines.joined(separator: "\n") }
        description = MCPConnError.oneLine(description, limit: 1000)
        return AgentEntry(
            connectorID: c.id ?? 0, connectorName: c.name, connectorType: c.connectorType, toolName: toolName,
            toolDescription: description, systemPrompt: prompt, tools: tools)
    }

    static func firstSentence(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        if let dot = line.firstIndex(of: "."), line.distance(from: line.startIndex, to: dot) < 300 {
            return String(line[...dot])
        }
        return String(line.prefix(300))
    }

    static func summary(_ names: [String]) -> String {
        if names.isEmpty { return "none listed" }
        return names.count <= 12
            ? names.joined(separator: ", ")
            : names.prefix(12).joined(separator: ", ") + " and \(names.count - 12) more"
    }
}

extension UInt8 {
    var isASCIIAlnum: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}

extension ConnectorStorage {
    /// The sub-agent entries of the user's active, verified connectors, with only the tools their gates
    /// (``PinGate``: allow-list, pinned mode) let through. `warn` gets what was found changed outside mcpconn on the way.
    public func agents(warn: (String) -> Void = { _ in }) throws(MCPConnError) -> [AgentEntry] {
        let uid = userID
        let rows = try store.read { db in
            try db.connectors(ConnectorFilter(userID: uid, active: true, verified: true))
        }
        guard !rows.isEmpty else { return [] }
        let found = try pinGates(rows.compactMap(\.id))
        found.warnings.forEach(warn)
        return AgentCatalog.entries(rows, gates: found.gates)
    }
}

/// The table of `mcpconn agents`.
extension AgentEntry {
    public static func table(_ entries: [AgentEntry]) -> String {
        var t = TextTable(header: ["TOOL", "CONNECTOR", "TYPE", "TOOLS"])
        for e in entries { t.append([e.toolName, e.connectorName, e.connectorType, String(e.tools.count)]) }
        return t.render()
    }
}
