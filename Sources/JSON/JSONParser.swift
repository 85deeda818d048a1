/// An error in JSON text: what was wrong and at which byte offset.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var offset: Int
    public var description: String { "\(reason) at byte \(offset)" }
}

extension JSONValue {
    /// Parses JSON text. Nesting is capped so hostile input cannot overflow the stack.
    public static func parse(_ text: String, maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// Parses JSON bytes (UTF-8).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buf throws(JSONParseError) in try parse(buf, maxDepth: maxDepth) }
    }

    /// Parses JSON from a byte buffer (UTF-8).
    public static func parse(_ buf: UnsafeBufferPointer<UInt8>, maxDepth: Int = 512) throws(JSONParseError) -> JSONValue
    {
        var p = JSONParser(buf: buf, maxDepth: maxDepth)
        p.skipWhitespace()
        let v = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.pos != buf.count { throw p.error("unexpected data after the JSON value") }
        return v
    }
}

/// The parser's pieces are `package`: ClientConfig's duplicate-key walk (JSONDuplicateKeys.swift) reuses them.
package struct JSONParser {
    package let buf: UnsafeBufferPointer<UInt8>
    package let maxDepth: Int
    package var pos = 0

    package init(buf: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buf = buf
        self.maxDepth = maxDepth
    }

    package func error(_ reason: String) -> JSONParseError { JSONParseError(reason: reason, offset: pos) }

    package mutating func skipWhitespace() {
        while pos < buf.count {
            switch buf[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    package mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard pos < buf.count else { throw error("unexpected end of JSON") }
        switch buf[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= buf.count else { throw error("unexpected end of JSON") }
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        for i in 0..<n where buf[pos + i] != w[i] { throw error("invalid literal") }
        pos += n
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > maxDepth { throw error("JSON nested too deeply") }
        pos += 1
        var pairs: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object(JSONObject())
        }
        while true {
            skipWhitespace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            pairs.append((key: key, value: value))
            skipWhitespace()
            guard pos < buf.count else { throw error("unexpected end of JSON") }
            if buf[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if buf[pos] == UInt8(ascii: "}") {
                pos += 1
                var o = JSONObject()
                o.pairs = pairs
                return .object(o)
            }
            throw error("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > maxDepth { throw error("JSON nested too deeply") }
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "]") {
            pos += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard pos < buf.count else { throw error("unexpected end of JSON") }
            if buf[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if buf[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> String {
        let start = pos
        if buf[pos] == UInt8(ascii: "-") { pos += 1 }
        func digits(_ p: inout Int, _ b: UnsafeBufferPointer<UInt8>) -> Int {
            let s = p
            while p < b.count, b[p] >= UInt8(ascii: "0"), b[p] <= UInt8(ascii: "9") { p += 1 }
            return p - s
        }
        guard pos < buf.count else { throw error("invalid number") }
        if buf[pos] == UInt8(ascii: "0") {
            pos += 1
        } else if digits(&pos, buf) == 0 {
            throw error("invalid number")
        }
        if pos < buf.count, buf[pos] == UInt8(ascii: ".") {
            pos += 1
            if digits(&pos, buf) == 0 { throw error("invalid number") }
        }
        if pos < buf.count, buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < buf.count, buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-") { pos += 1 }
            if digits(&pos, buf) == 0 { throw error("invalid number") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
    }

    /// True when one of the eight bytes of `w` is `"`, `\\` or below 0x20 (exact: the zero-byte tests of "Bit
    /// Twiddling Hacks", whose false positives only ever sit beside a true one).
    @inline(__always)
    package static func needsALook(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        let control = (w &- ones &* 0x20) & ~w & highs != 0
        return control || hasZeroByte(w ^ (ones &* 0x22)) || hasZeroByte(w ^ (ones &* 0x5C))
    }

    package mutating func parseString() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        // Eight bytes at a time while none needs a look (a quote, a backslash, a control character): the common
        // case of long text. Measured with callgrind: a 1 MiB resource's string cost 11.5 M instructions byte by
        // byte (`read` of memo://big).
        if let base = buf.baseAddress {
            while pos + 8 <= buf.count, !Self.needsALook(UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)) {
                pos += 8
            }
        }
        // Fast path: no escapes.
        while pos < buf.count {
            let b = buf[pos]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character in string") }
            pos += 1
        }
        var bytes = Array(UnsafeBufferPointer(rebasing: buf[start..<pos]))
        while pos < buf.count {
            let b = buf[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if b < 0x20 { throw error("control character in string") }
            if b != UInt8(ascii: "\\") {
                bytes.append(b)
                pos += 1
                continue
            }
            pos += 1
            guard pos < buf.count else { break }
            let e = buf[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    if pos + 1 < buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") {
                        pos += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    scalar = 0xFFFD
                }
                let us = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                bytes.append(contentsOf: String(Character(us)).utf8)
            default: throw error("invalid escape in string")
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= buf.count else { throw error("invalid \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buf[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }
}
