import TOMLKit

/// Codex's `config.toml` through TOMLKit (toml++): parsed into the same JSON tree the JSON formats give, and
/// written from one.
enum TOMLDocument {
    static func parse(_ text: String, path: String) throws(MCPConnError) -> JSONValue {
        do {
            return json(try TOMLTable(string: text))
        } catch let e as TOMLParseError {
            throw .data("\(path), line \(e.source.begin.line): invalid TOML (\(MCPConnError.oneLine(e.description, limit: 120)))")
        } catch {
            throw .data("\(path): invalid TOML")
        }
    }

    private static func json(_ v: TOMLValueConvertible) -> JSONValue {
        if let t = v.table { return .object(JSONObject(t.map { ($0.0, json($0.1)) })) }
        if let a = v.array { return .array(a.map { json($0) }) }
        if let s = v.string { return .string(s) }
        if let b = v.bool { return .bool(b) }
        if let i = v.int { return .int(i) }
        if let d = v.double { return .double(d) }
        // Dates and times: no MCP server key holds one; kept as their text so a comparison still sees them.
        return .string(v.debugDescription)
    }

    /// TOML text for a JSON object: objects under a server become inline tables (`env = { … }`, as Codex's
    /// docs write them), the rest standard tables.
    static func render(_ document: JSONObject) -> String {
        let text = table(document, depth: 0).convert(to: .toml, options: [.allowLiteralStrings, .allowUnicodeStrings])
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    private static func table(_ object: JSONObject, depth: Int) -> TOMLTable {
        let t = TOMLTable(inline: depth >= 3)
        for (key, value) in object {
            if let v = toml(value, depth: depth + 1) { t[key] = v }
        }
        return t
    }

    private static func toml(_ v: JSONValue, depth: Int) -> TOMLValueConvertible? {
        switch v {
        case .object(let o): return table(o, depth: depth)
        case .array(let a): return TOMLArray(a.compactMap { toml($0, depth: depth + 1) })
        case .string(let s): return s
        case .bool(let b): return b
        case .number(let n): return Int(n).map { $0 as TOMLValueConvertible } ?? Double(n) ?? n
        case .null: return nil
        }
    }

    /// `text` parsed and written again whole with `servers` set under `[mcp_servers]`: comments and key order are
    /// lost, but every other value keeps its TOML type (a date stays a date). Nil when `text` does not parse.
    static func rewritten(_ text: String, servers: [(name: String, entry: JSONObject)]) -> String? {
        guard let root = try? TOMLTable(string: text) else { return nil }
        let table = root["mcp_servers"]?.table ?? TOMLTable()
        for (name, entry) in servers { table[name] = self.table(entry, depth: 2) }
        root["mcp_servers"] = table
        let out = root.convert(to: .toml, options: [.allowLiteralStrings, .allowUnicodeStrings])
        return out.hasSuffix("\n") ? out : out + "\n"
    }

    /// `text` without the `[mcp_servers.NAME]` tables (and their sub-tables) of `names`, with `sections`
    /// appended. Edited as text because a TOML library's rewrite drops every comment and reorders keys, and a
    /// user's `config.toml` is mostly comments; the caller checks the result by parsing it (servers written as
    /// dotted keys or an inline table are not found here, and the check sends those to a whole rewrite).
    static func replacingServers(_ names: Set<String>, in text: String, with sections: String) -> String {
        var kept: [Substring] = []
        var dropping = false
        // Comments and blank lines at the end of a dropped table may belong to the table after it.
        var pending: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let path = TOMLTableHeader.path(line) {
                dropping = path.count >= 2 && path[0] == "mcp_servers" && names.contains(path[1])
                if !dropping {
                    if kept.last?.allSatisfy(\.isWhitespace) ?? true { pending = Array(pending.drop(while: { $0.allSatisfy(\.isWhitespace) })) }
                    kept += pending
                }
                pending = []
            }
            if !dropping {
                kept.append(line)
            } else if line.drop(while: { $0 == " " || $0 == "\t" }).first.map({ $0 == "#" }) ?? true {
                pending.append(line)
            } else {
                pending = []
            }
        }
        kept += pending.filter { !$0.allSatisfy(\.isWhitespace) }
        while let last = kept.last, last.allSatisfy(\.isWhitespace) { kept.removeLast() }
        let head = kept.joined(separator: "\n")
        return (head.isEmpty ? "" : head + "\n\n") + sections
    }
}
