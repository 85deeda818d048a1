/// Renders a CallToolResult for people: text items as they are, other content summarised.
public enum CallResultText {
    /// One string per content item (or the structured content when there is no content). Text items are
    /// multi-line: the output sink escapes their controls; the summaries' fields are escaped here, as lines.
    public static func lines(_ result: JSONValue) -> [String] {
        let items = result["content"]?.arrayValue ?? []
        var out: [String] = items.map(describe)
        if out.isEmpty, let s = result["structuredContent"], !s.isNull { out.append(s.prettyText()) }
        return out
    }

    /// True when the server flagged the result as a tool error.
    public static func isError(_ result: JSONValue) -> Bool { result["isError"]?.boolValue == true }

    /// The error text of a failed call, on one line.
    public static func errorText(_ result: JSONValue) -> String {
        let text = (result["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: " ")
        return text.isEmpty ? "the tool reported an error" : text
    }

    static func describe(_ item: JSONValue) -> String {
        func field(_ key: String, of v: JSONValue? = item) -> String? {
            v?[key]?.stringValue.map { TerminalText.escape($0, .line) }
        }
        let type = field("type") ?? "unknown"
        switch type {
        case "text": return item["text"]?.stringValue ?? ""
        case "image", "audio":
            let mime = field("mimeType") ?? "unknown type"
            let data = item["data"]?.stringValue ?? ""
            let size = data.utf8.count * 3 / 4 - data.utf8.reversed().prefix(2).filter { $0 == UInt8(ascii: "=") }.count
            return "[\(type): \(mime), \(byteCount(size))]"
        case "resource_link":
            let uri = field("uri") ?? "?"
            let name = field("name").map { " (\($0))" } ?? ""
            return "[resource link: \(uri)\(name)]"
        case "resource":
            let r = item["resource"]
            if let text = r?["text"]?.stringValue { return text }
            let uri = field("uri", of: r) ?? "?"
            let mime = field("mimeType", of: r).map { ", \($0)" } ?? ""
            return "[resource: \(uri)\(mime)]"
        default: return "[\(type) content]"
        }
    }

    static func byteCount(_ n: Int) -> String {
        n < 1024 ? "\(n) bytes" : n < 1024 * 1024 ? "\(n / 1024) KiB" : "\(n / (1024 * 1024)) MiB"
    }
}

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
        if let diff {
            o["added"] = .array(diff.added.map(JSONValue.string))
            o["removed"] = .array(diff.removed.map(JSONValue.string))
            o["changed"] = .array(diff.changed.map(JSONValue.string))
        }
        return .object(o)
    }

    /// The `refresh` text line: `NAME: 12 tools, unchanged` or `NAME: 12 tools, +new -gone ~changed`.
    public var refreshLine: String {
        TerminalText.escape("\(name): \(toolCount ?? 0) tools, \(diff?.summary ?? "unchanged")", .line)
    }

    /// The `health` text line.
    public var healthLine: String {
        TerminalText.escape(healthText, .line)
    }

    private var healthText: String {
        if ok {
            let server = [identity?.name, identity?.version].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            return "\(name): healthy \(latencyMs ?? 0) ms, \(server.isEmpty ? "unnamed server" : server), protocol \(identity?.protocolVersion ?? "?")"
        }
        return "\(name): unhealthy: \(error?.message ?? "unknown error")"
    }
}
