/// Text made safe for a terminal: what a server (or a store) says is shown, never obeyed.
///
/// A terminal acts on control characters: ESC starts sequences that set the window title, write the
/// clipboard (OSC 52) or clear the screen; CR and NUL let text overwrite or hide what came before; C1
/// controls (U+0080–U+009F, e.g. U+009B, a one-character CSI) do the same on terminals that honour them.
/// Each is shown escaped instead: `\e`, `\r`, `\n`, `\t`, `\xHH` (other C0 controls and DEL), `\u{hh}`
/// (C1 and the characters below). Invalid UTF-8 becomes U+FFFD. Everything else is kept byte for byte, so
/// ordinary text prints unchanged.
public enum TerminalText {
    /// What a field may contain besides printable text.
    public enum Shape: Sendable {
        /// A one-line field (a name, a version, a table cell, an error message): newline and tab are escaped
        /// too, and so are invisible format characters (bidi controls such as U+202E, zero-width characters
        /// such as U+200B, U+FEFF) and line/paragraph separators, which let text pretend to be other text.
        case line
        /// Multi-line text (a call result): newline and tab stay; every other control is escaped.
        case block
    }

    /// `text` with what `shape` does not allow escaped; `text` itself when nothing needs it.
    public static func escape(_ text: String, _ shape: Shape = .line) -> String {
        var text = text
        return text.withUTF8 { s in
            guard firstUnsafe(s, from: 0, shape) != nil else { return nil as String? }
            var out = ByteBuffer(capacity: s.count + 16)
            append(s, shape, to: &out)
            return String(decoding: out.slice(0..<out.count), as: UTF8.self)
        } ?? text
    }

    /// Appends UTF-8 bytes (possibly invalid) to `out` with what `shape` does not allow escaped.
    static func append(_ s: UnsafeBufferPointer<UInt8>, _ shape: Shape, to out: inout ByteBuffer) {
        var done = 0
        while let hit = firstUnsafe(s, from: done, shape) {
            out.append(UnsafeBufferPointer(rebasing: s[done..<hit.start]))
            if let scalar = hit.scalar { appendEscaped(scalar, to: &out) } else { out.append("\u{FFFD}") }
            done = hit.start + hit.length
        }
        out.append(UnsafeBufferPointer(rebasing: s[done...]))
    }

    /// Where the first unsafe piece at or after `from` starts, its length in bytes, and its scalar (nil for
    /// invalid UTF-8); nil when the rest is safe.
    static func firstUnsafe(
        _ s: UnsafeBufferPointer<UInt8>, from: Int, _ shape: Shape
    ) -> (start: Int, length: Int, scalar: Unicode.Scalar?)? {
        var i = from
        while i < s.count {
            let b = s[i]
            if b >= 0x20 && b < 0x7F {
                i += 1
            } else if b < 0x80 {
                if shape == .block && (b == 0x0A || b == 0x09) {
                    i += 1
                    continue
                }
                return (i, 1, Unicode.Scalar(b))
            } else {
                var bytes = s[i...].makeIterator()
                var parser = Unicode.UTF8.ForwardParser()
                switch parser.parseScalar(from: &bytes) {
                case .valid(let encoded):
                    let scalar = Unicode.UTF8.decode(encoded)
                    if isUnsafe(nonASCII: scalar, shape) { return (i, encoded.count, scalar) }
                    i += encoded.count
                case .error(let length): return (i, length, nil)
                case .emptyInput: return nil
                }
            }
        }
        return nil
    }

    /// C1 controls always; in one-line fields also format characters (bidi, zero-width, BOM, tags) and
    /// line/paragraph separators.
    static func isUnsafe(nonASCII c: Unicode.Scalar, _ shape: Shape) -> Bool {
        if c.value <= 0x9F { return true }
        guard shape == .line else { return false }
        switch c.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendEscaped(_ c: Unicode.Scalar, to out: inout ByteBuffer) {
        switch c.value {
        case 0x0A: out.append("\\n")
        case 0x0D: out.append("\\r")
        case 0x09: out.append("\\t")
        case 0x1B: out.append("\\e")
        case 0..<0x80:
            out.append("\\x")
            out.append(hex[Int(c.value >> 4)])
            out.append(hex[Int(c.value & 0xF)])
        default:
            out.append("\\u{")
            out.append(String(c.value, radix: 16))
            out.append(UInt8(ascii: "}"))
        }
    }
}
