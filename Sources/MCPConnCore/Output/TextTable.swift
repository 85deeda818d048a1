/// A plain aligned text table for terminal output: a header row, then rows, columns padded with spaces.
/// Every cell is one line: its control, bidi and zero-width characters are shown escaped (``TerminalText``).
public struct TextTable {
    public var header: [String]
    public private(set) var rows: [[String]] = []

    public init(header: [String]) { self.header = header }

    public mutating func append(_ row: [String]) { rows.append(row.map { TerminalText.escape($0, .line) }) }

    /// The rendered table; the last column is not padded, so lines carry no trailing spaces.
    public func render() -> String {
        let all = [header] + rows
        // Each cell's width once: `list` renders tens of thousands of cells.
        let cellWidths = all.map { $0.map(Self.width) }
        var widths = [Int](repeating: 0, count: header.count)
        for r in cellWidths {
            for (i, w) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], w) }
        }
        var out: [UInt8] = []
        out.reserveCapacity(all.count * (widths.reduce(0, +) + 2 * widths.count + 1))
        for (r, ws) in zip(all, cellWidths) {
            let start = out.count
            for (i, c) in r.enumerated() {
                out.append(contentsOf: c.utf8)
                if i < r.count - 1, i < widths.count {
                    out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[i] - ws[i] + 2))
                }
            }
            while out.count > start, out.last == UInt8(ascii: " ") { out.removeLast() }
            out.append(UInt8(ascii: "\n"))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Display width: bytes for ASCII (the common case, and cheap), characters otherwise.
    static func width(_ s: String) -> Int {
        var s = s
        return s.withUTF8 { buf in buf.allSatisfy { $0 < 0x80 } } ? s.utf8.count : s.count
    }
}

extension TextTable {
    /// The tool list of `mcpconn tools`: name and the first line of its description.
    public static func tools(_ tools: [JSONValue]) -> String {
        var t = TextTable(header: ["TOOL", "DESCRIPTION"])
        for tool in tools {
            t.append([tool["name"]?.stringValue ?? "?", firstLine(tool["description"])])
        }
        return t.render()
    }

    /// The first line of a description, cut to 100 characters.
    static func firstLine(_ description: JSONValue?) -> String {
        let text = description?.stringValue ?? ""
        let first = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return first.count > 100 ? String(first.prefix(99)) + "…" : first
    }
}
