/// One thing `scan` found: where (connector, kind, item, field), which rule and how bad, and the offending text
/// escaped (``TextScanner/excerpt(_:_:)``), never raw.
public struct ScanFinding: Sendable, Equatable {
    public var connector: String
    /// `tool`, `prompt`, `resource`, `template`, or `server` (its instructions).
    public var kind: String
    /// The item's name (a resource's URI, a template's URI template; the server's name).
    public var item: String
    /// Where in the item: `description`, `inputSchema.properties.path.description`, `arguments.code`.
    public var field: String
    public var rule: ScanRule
    public var excerpt: String
    public var detail: String?

    public var severity: ScanSeverity { rule.severity }

    public var json: JSONValue {
        [
            "connector": .string(connector), "kind": .string(kind), "item": .string(item), "field": .string(field),
            "rule": .string(rule.id), "severity": .string(severity.rawValue), "excerpt": .string(excerpt),
            "detail": .optional(detail),
        ]
    }

    /// `CONNECTOR KIND ITEM FIELD: SEVERITY RULE "EXCERPT" (DETAIL)`, every part escaped for one line.
    public var line: String {
        let place = [connector, kind, item.isEmpty ? "-" : item, field].map { TerminalText.escape($0, .line) }
        let note = detail.map { " (" + TerminalText.escape($0, .line) + ")" } ?? ""
        return "\(place.joined(separator: " ")): \(severity.rawValue) \(rule.id) \"\(excerpt)\"\(note)"
    }
}

/// What `scan` found in some connectors, and which of them had nothing stored to scan.
public struct ScanReport: Sendable {
    public var findings: [ScanFinding] = []
    /// Connectors never verified (no stored tools): nothing was scanned.
    public var unverified: [String] = []
}

/// `scan`: the rules of ``ScanRule`` over what verify/refresh stored of each connector (no server is asked).
/// Every text a model is shown is read: names, titles, descriptions, schemas (every string in them, every
/// property name), prompt arguments, resource URIs, the server's instructions.
public enum ToolScanner {
    /// A schema's values read at most: past this the rest is not scanned, and that is a finding.
    static let schemaValueLimit = 10_000
    static let schemaDepthLimit = 64

    /// Findings in connector order, then kind, item (as stored), field and ``ScanRule/all``'s order.
    /// `every`: all of the user's connectors, whose tool names the shadowing rule looks for.
    public static func scan(_ targets: [Connector], among every: [Connector]) -> ScanReport {
        var report = ScanReport()
        // Whose each tool name is, built once: a scan of --all compares every connector with every other.
        var owners: [String: [(id: Int64?, name: String)]] = [:]
        for c in every {
            for tool in Set(c.tools.compactMap { $0["name"]?.stringValue }) {
                owners[tool, default: []].append((c.id, c.name))
            }
        }
        for c in targets {
            guard c.storedText(.tools) != nil else {
                report.unverified.append(c.name)
                continue
            }
            // Another connector's tool, unless this one has a tool of that name too.
            report.findings += scan(c) { word in
                guard let all = owners[word], !all.contains(where: { $0.id == c.id }) else { return nil }
                return all.map(\.name)
            }
        }
        return report
    }

    /// One connector's findings; `toolOwners`: the other connectors a word is the name of a tool of, if any.
    static func scan(_ c: Connector, toolOwners: @escaping (String) -> [String]?) -> [ScanFinding] {
        var out: [ScanFinding] = []
        if let instructions = c.serverInstructions {
            var s = ItemScan(connector: c.name, kind: "server", item: c.serverName ?? "", toolOwners: toolOwners)
            s.text("instructions", instructions)
            out += s.findings
        }
        for tool in c.stored(.tools) {
            var s = ItemScan(
                connector: c.name, kind: "tool", item: tool["name"]?.stringValue ?? "", toolOwners: toolOwners)
            s.text("name", tool["name"]?.stringValue, names: false)
            s.text("title", tool["title"]?.stringValue)
            s.text("description", tool["description"]?.stringValue)
            s.text("annotations.title", tool["annotations"]?["title"]?.stringValue)
            s.schema("inputSchema", tool["inputSchema"])
            s.schema("outputSchema", tool["outputSchema"])
            out += s.findings
        }
        for prompt in c.stored(.prompts) {
            var s = ItemScan(
                connector: c.name, kind: "prompt", item: prompt["name"]?.stringValue ?? "", toolOwners: toolOwners)
            s.text("name", prompt["name"]?.stringValue, names: false)
            s.text("title", prompt["title"]?.stringValue)
            s.text("description", prompt["description"]?.stringValue)
            for argument in prompt["arguments"]?.arrayValue ?? [] {
                let name = argument["name"]?.stringValue ?? ""
                s.property("arguments.\(name)", name)
                s.text("arguments.\(name).title", argument["title"]?.stringValue)
                s.text("arguments.\(name).description", argument["description"]?.stringValue)
            }
            out += s.findings
        }
        for kind in [SurfaceKind.resources, .templates] {
            for resource in c.stored(kind) {
                let uri = resource[kind.key]?.stringValue
                var s = ItemScan(connector: c.name, kind: kind.singular, item: uri ?? "", toolOwners: toolOwners)
                s.text(kind.key, uri, urls: false, names: false)
                s.text("name", resource["name"]?.stringValue)
                s.text("title", resource["title"]?.stringValue)
                s.text("description", resource["description"]?.stringValue)
                out += s.findings
            }
        }
        return out
    }
}

/// The findings of one item, field by field.
struct ItemScan {
    let connector: String
    let kind: String
    let item: String
    let toolOwners: (String) -> [String]?
    var findings: [ScanFinding] = []

    /// Keys whose values are URIs by their nature (`$schema`): not a place data is sent.
    static let uriKeys: Set<String> = ["$schema", "$id", "$ref"]

    mutating func add(_ field: String, _ rule: ScanRule, _ excerpt: String, _ detail: String? = nil) {
        findings.append(
            ScanFinding(
                connector: connector, kind: kind, item: item, field: field, rule: rule, excerpt: excerpt,
                detail: detail))
    }

    /// The text rules over one field. `names`: look for other connectors' tool names (not in an item's own name).
    mutating func text(_ field: String, _ value: String?, urls: Bool = true, names: Bool = true) {
        guard let value, !value.isEmpty else { return }
        for hit in TextScanner.scan(value, urls: urls, toolOwners: names ? toolOwners : nil) {
            add(field, hit.rule, hit.excerpt, hit.detail)
        }
    }

    /// A schema property's or prompt argument's name: the text rules, and whether it asks for a secret.
    mutating func property(_ field: String, _ name: String) {
        text(field, name, urls: false, names: false)
        if Self.asksForSecret(name) { add(field, .secretField, TextScanner.excerpt(of: name)) }
    }

    /// `password`, `api_key`, `client_secret`, `GITHUB_TOKEN`; not `max_tokens` or `page_token`.
    static func asksForSecret(_ name: String) -> Bool {
        let key = String(name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != "." && $0 != " " })
        if ScanPhrase.secretExactNames.contains(key) { return true }
        if ScanPhrase.notSecretNames.contains(where: { key.hasSuffix($0) }) { return false }
        return ScanPhrase.secretNameEndings.contains { key.hasSuffix($0) }
    }

    /// Every string of a JSON schema and every property name, to a bound: a hostile schema may be huge or deep.
    mutating func schema(_ field: String, _ value: JSONValue?) {
        guard let value else { return }
        var budget = ToolScanner.schemaValueLimit
        walk(value, field, depth: 0, urls: true, budget: &budget)
        if budget < 0 {
            add(
                field, .excessiveLength, "",
                "over \(ToolScanner.schemaValueLimit) values or \(ToolScanner.schemaDepthLimit) levels deep: the rest was not scanned"
            )
        }
    }

    private mutating func walk(_ v: JSONValue, _ path: String, depth: Int, urls: Bool, budget: inout Int) {
        budget -= 1
        guard budget >= 0 else { return }
        guard depth < ToolScanner.schemaDepthLimit else {
            budget = -1
            return
        }
        switch v {
        case .string(let s): text(path, s, urls: urls)
        case .array(let a): for e in a { walk(e, path, depth: depth + 1, urls: urls, budget: &budget) }
        case .object(let o):
            for (key, child) in o {
                if key == "properties" || key == "patternProperties", case .object(let properties) = child {
                    for (name, schema) in properties {
                        guard budget >= 0 else { return }
                        property("\(path).properties.\(name)", name)
                        walk(schema, "\(path).properties.\(name)", depth: depth + 1, urls: true, budget: &budget)
                    }
                } else {
                    walk(
                        child, "\(path).\(key)", depth: depth + 1, urls: !Self.uriKeys.contains(key), budget: &budget)
                }
            }
        default: break
        }
    }
}
