/// What a rule found in one text: the rule, the offending text escaped (``TextScanner/excerpt(_:_:)``), and a
/// note (how many characters, what tag characters hide, whose tool a name is).
struct TextHit: Sendable, Equatable {
    var rule: ScanRule
    var excerpt: String
    var detail: String?
}

/// The text rules of `scan`, over one string, in time linear in its length: a stored description is server text
/// and may be megabytes meant to stall a scanner.
///
/// Fixed phrases are compared by hand over a lowercased copy of the bytes (ASCII letters lowered, whitespace made
/// one kind of space, byte for byte so offsets stay the original's), bucketed by their first byte: one pass, at
/// most a phrase's length of work per phrase starting with the current byte. No regular expression: Foundation's
/// NSRegularExpression (ICU) backtracks, so a hostile text can make patterns with alternatives and repetition
/// super-linear, and its first use adds about 2 ms to the process (measured: 2.1 ms against 0.2 ms) for
/// nothing fixed phrases need.
enum TextScanner {
    /// Longer fields are reported (``ScanRule/excessiveLength``), in characters (Unicode scalars).
    static let lengthLimit = 4000
    /// Columns of context shown before and from the start of a match.
    static let excerptBefore = 40
    static let excerptAfter = 80

    /// The first hit of each rule in `text`, in ``ScanRule/all``'s order. `urls`: look for URLs (not in a field
    /// that is itself a URI); `toolOwners`: the other connectors a word is the name of a tool of, if any.
    static func scan(_ text: String, urls: Bool = true, toolOwners: ((String) -> [String]?)? = nil) -> [TextHit] {
        var text = text
        return text.withUTF8 { s in
            var hits: [ScanRule: TextHit] = [:]
            let lowered = scanCharacters(s, into: &hits)
            scanPhrases(s, lowered, urls: urls, into: &hits)
            if let toolOwners { scanToolNames(s, toolOwners, into: &hits) }
            return ScanRule.all.compactMap { hits[$0] }
        }
    }

    // MARK: Characters

    /// The invisible-character rules and the length rule, in one pass; returns the lowercased copy the phrase
    /// rules read.
    private static func scanCharacters(_ s: UnsafeBufferPointer<UInt8>, into hits: inout [ScanRule: TextHit]) -> [UInt8]
    {
        var lowered = [UInt8](repeating: 0, count: s.count)
        var first: [ScanRule: Int] = [:]
        var counts: [ScanRule: Int] = [:]
        var hidden: [UInt8] = []
        var scalars = 0
        var i = 0
        while i < s.count {
            let (scalar, length) = decode(s, at: i)
            scalars += 1
            if length == 1 {
                lowered[i] = lower(s[i])
            } else {
                for k in i..<i + length { lowered[k] = s[k] }
                // A no-break space is whitespace to the phrases: two spaces for its two bytes.
                if scalar == 0xA0 { (lowered[i], lowered[i + 1]) = (0x20, 0x20) }
                // Invisible characters are no part of a phrase (`ig\u{200b}nore previous` is one): zeroed here,
                // skipped by ``match(_:_:at:)``.
                if invisibleRule(scalar) != nil { for k in i..<i + length { lowered[k] = 0 } }
                if let rule = invisibleRule(scalar), !isJoinerInScript(scalar, s, at: i, length) {
                    if first[rule] == nil { first[rule] = i }
                    counts[rule, default: 0] += 1
                    if rule == .tagCharacters, scalar >= 0xE0020, scalar <= 0xE007E, hidden.count < 200 {
                        hidden.append(UInt8(scalar - 0xE0000))
                    }
                }
            }
            i += length
        }
        for (rule, at) in first {
            let count = counts[rule] ?? 1
            var detail = "\(count) character\(count == 1 ? "" : "s")"
            if rule == .tagCharacters && !hidden.isEmpty {
                detail += " hiding \"\(String(decoding: hidden, as: UTF8.self))\""
            }
            hits[rule] = TextHit(rule: rule, excerpt: excerpt(s, at..<at), detail: detail)
        }
        if scalars > lengthLimit {
            hits[.excessiveLength] = TextHit(
                rule: .excessiveLength, excerpt: excerpt(s, 0..<0), detail: "\(scalars) characters")
        }
        return lowered
    }

    /// The invisible-character rule `scalar` falls under, if any.
    static func invisibleRule(_ scalar: UInt32) -> ScanRule? {
        switch scalar {
        case 0xE0000...0xE007F: return .tagCharacters
        case 0x202A...0x202E, 0x2066...0x2069: return .bidiOverride
        case 0x200B...0x200F, 0x2060...0x2064, 0x206A...0x206F, 0xFEFF, 0x180E, 0x061C, 0x00AD: return .zeroWidth
        case 0xE0100...0xE01EF: return .variationSelectors
        default: return nil
        }
    }

    /// A zero-width joiner or non-joiner with no ASCII byte on either side: how emoji sequences and scripts such as
    /// Persian or Devanagari are written. Next to ASCII, where text never needs one, it is hiding something.
    private static func isJoinerInScript(_ scalar: UInt32, _ s: UnsafeBufferPointer<UInt8>, at i: Int, _ length: Int)
        -> Bool
    {
        guard scalar == 0x200C || scalar == 0x200D else { return false }
        let before = i == 0 ? nil : s[i - 1]
        let after = i + length < s.count ? s[i + length] : nil
        return (before.map { $0 >= 0x80 } ?? false) && (after.map { $0 >= 0x80 } ?? false)
    }

    /// The scalar at `i` of valid UTF-8 (a Swift string's) and its length in bytes.
    private static func decode(_ s: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let b = UInt32(s[i])
        func next(_ k: Int) -> UInt32 { UInt32(s[i + k] & 0x3F) }
        if b < 0x80 { return (b, 1) }
        if b < 0xE0 { return ((b & 0x1F) << 6 | next(1), 2) }
        if b < 0xF0 { return ((b & 0x0F) << 12 | next(1) << 6 | next(2), 3) }
        return ((b & 0x07) << 18 | next(1) << 12 | next(2) << 6 | next(3), 4)
    }

    /// ASCII letters lowered, ASCII whitespace made a space.
    private static func lower(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x41...0x5A: return b + 0x20
        case 0x09...0x0D: return 0x20
        default: return b
        }
    }

    // MARK: Phrases and URLs

    /// ``ScanPhrase/all``'s indices by their first byte.
    private static let buckets: [[Int]] = {
        var b = [[Int]](repeating: [], count: 256)
        for (i, p) in ScanPhrase.all.enumerated() { b[Int(p.bytes[0])].append(i) }
        return b
    }()

    private static func scanPhrases(
        _ s: UnsafeBufferPointer<UInt8>, _ low: [UInt8], urls: Bool, into hits: inout [ScanRule: TextHit]
    ) {
        let phrases = ScanPhrase.all
        for i in 0..<low.count {
            for index in buckets[Int(low[i])] {
                let p = phrases[index]
                if p.isURL {
                    guard urls, hits[.suspiciousURL] == nil || hits[.url] == nil else { continue }
                } else if hits[p.rule] != nil {
                    continue
                }
                if p.wordStart && i > 0 && ScanPhrase.isWordByte(low[i - 1]) { continue }
                guard let end = match(p.bytes, low, at: i) else { continue }
                if p.wordEnd && end < low.count && ScanPhrase.isWordByte(low[end]) && low[end] != 0x5F { continue }
                if p.isURL {
                    let (rule, urlEnd) = classifyURL(low, hostAt: end)
                    if hits[rule] == nil { hits[rule] = TextHit(rule: rule, excerpt: excerpt(s, i..<urlEnd)) }
                } else {
                    hits[p.rule] = TextHit(rule: p.rule, excerpt: excerpt(s, i..<end))
                }
            }
        }
    }

    /// Where `phrase` ends if it starts at `i` of `low`; a space in it matches a run of spaces, and invisible
    /// characters (zero bytes in `low`) are skipped. Linear overall: a run of them is walked once for each
    /// phrase that matched up to it, and a phrase is at most 32 bytes.
    private static func match(_ phrase: [UInt8], _ low: [UInt8], at i: Int) -> Int? {
        var k = i
        for b in phrase {
            while k < low.count && low[k] == 0 { k += 1 }
            guard k < low.count, low[k] == b else { return nil }
            k += 1
            if b == 0x20 { while k < low.count && (low[k] == 0x20 || low[k] == 0) { k += 1 } }
        }
        return k
    }

    /// The rule of the URL whose host starts at `start`, and where the URL ends.
    private static func classifyURL(_ low: [UInt8], hostAt start: Int) -> (ScanRule, Int) {
        let stops: Set<UInt8> = Set(" \"'<>`()[]{}|\\^".utf8)
        var end = start
        while end < low.count && !stops.contains(low[end]) && low[end] >= 0x20 { end += 1 }
        var authority = low[start..<end].prefix(while: { !"/?#".utf8.contains($0) })
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[(at + 1)...] }
        let host = String(decoding: authority.prefix(while: { $0 != UInt8(ascii: ":") }), as: UTF8.self)
        return (isSuspicious(host: host) ? .suspiciousURL : .url, end)
    }

    /// A request-capture or tunnel service, or a bare IPv4 address other than loopback.
    static func isSuspicious(host: String) -> Bool {
        let host = host.hasSuffix(".") ? String(host.dropLast()) : host
        if ScanPhrase.captureHosts.contains(where: { host == $0 || host.hasSuffix("." + $0) }) { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        let isIPv4 =
            parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) }
        return isIPv4 && parts[0] != "127"
    }

    // MARK: Other connectors' tool names

    /// The first word that names another connector's tool. Words are runs of letters, digits, `_`, `-` and `.`;
    /// only those that could be a distinctive tool name (``isDistinctive(_:)``) are looked up: plain words
    /// (`search`, `echo`) are every server's vocabulary.
    private static func scanToolNames(
        _ s: UnsafeBufferPointer<UInt8>, _ toolOwners: (String) -> [String]?, into hits: inout [ScanRule: TextHit]
    ) {
        var i = 0
        while i < s.count {
            guard isNameByte(s[i]) else {
                i += 1
                continue
            }
            var end = i
            var plain = true  // lowercase letters only, perhaps a capital first: no name, skipped at once
            while end < s.count && isNameByte(s[end]) {
                if !(s[end] >= 0x61 && s[end] <= 0x7A) && !(end == i && s[end] >= 0x41 && s[end] <= 0x5A) {
                    plain = false
                }
                end += 1
            }
            if !plain && end - i <= 128, let (range, owners) = toolName(s, i..<end, toolOwners) {
                let whose = owners.map { "'\($0)'" }.joined(separator: ", ")
                hits[.shadowing] = TextHit(rule: .shadowing, excerpt: excerpt(s, range), detail: "a tool of \(whose)")
                return
            }
            i = end
        }
    }

    /// A word that could only be a name: with `_`, `-`, `.`, a digit or a capital past its first letter.
    private static func isDistinctive(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        word.indices.contains { k in
            let b = word[k]
            return !(b >= 0x61 && b <= 0x7A) && !(k == 0 && b >= 0x41 && b <= 0x5A)
        }
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        ScanPhrase.isWordByte(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    /// The tool name the word in `range` is (whole, without trailing `.`/`-`, or one of its dotted parts), if it is
    /// a distinctive one.
    private static func toolName(
        _ s: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ toolOwners: (String) -> [String]?
    ) -> (Range<Int>, [String])? {
        var end = range.upperBound
        while end > range.lowerBound && (s[end - 1] == UInt8(ascii: ".") || s[end - 1] == UInt8(ascii: "-")) {
            end -= 1
        }
        var candidates = [range.lowerBound..<end]
        var start = range.lowerBound
        for k in range.lowerBound..<end where s[k] == UInt8(ascii: ".") {
            if k > start { candidates.append(start..<k) }
            start = k + 1
        }
        if start > range.lowerBound && start < end { candidates.append(start..<end) }
        for c in candidates where c.count >= 3 {
            let bytes = UnsafeBufferPointer(rebasing: s[c])
            guard isDistinctive(bytes) else { continue }
            if let owners = toolOwners(String(decoding: bytes, as: UTF8.self)) { return (c, owners) }
        }
        return nil
    }

    // MARK: Excerpts

    /// The text around `range` (about 40 columns before it, 80 from its start), with `…` where it was cut and
    /// every control and invisible character escaped (`\u{e0041}`): shown, never obeyed or hidden.
    static func excerpt(_ s: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var start = range.lowerBound
        var budget = excerptBefore
        while start > 0 {
            var p = start - 1
            while p > 0 && s[p] & 0xC0 == 0x80 { p -= 1 }
            budget -= width(decode(s, at: p).0)
            if budget < 0 { break }
            start = p
        }
        var end = range.lowerBound
        budget = excerptAfter
        while end < s.count {
            let (scalar, length) = decode(s, at: end)
            budget -= width(scalar)
            if budget < 0 { break }
            end += length
        }
        var out = start > 0 ? "…" : ""
        var i = start
        while i < end {
            let (scalar, length) = decode(s, at: i)
            out += shown(scalar)
            i += length
        }
        return end < s.count ? out + "…" : out
    }

    /// The start of `text`, as ``excerpt(_:_:)`` shows it.
    static func excerpt(of text: String) -> String {
        var text = text
        return text.withUTF8 { excerpt($0, 0..<0) }
    }

    /// A scalar as an excerpt shows it: itself, or escaped as ``TerminalText`` escapes a one-line field (which
    /// leaves variation selectors alone: not format characters, but invisible all the same).
    private static func shown(_ scalar: UInt32) -> String {
        let c = Unicode.Scalar(scalar) ?? "\u{FFFD}"
        if scalar >= 0x20 && scalar < 0x7F { return String(Character(c)) }
        if invisibleRule(scalar) != nil { return "\\u{\(String(scalar, radix: 16))}" }
        return TerminalText.escape(String(Character(c)), .line)
    }

    private static func width(_ scalar: UInt32) -> Int {
        scalar >= 0x20 && scalar < 0x7F ? 1 : shown(scalar).count
    }
}
