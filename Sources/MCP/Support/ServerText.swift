/// Text from a server or the system (an error body, a curl message, a local server's stderr) made fit for one line
/// of an error message. Escaping it for a terminal is the edge's work (mcpconn's TerminalText, where it prints):
/// this code only shapes it.
package enum ServerText {
    /// Collapses whitespace runs (newlines included) to single spaces and caps the length (then ends with `…`).
    package static func oneLine(_ text: String, limit: Int = 500) -> String {
        var out = ""
        out.reserveCapacity(min(text.utf8.count, limit))
        var lastWasSpace = false
        for ch in text {
            if ch.isWhitespace || ch.isNewline {
                if !lastWasSpace && !out.isEmpty { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(ch)
                lastWasSpace = false
            }
            if out.count >= limit {
                out.append("…")
                break
            }
        }
        if out.hasSuffix(" ") { out.removeLast() }
        return out
    }
}
