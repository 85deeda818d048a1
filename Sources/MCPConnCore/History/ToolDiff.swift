/// How a server's tool list changed between two discoveries.
public struct ToolDiff: Sendable, Equatable {
    public var added: [String] = []
    public var removed: [String] = []
    /// Tools whose description or inputSchema differ.
    public var changed: [String] = []

    public init(added: [String] = [], removed: [String] = [], changed: [String] = []) {
        self.added = added
        self.removed = removed
        self.changed = changed
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    /// Compares tool lists by name; order of tools and of JSON object keys does not matter.
    public static func between(old: [JSONValue], new: [JSONValue]) -> ToolDiff {
        func index(_ tools: [JSONValue]) -> [String: JSONValue] {
            var d: [String: JSONValue] = [:]
            for t in tools { if let n = t["name"]?.stringValue { d[n] = t } }
            return d
        }
        let before = index(old)
        let after = index(new)
        var diff = ToolDiff()
        diff.added = after.keys.filter { before[$0] == nil }.sorted()
        diff.removed = before.keys.filter { after[$0] == nil }.sorted()
        diff.changed = after.keys.filter { name in
            guard let a = before[name], let b = after[name] else { return false }
            return a["description"]?.canonical != b["description"]?.canonical
                || a["inputSchema"]?.canonical != b["inputSchema"]?.canonical
        }.sorted()
        return diff
    }

    /// `{"added": […], "removed": […], "changed": […]}`.
    public var json: JSONValue {
        .object([
            "added": .array(added.map(JSONValue.string)), "removed": .array(removed.map(JSONValue.string)),
            "changed": .array(changed.map(JSONValue.string)),
        ])
    }

    init(json: JSONValue) {
        func names(_ k: String) -> [String] { (json[k]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(added: names("added"), removed: names("removed"), changed: names("changed"))
    }

    /// `+new -gone ~changed`, or `unchanged`.
    public var summary: String {
        if isEmpty { return "unchanged" }
        return (added.map { "+" + $0 } + removed.map { "-" + $0 } + changed.map { "~" + $0 }).joined(separator: " ")
    }
}

extension JSONValue {
    /// The same value with every object's keys sorted, for order-insensitive comparison.
    var canonical: JSONValue {
        switch self {
        case .array(let a): return .array(a.map(\.canonical))
        case .object(let o):
            return .object(JSONObject(o.pairs.map { ($0.key, $0.value.canonical) }.sorted { $0.0 < $1.0 }))
        default: return self
        }
    }
}
