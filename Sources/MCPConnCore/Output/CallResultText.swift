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

    /// What a 2026-07-28 server asked for instead of answering (`resultType: "input_required"`), on one line:
    /// `elicitation "its message", sampling, roots`, the server's text escaped; nil for a result that is the
    /// answer. mcpconn answers no such round trip yet, so a result like this means the call did not complete.
    public static func inputRequired(_ result: JSONValue) -> String? {
        guard result["resultType"]?.stringValue == "input_required" else { return nil }
        let requests = result["inputRequests"]?.objectValue ?? JSONObject()
        var asked = requests.pairs.prefix(maxInputRequestsNamed).map { inputRequest($0.value) }
        if requests.count > maxInputRequestsNamed { asked.append("\(requests.count - maxInputRequestsNamed) more") }
        return asked.isEmpty ? "another round (a requestState only)" : asked.joined(separator: ", ")
    }

    static let maxInputRequestsNamed = 8

    /// One input request by its kind; an elicitation with its message, cut to 200 characters.
    static func inputRequest(_ request: JSONValue) -> String {
        switch request["method"]?.stringValue {
        case "elicitation/create":
            guard let message = request["params"]?["message"]?.stringValue else { return "elicitation" }
            return "elicitation \"\(TerminalText.escape(String(message.prefix(200)), .line))\""
        case "sampling/createMessage": return "sampling"
        case "roots/list": return "roots"
        case let method?: return TerminalText.escape(String(method.prefix(64)), .line)
        case nil: return "a request without a method"
        }
    }

    /// The streaming form `[connector_name:tool_name] text`, one line per line of content, which a
    /// streaming UI turns into "Notion: search completed"; a call that did not complete because the server asked
    /// for input is `[connector_name:tool_name] input required: …`, never "completed". The prefix is escaped
    /// here; the text, like any call result text, by the output sink.
    public static func agentLines(_ result: JSONValue, connector: String, tool: String) -> [String] {
        let prefix = TerminalText.escape("[\(connector):\(tool)] ", .line)
        if let asked = inputRequired(result) { return [prefix + "input required: " + asked] }
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
