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

    /// The streaming form `[connector_name:tool_name] text`, one line per line of content, which a
    /// streaming UI turns into "Notion: search completed". The prefix is escaped here; the text, like any
    /// call result text, by the output sink.
    public static func agentLines(_ result: JSONValue, connector: String, tool: String) -> [String] {
        let prefix = TerminalText.escape("[\(connector):\(tool)] ", .line)
        // Split at every LF byte: `split(separator: "\n")` works on Characters, and CRLF is one Character, so
        // CRLF text stayed one agent line whose newline printed a second line without the prefix.
        let lines = CallResultText.lines(result).flatMap {
            $0.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }
        return lines.isEmpty ? [prefix + "completed"] : lines.map { prefix + $0 }
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
