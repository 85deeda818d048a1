import Foundation

/// Prompts and resources for people: the tables of `prompts` and `resources`, a prompt's messages, a resource's
/// contents. Server text is untrusted: table cells are escaped by ``TextTable``, multi-line text by the output
/// sink, one-line fields here.
extension TextTable {
    /// `mcpconn prompts`: name, arguments (an optional one ends in `?`), the first line of the description.
    public static func prompts(_ prompts: [JSONValue]) -> String {
        var t = TextTable(header: ["PROMPT", "ARGUMENTS", "DESCRIPTION"])
        for p in prompts {
            let arguments = (p["arguments"]?.arrayValue ?? []).map { a in
                (a["name"]?.stringValue ?? "?") + (a["required"]?.boolValue == true ? "" : "?")
            }
            t.append([p["name"]?.stringValue ?? "?", arguments.joined(separator: " "), firstLine(p["description"])])
        }
        return t.render()
    }

    /// `mcpconn resources`: URI, name, media type, the first line of the description.
    public static func resources(_ resources: [JSONValue]) -> String {
        table(resources, first: ("URI", "uri"))
    }

    /// `mcpconn resources --templates`: the URI template (RFC 6570), name, media type, description.
    public static func resourceTemplates(_ templates: [JSONValue]) -> String {
        table(templates, first: ("TEMPLATE", "uriTemplate"))
    }

    private static func table(_ items: [JSONValue], first: (header: String, key: String)) -> String {
        var t = TextTable(header: [first.header, "NAME", "TYPE", "DESCRIPTION"])
        for r in items {
            t.append([
                r[first.key]?.stringValue ?? "?", r["name"]?.stringValue ?? "", r["mimeType"]?.stringValue ?? "",
                firstLine(r["description"]),
            ])
        }
        return t.render()
    }
}

/// A `prompts/get` result as text: each message under a `[role]` line, messages apart by a blank line.
public enum PromptText {
    public static func text(_ result: JSONValue) -> String {
        let messages = result["messages"]?.arrayValue ?? []
        return messages.map { m in
            let role = TerminalText.escape(m["role"]?.stringValue ?? "?", .line)
            // A message has one content block (an array from servers that send several is shown item by item).
            let content = m["content"].map { $0.arrayValue ?? [$0] } ?? []
            let body = content.map(CallResultText.describe).map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
            return "[\(role)]\n" + body
        }.joined(separator: "\n")
    }
}

/// A `resources/read` result's contents: text, or a blob decoded from its base64.
public enum ResourceContent: Sendable {
    case text(String)
    case blob([UInt8], mimeType: String?)

    /// The contents in order. A blob that is not base64 is not valid MCP (76).
    public static func items(_ result: JSONValue, uri: String) throws(MCPConnError) -> [ResourceContent] {
        try (result["contents"]?.arrayValue ?? []).map { c throws(MCPConnError) in
            if let text = c["text"]?.stringValue { return .text(text) }
            guard let base64 = c["blob"]?.stringValue else {
                throw MCPConnError(.protocolError, "resource '\(uri)': a content item has neither text nor blob")
            }
            guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters) else {
                throw MCPConnError(.protocolError, "resource '\(uri)': its blob is not valid base64")
            }
            return .blob([UInt8](data), mimeType: c["mimeType"]?.stringValue)
        }
    }

    /// The bytes as written to a file (text as its UTF-8, not copied: a resource may be large).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .text(var t): try t.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        case .blob(let b, _): try b.withUnsafeBytes(body)
        }
    }

    /// `binary (image/png, 68 bytes)`, for the message that refuses to print a blob on a terminal.
    public var summary: String {
        guard case .blob(let b, let mime) = self else { return "text" }
        let type = mime.map { TerminalText.escape($0, .line) + ", " } ?? ""
        return "binary (\(type)\(CallResultText.byteCount(b.count)))"
    }
}
