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

extension Connector {
    /// The key/value block of `mcpconn get`, each value one escaped line; `tokenPresent` (from the decrypted credentials, when readable)
    /// tells a logged-out connector from one holding a static token.
    public func details(tokenPresent: Bool?) -> String {
        var lines: [(String, String)] = [
            ("id", String(id ?? 0)),
            ("name", name),
            ("description", description ?? "-"),
            isStdio ? ("command", serverURL) : ("url", serverURL),
            ("type", connectorType),
            ("auth", authType.rawValue),
            ("credentials", hasCredentials ? "set" : "none"),
            ("active", isActive ? "yes" : "no"),
            ("verified", isVerified ? "yes" : "no"),
            ("tools", String(toolCount)),
            ("last verified", lastVerifiedAt.map(Timestamp.iso8601) ?? "never"),
        ]
        if isStdio {
            if let workingDirectory { lines.append(("cwd", workingDirectory)) }
            let names = environmentNames
            if !names.isEmpty { lines.append(("env", names.joined(separator: " "))) }
        }
        if authType == .oauth {
            lines.append(("token", tokenPresent == false ? noToken : tokenState))
        }
        if let lastError { lines.append(("last error", lastError)) }
        if let protocolVersion {
            lines.append(("protocol", "\(protocolVersion) (\(protocolEra ?? "?"), \(transport ?? "?"))"))
        }
        let server = [serverName, serverVersion].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        if !server.isEmpty { lines.append(("server", server)) }
        lines.append(("created", Timestamp.iso8601(createdAt)))
        lines.append(("updated", Timestamp.iso8601(updatedAt)))
        let w = lines.map(\.0.count).max() ?? 0
        return lines.map { $0.0 + ":" + String(repeating: " ", count: w - $0.0.count + 1) + TerminalText.escape($0.1, .line) }
            .joined(separator: "\n") + "\n"
    }

    /// The OAuth token state, never the token: `expires 2026-11-25T10:00:00Z (in 59 min), refreshable`.
    public var tokenState: String {
        guard hasCredentials else { return noToken }
        var parts: [String] = []
        if let e = tokenExpiresAt {
            let left = Int(e.timeIntervalSinceNow)
            let when = left <= 0 ? "expired" : left < 120 ? "in \(left) s" : left < 7200 ? "in \(left / 60) min" : "in \(left / 3600) h"
            parts.append("expires \(Timestamp.iso8601(e)) (\(when))")
        } else {
            parts.append("no expiry known")
        }
        parts.append(tokenRefreshable ? "refreshable" : "not refreshable")
        return parts.joined(separator: ", ")
    }

    private var noToken: String { "none (run `mcpconn login \(name)`)" }

    /// The tool list of `mcpconn tools`: name and the first line of its description.
    public static func toolTable(_ tools: [JSONValue]) -> String {
        var t = TextTable(header: ["TOOL", "DESCRIPTION"])
        for tool in tools {
            let name = tool["name"]?.stringValue ?? "?"
            let desc = tool["description"]?.stringValue ?? ""
            let first = desc.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            t.append([name, first.count > 100 ? String(first.prefix(99)) + "…" : first])
        }
        return t.render()
    }
}
