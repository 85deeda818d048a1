/// Server text as a TEXT column keeps it. GRDB binds strings NUL-terminated, so SQLite would keep only what
/// comes before a NUL: a server could hide the rest of its error or name that way. A NUL is stored as U+FFFD,
/// the replacement character, and everything after it is kept.
enum StoredText {
    static func of(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    static func of(_ text: String?) -> String? { text.map(of) }
}
