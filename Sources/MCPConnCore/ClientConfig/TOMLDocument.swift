import TOMLKit

/// Codex's `config.toml` through TOMLKit (toml++): parsed into the same JSON tree the JSON formats give, and
/// written from one.
enum TOMLDocument {
    /// The document as JSON, converted by toml++ in one call and read by mcpconn's own parser. Reading it value
    /// by value through TOMLKit's Swift API leaked every string and key array (TOMLKit 0.6.0 does not free what
    /// its C layer returns: LeakSanitizer found it); one conversion leaks one buffer of the document's size,
    /// released when the command exits (Tests/lsan-suppressions.txt names it). Dates come out as their text.
    static func parse(_ text: String, path: String) throws(MCPConnError) -> JSONValue {
        let json: String
        do {
            json = try TOMLTable(string: text).convert(to: .json, options: [])
        } catch let e as TOMLParseError {
            throw .data(
                "\(path), line \(e.source.begin.line): invalid TOML (\(MCPConnError.oneLine(e.description, limit: 120)))"
            )
        } catch {
            throw .data("\(path): invalid TOML")
        }
        do {
            return try JSONValue.parse(json, maxDepth: 64)
        } catch {
            throw .data("\(path): TOML nested too deeply")
        }
    }

    /// TOML text for a JSON object: objects under a server become inline tables (`env = { … }`, as Codex's
    /// docs write them), the rest standard tables.
    static func render(_ document: JSONObject) -> String { text(of: table(document, depth: 0)) }

    /// A table as TOML text ending with a newline.
    private static func text(of table: TOMLTable) -> String {
        let text = table.convert(to: .toml, options: [.allowLiteralStrings, .allowUnicodeStrings])
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
        return Self.text(of: root)
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
                    if kept.last?.allSatisfy(\.isWhitespace) ?? true {
                        pending = Array(pending.drop(while: { $0.allSatisfy(\.isWhitespace) }))
                    }
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
