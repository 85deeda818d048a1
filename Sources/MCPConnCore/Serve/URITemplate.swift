/// A resource template's URI template (RFC 6570, levels 1 to 4), for telling whether a URI is one it expands to:
/// `serve` sends a read of a URI no connector lists to the connector whose template matches it.
///
/// Matching is by the shape each operator's expansion has, not by decoding values: `{var}` is text without
/// `/`, `?` or `#` (as the reference SDKs match it), `{+var}` any text, `{#var}` nothing or `#` and any text,
/// `{/var}`, `{.var}` and `{;var}` as many segments as variables (any number with `*`), each the operator and
/// text without `/`, `?` or `#`, `{?var}` and `{&var}` nothing or the operator and text without `#`. A prefix
/// (`{var:3}`) does not change the shape. The URI is matched in one pass per part of the template (never by
/// backtracking, whose time a hostile template could make exponential).
struct URITemplate: Sendable, Equatable {
    let text: String
    private let parts: [Part]

    enum Part: Sendable, Equatable {
        case literal([UInt8])
        /// An expression: its operator (nil for `{var}`), how many variables it names, and whether one explodes.
        case expression(op: UInt8?, count: Int, explode: Bool)
    }

    /// Nil for text that is not a template: an unclosed or empty expression, a reserved operator, a bad name.
    init?(_ text: String) {
        var parts: [Part] = []
        var literal: [UInt8] = []
        var bytes = text.utf8[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "}") { return nil }
            guard byte == UInt8(ascii: "{") else {
                literal.append(byte)
                continue
            }
            guard let close = bytes.firstIndex(of: UInt8(ascii: "}")),
                let expression = Self.expression(bytes[..<close])
            else { return nil }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = []
            parts.append(expression)
            bytes = bytes[bytes.index(after: close)...]
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.text = text
        self.parts = parts
    }

    private static let operators = Set("+#./;?&".utf8)

    /// `op? varspec (, varspec)*`, a varspec being a name (letters, digits, `_`, `.`, `%XX`) with `:N` or `*`.
    private static func expression(_ body: Substring.UTF8View.SubSequence) -> Part? {
        var body = body
        let op = body.first.flatMap { operators.contains($0) ? $0 : nil }
        if op != nil { body = body.dropFirst() }
        var explode = false
        let specs = body.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        for spec in specs {
            var name = spec[...]
            if name.last == UInt8(ascii: "*") {
                explode = true
                name = name.dropLast()
            } else if let colon = name.firstIndex(of: UInt8(ascii: ":")) {
                let length = name[name.index(after: colon)...]
                guard (1...4).contains(length.count), length.allSatisfy(isDigit) else { return nil }
                name = name[..<colon]
            }
            guard !name.isEmpty, name.allSatisfy(isNameByte) else { return nil }
        }
        return .expression(op: op, count: specs.count, explode: explode)
    }

    private static func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }

    private static func isNameByte(_ b: UInt8) -> Bool {
        isDigit(b) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b | 0x20) || "_.%".utf8.contains(b)
    }

    /// True when some values of the template's variables expand to `uri`.
    func matches(_ uri: String) -> Bool {
        let bytes = Array(uri.utf8)
        // reach[i]: the parts so far can expand to exactly bytes[..<i].
        var reach = [Bool](repeating: false, count: bytes.count + 1)
        reach[0] = true
        for part in parts {
            switch part {
            case .literal(let literal): reach = Self.after(literal, reach, bytes)
            case .expression(let op, let count, let explode):
                reach = Self.after(op: op, count: count, explode: explode, reach, bytes)
            }
            if !reach.contains(true) { return false }
        }
        return reach[bytes.count]
    }

    private static func after(_ literal: [UInt8], _ reach: [Bool], _ bytes: [UInt8]) -> [Bool] {
        var next = [Bool](repeating: false, count: reach.count)
        for i in reach.indices where reach[i] && i + literal.count <= bytes.count {
            if bytes[i..<i + literal.count].elementsEqual(literal) { next[i + literal.count] = true }
        }
        return next
    }

    private static let delimiters = Set("/?#".utf8)

    private static func after(op: UInt8?, count: Int, explode: Bool, _ reach: [Bool], _ bytes: [UInt8]) -> [Bool] {
        guard let op else { return text(reach, bytes, stoppingAt: delimiters) }
        switch op {
        case UInt8(ascii: "+"): return text(reach, bytes, stoppingAt: [])
        case UInt8(ascii: "#"): return optional(reach, text(marked: op, reach, bytes, stoppingAt: []))
        case UInt8(ascii: "?"), UInt8(ascii: "&"):
            return optional(reach, text(marked: op, reach, bytes, stoppingAt: [UInt8(ascii: "#")]))
        default:
            // Segments: each the operator and a value; as many as variables, or any number when exploded.
            var all = reach
            var last = reach
            for _ in 0..<(explode ? bytes.count : count) {
                last = text(marked: op, last, bytes, stoppingAt: delimiters.union([op]))
                guard last.contains(true) else { break }
                all = optional(all, last)
            }
            return all
        }
    }

    /// From each reached position, text up to (not over) a byte of `stops`.
    private static func text(_ reach: [Bool], _ bytes: [UInt8], stoppingAt stops: Set<UInt8>) -> [Bool] {
        var next = reach
        var running = false
        for i in reach.indices {
            running = running || reach[i]
            next[i] = running
            if i < bytes.count, stops.contains(bytes[i]) { running = false }
        }
        return next
    }

    /// From each reached position where `mark` is, the mark and text after it up to a byte of `stops`.
    private static func text(marked mark: UInt8, _ reach: [Bool], _ bytes: [UInt8], stoppingAt stops: Set<UInt8>)
        -> [Bool]
    {
        var marked = [Bool](repeating: false, count: reach.count)
        for i in bytes.indices where reach[i] && bytes[i] == mark { marked[i + 1] = true }
        return text(marked, bytes, stoppingAt: stops)
    }

    private static func optional(_ a: [Bool], _ b: [Bool]) -> [Bool] { zip(a, b).map { $0 || $1 } }
}
