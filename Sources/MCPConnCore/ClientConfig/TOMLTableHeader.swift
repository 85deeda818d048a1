/// TOML table headers (`[a."b.c".d]`, `[[x]]`) read from a line of text, for the comment-keeping edit of
/// `config.toml` (see `TOMLDocument.replacingServers`).
enum TOMLTableHeader {
    /// The key path of a table header line (`[a."b.c".d]`, `[[x]]`), or nil when the line is not one.
    static func path(_ line: Substring) -> [String]? {
        var s = line.drop(while: { $0 == " " || $0 == "\t" })
        guard s.first == "[" else { return nil }
        s = s.dropFirst()
        if s.first == "[" { s = s.dropFirst() }
        var path: [String] = []
        var key = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            switch c {
            case "\"", "'":
                guard let (text, end) = quoted(s, from: i) else { return nil }
                key += text
                i = end
                continue
            case ".":
                path.append(key.trimmingSpaces)
                key = ""
            case "]":
                path.append(key.trimmingSpaces)
                return path
            default:
                key.append(c)
            }
            i = s.index(after: i)
        }
        return nil
    }

    /// A quoted key at `start`: its text and the index after its closing quote.
    private static func quoted(_ s: Substring, from start: Substring.Index) -> (String, Substring.Index)? {
        let quote = s[start]
        var out = ""
        var i = s.index(after: start)
        while i < s.endIndex {
            let c = s[i]
            if c == quote { return (out, s.index(after: i)) }
            if quote == "\"", c == "\\" {
                i = s.index(after: i)
                guard i < s.endIndex else { return nil }
                switch s[i] {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(s[i])
                }
            } else {
                out.append(c)
            }
            i = s.index(after: i)
        }
        return nil
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
