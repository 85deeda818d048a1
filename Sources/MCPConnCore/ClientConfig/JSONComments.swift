/// JSON with comments (VS Code's `mcp.json` is JSONC): `//` and `/* */` comments and trailing commas become
/// spaces, so that byte offsets, and with them the lines of error messages, stay those of the file.
enum JSONComments {
    static func strip(_ text: String) -> String {
        var b = Array(text.utf8)
        var i = 0
        var inString = false
        var lastSignificant: Int?
        while i < b.count {
            let c = b[i]
            if inString {
                if c == UInt8(ascii: "\\") {
                    i += 2
                    continue
                }
                if c == UInt8(ascii: "\"") {
                    inString = false
                    lastSignificant = i
                }
                i += 1
                continue
            }
            if c == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "/") {
                while i < b.count, b[i] != UInt8(ascii: "\n") {
                    b[i] = 0x20
                    i += 1
                }
                continue
            }
            if c == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "*") {
                b[i] = 0x20
                b[i + 1] = 0x20
                i += 2  // `/*/` does not close the comment it opens
                while i < b.count, !(b[i] == UInt8(ascii: "*") && i + 1 < b.count && b[i + 1] == UInt8(ascii: "/")) {
                    if b[i] != UInt8(ascii: "\n") { b[i] = 0x20 }
                    i += 1
                }
                if i < b.count {
                    b[i] = 0x20
                    b[i + 1] = 0x20
                    i += 2
                }
                continue
            }
            if c == UInt8(ascii: "}") || c == UInt8(ascii: "]"), let last = lastSignificant,
                b[last] == UInt8(ascii: ",")
            {
                b[last] = 0x20
            }
            if c == UInt8(ascii: "\"") { inString = true }
            if c != 0x20, c != 0x09, c != 0x0A, c != 0x0D { lastSignificant = i }
            i += 1
        }
        return String(decoding: b, as: UTF8.self)
    }
}
