import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A connector's own tool allow-list (issue 26; `update REF --allow-tools GLOB... --deny-tools GLOB...`), stored in
/// the sealed `tool_filter` column: `serve`, `call` and `agents` use only the tools whose name (as the server lists
/// it) passes. A name passes when the allow-list is empty or one of its globs matches, and no deny glob matches.
/// Globs are fnmatch(3)'s (`*`, `?`, `[...]`; `*` matches `/` too).
public struct ToolFilter: Sendable, Equatable {
    public var allow: [String] = []
    public var deny: [String] = []

    /// The longest glob accepted, in bytes.
    static let maxGlobBytes = 256

    public init(allow: [String] = [], deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// No filter: every tool passes.
    public var isEmpty: Bool { allow.isEmpty && deny.isEmpty }

    /// Whether a tool of this name may be listed and called. A name with a NUL (which fnmatch would cut short)
    /// passes only an empty filter.
    public func passes(_ name: String) -> Bool {
        isEmpty || (refusal(name) == nil)
    }

    /// Why a tool of this name is filtered out, for a JSON-RPC error or an exit line; nil when it passes.
    /// The tool's name is the server's text: escaped.
    public func refusal(tool: String, connector: String) -> String? {
        refusal(tool).map { "tool '\(TerminalText.escape(tool))' of connector '\(connector)' \($0)" }
    }

    private func refusal(_ name: String) -> String? {
        guard !isEmpty else { return nil }
        guard !name.utf8.contains(0) else { return "is not in its allow-list (its name holds a NUL)" }
        if !allow.isEmpty, !allow.contains(where: { Self.matches($0, name) }) {
            return "is not in its allow-list (--allow-tools \(allow.map { "'\($0)'" }.joined(separator: " ")))"
        }
        if let glob = deny.first(where: { Self.matches($0, name) }) { return "is denied (--deny-tools '\(glob)')" }
        return nil
    }

    private static func matches(_ glob: String, _ name: String) -> Bool {
        fnmatch(glob, name, 0) == 0
    }

    /// The column's text: nil when there is no filter. Keys in a fixed order, so the seal sees one form.
    var columnText: String? {
        guard !isEmpty else { return nil }
        let o: JSONObject = [
            "allow": .array(allow.map(JSONValue.string)), "deny": .array(deny.map(JSONValue.string)),
        ]
        return JSONValue.object(o).compactText()
    }

    /// The filter a column holds; none for NULL. Text mcpconn did not write is refused by the row's seal before
    /// the row is used; an unreadable one reads as a filter that lets nothing through.
    init(columnText: String?) {
        guard let columnText else { return }
        guard let o = (try? JSONValue.parse(columnText))?.objectValue else {
            deny = ["*"]
            return
        }
        allow = (o["allow"]?.arrayValue ?? []).compactMap(\.stringValue)
        deny = (o["deny"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The given globs, checked, for `add` or `update` (an empty string given alone clears the list).
    static func globs(_ given: [String], _ flag: String) throws(MCPConnError) -> [String] {
        var out: [String] = []
        for glob in given where !glob.isEmpty {
            if glob.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw .usage("\(flag) '\(TerminalText.escape(glob))': a glob cannot contain a control character")
            }
            if glob.utf8.count > maxGlobBytes {
                throw .usage("\(flag): a glob is at most \(maxGlobBytes) bytes (this one has \(glob.utf8.count))")
            }
            if !out.contains(glob) { out.append(glob) }
        }
        return out
    }
}

extension Connector {
    /// The connector's own tool allow-list (none when not set).
    public var toolFilter: ToolFilter { ToolFilter(columnText: toolFilterText) }
}
