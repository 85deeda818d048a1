/// The kinds of item verify/refresh store for a connector: its tools, prompts, resources and resource templates.
public enum SurfaceKind: String, CaseIterable, Sendable {
    case tools, prompts, resources, templates

    /// The field that names an item: resources are known by their URI, templates by their URI template.
    var key: String {
        switch self {
        case .tools, .prompts: return "name"
        case .resources: return "uri"
        case .templates: return "uriTemplate"
        }
    }

    /// The fields whose difference makes an item changed.
    var fields: [String] {
        switch self {
        case .tools: return ["description", "inputSchema"]
        case .prompts: return ["description", "title", "arguments"]
        case .resources, .templates: return ["name", "description", "mimeType", "title"]
        }
    }

    /// One item of the kind, in a drift line (`prompt greet changed`).
    public var singular: String {
        switch self {
        case .tools: return "tool"
        case .prompts: return "prompt"
        case .resources: return "resource"
        case .templates: return "template"
        }
    }

    /// The key of the stored list in `get --json`.
    var storedKey: String { self == .templates ? "discovered_resource_templates" : "discovered_" + rawValue }
}

/// How one kind of item changed between two discoveries, by the names (or URIs) of the items.
public struct ListDiff: Sendable, Equatable {
    public var added: [String] = []
    public var removed: [String] = []
    /// Items whose ``SurfaceKind/fields`` differ.
    public var changed: [String] = []

    public init(added: [String] = [], removed: [String] = [], changed: [String] = []) {
        self.added = added
        self.removed = removed
        self.changed = changed
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    /// Compares lists by the kind's key; order of items and of JSON object keys does not matter.
    static func between(old: [JSONValue], new: [JSONValue], _ kind: SurfaceKind) -> ListDiff {
        func index(_ items: [JSONValue]) -> [String: JSONValue] {
            var d: [String: JSONValue] = [:]
            for item in items { if let k = item[kind.key]?.stringValue { d[k] = item } }
            return d
        }
        let before = index(old)
        let after = index(new)
        var diff = ListDiff()
        diff.added = after.keys.filter { before[$0] == nil }.sorted()
        diff.removed = before.keys.filter { after[$0] == nil }.sorted()
        diff.changed = after.keys.filter { k in
            guard let a = before[k], let b = after[k] else { return false }
            return kind.fields.contains { a[$0]?.canonical != b[$0]?.canonical }
        }.sorted()
        return diff
    }

    /// `{"added": […], "removed": […], "changed": […]}`.
    public var json: JSONObject {
        [
            "added": .array(added.map(JSONValue.string)), "removed": .array(removed.map(JSONValue.string)),
            "changed": .array(changed.map(JSONValue.string)),
        ]
    }

    init(json: JSONValue?) {
        func names(_ k: String) -> [String] { (json?[k]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(added: names("added"), removed: names("removed"), changed: names("changed"))
    }
}

/// How a server's surface changed between two discoveries: its tools, prompts, resources and templates.
public struct SurfaceDiff: Sendable, Equatable {
    public var tools = ListDiff()
    public var prompts = ListDiff()
    public var resources = ListDiff()
    public var templates = ListDiff()

    public init(
        tools: ListDiff = ListDiff(), prompts: ListDiff = ListDiff(), resources: ListDiff = ListDiff(),
        templates: ListDiff = ListDiff()
    ) {
        self.tools = tools
        self.prompts = prompts
        self.resources = resources
        self.templates = templates
    }

    public subscript(kind: SurfaceKind) -> ListDiff {
        get {
            switch kind {
            case .tools: return tools
            case .prompts: return prompts
            case .resources: return resources
            case .templates: return templates
            }
        }
        set {
            switch kind {
            case .tools: tools = newValue
            case .prompts: prompts = newValue
            case .resources: resources = newValue
            case .templates: templates = newValue
            }
        }
    }

    public var isEmpty: Bool { SurfaceKind.allCases.allSatisfy { self[$0].isEmpty } }

    /// What a discovery found against the lists stored before (`old`, without the kinds none is stored of).
    /// A kind with none stored beside stored tools was stored before mcpconn kept that kind: there is nothing to
    /// compare against, so it is no drift. A connector never discovered compares against empty lists, as tools
    /// always have.
    static func between(old: [SurfaceKind: [JSONValue]], new: DiscoveredSurface) -> SurfaceDiff {
        var diff = SurfaceDiff()
        for kind in SurfaceKind.allCases {
            if kind != .tools, old[kind] == nil, old[.tools] != nil { continue }
            if new.unknown.contains(kind) { continue }
            diff[kind] = ListDiff.between(old: old[kind] ?? [], new: new[kind], kind)
        }
        return diff
    }

    /// The tools' `added`, `removed` and `changed` at the top (as before prompts and resources were kept), and
    /// an object of the same three for each other kind.
    public var json: JSONObject {
        var o = tools.json
        for kind in SurfaceKind.allCases where kind != .tools { o[kind.rawValue] = .object(self[kind].json) }
        return o
    }

    /// Reads ``json``; a history entry written before prompts and resources were kept has only the tools.
    init(json: JSONValue) {
        self.init(tools: ListDiff(json: json))
        for kind in SurfaceKind.allCases where kind != .tools { self[kind] = ListDiff(json: json[kind.rawValue]) }
    }

    /// `+new -gone ~changed` for tools, then `prompt greet changed`, `resource memo://x removed`, …; or
    /// `unchanged`.
    public var summary: String {
        if isEmpty { return "unchanged" }
        let toolItems = tools.added.map { "+" + $0 } + tools.removed.map { "-" + $0 } + tools.changed.map { "~" + $0 }
        var parts = toolItems.isEmpty ? [] : [toolItems.joined(separator: " ")]
        for kind in SurfaceKind.allCases where kind != .tools {
            let d = self[kind]
            for (names, what) in [(d.added, "added"), (d.removed, "removed"), (d.changed, "changed")] {
                parts += names.map { "\(kind.singular) \($0) \(what)" }
            }
        }
        return parts.joined(separator: ", ")
    }
}

/// What one discovery found, per kind.
struct DiscoveredSurface: Sendable {
    var tools: [JSONValue] = []
    var prompts: [JSONValue] = []
    var resources: [JSONValue] = []
    var templates: [JSONValue] = []
    /// Kinds whose list the server failed to give (an error other than "method not found"): left as stored, no
    /// drift. Tools are never unknown: without them the whole check fails.
    var unknown: Set<SurfaceKind> = []

    subscript(kind: SurfaceKind) -> [JSONValue] {
        switch kind {
        case .tools: return tools
        case .prompts: return prompts
        case .resources: return resources
        case .templates: return templates
        }
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
