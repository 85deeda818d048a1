/// The lines and JSON entries of `health`, `refresh` and `verify` reports.
extension ConnectorReport {
    /// The `health --json` entry.
    public var healthJSON: JSONValue {
        var o = JSONObject()
        o["id"] = .int(id)
        o["name"] = .string(name)
        o["healthy"] = .bool(ok)
        o["latency_ms"] = latencyMs.map { JSONValue.int($0) } ?? .null
        o["server_name"] = .optional(identity?.name)
        o["server_version"] = .optional(identity?.version)
        o["protocol_version"] = .optional(identity?.protocolVersion)
        o["transport"] = .optional(identity?.transport)
        o["error"] = .optional(error?.message)
        return .object(o)
    }

    /// The `refresh --json` / `verify --json` entry.
    public var refreshJSON: JSONValue {
        var o = JSONObject()
        o["id"] = .int(id)
        o["name"] = .string(name)
        o["ok"] = .bool(ok)
        o["tool_count"] = toolCount.map { JSONValue.int($0) } ?? .null
        o["protocol_version"] = .optional(identity?.protocolVersion)
        o["error"] = .optional(error?.message)
        if !missingTools.isEmpty { o["missing_tools"] = .array(missingTools.map(JSONValue.string)) }
        o["prompt_count"] = promptCount.map { JSONValue.int($0) } ?? .null
        o["resource_count"] = resourceCount.map { JSONValue.int($0) } ?? .null
        o["template_count"] = templateCount.map { JSONValue.int($0) } ?? .null
        if let diff { for (key, value) in diff.json { o[key] = value } }
        return .object(o)
    }

    /// The `refresh` text line: `NAME: 12 tools, unchanged`, `NAME: 12 tools, +new -gone ~changed`, or with
    /// the other kinds' drift `NAME: 12 tools, +new, prompt greet changed, resource memo://x removed`.
    public var refreshLine: String {
        TerminalText.escape("\(name): \(toolCount ?? 0) tools, \(diff?.summary ?? "unchanged")", .line)
    }

    /// The `health` text line.
    public var healthLine: String {
        TerminalText.escape(healthText, .line)
    }

    private var healthText: String {
        if ok {
            let server = [identity?.name, identity?.version].compactMap { $0 }.filter { !$0.isEmpty }.joined(
                separator: " ")
            return
                "\(name): healthy \(latencyMs ?? 0) ms, \(server.isEmpty ? "unnamed server" : server), protocol \(identity?.protocolVersion ?? "?")"
        }
        return "\(name): unhealthy: \(error?.message ?? "unknown error")"
    }
}
