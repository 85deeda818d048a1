/// A key that one object of a JSON text holds more than once. The parser keeps every pair as the text has them
/// and a lookup takes the last, as JSON.parse does; a client's file read by import must not be ambiguous there
/// (a reader sees the first `command`, the client runs the last).
struct JSONDuplicateKey: Equatable {
    /// The keys leading to the object (an array item by its index, `[2]`).
    let path: [String]
    let key: String
    /// Where the second occurrence of the key starts.
    let offset: Int

    /// Every duplicate key of `text`, in text order. The parser itself does not look (every MCP answer goes
    /// through it): this walks the text again with its pieces, only when the parsed tree has a duplicate.
    static func all(in text: String, maxDepth: Int) -> [JSONDuplicateKey] {
        Array(text.utf8).withUnsafeBufferPointer { buf in
            var parser = JSONParser(buf: buf, maxDepth: maxDepth)
            var found: [JSONDuplicateKey] = []
            // The text parsed already; should it not now, what was found so far is the answer.
            try? parser.duplicateKeys(path: [], depth: 0, into: &found)
            return found
        }
    }
}

extension JSONValue {
    /// Whether an object in this value holds a key twice.
    var hasDuplicateKeys: Bool {
        switch self {
        case .object(let o):
            return o.hasDuplicateKeys || o.pairs.contains { $0.value.hasDuplicateKeys }
        case .array(let a): return a.contains { $0.hasDuplicateKeys }
        default: return false
        }
    }
}

extension JSONObject {
    /// Whether this object itself (not the objects in it) holds a key twice.
    var hasDuplicateKeys: Bool {
        if pairs.count < 2 { return false }
        // A client's entry has a handful of keys: comparing them costs less than hashing them.
        if pairs.count <= 8 {
            for i in 1..<pairs.count where pairs[..<i].contains(where: { $0.key == pairs[i].key }) { return true }
            return false
        }
        var seen = Set<String>(minimumCapacity: pairs.count)
        return pairs.contains { !seen.insert($0.key).inserted }
    }
}

extension JSONParser {
    /// Walks the value at `pos` (which the parser has already accepted), adding each key an object holds again.
    mutating func duplicateKeys(path: [String], depth: Int, into found: inout [JSONDuplicateKey])
        throws(JSONParseError)
    {
        skipWhitespace()
        guard pos < buf.count else { throw error("unexpected end of JSON") }
        switch buf[pos] {
        case UInt8(ascii: "{"):
            if depth >= maxDepth { throw error("JSON nested too deeply") }
            pos += 1
            var seen = Set<String>()
            while true {
                skipWhitespace()
                guard pos < buf.count else { throw error("unexpected end of JSON") }
                if buf[pos] == UInt8(ascii: "}") {
                    pos += 1
                    return
                }
                if buf[pos] == UInt8(ascii: ",") { pos += 1 }
                skipWhitespace()
                let start = pos
                guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try parseString()
                if !seen.insert(key).inserted { found.append(JSONDuplicateKey(path: path, key: key, offset: start)) }
                skipWhitespace()
                guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
                pos += 1
                try duplicateKeys(path: path + [key], depth: depth + 1, into: &found)
            }
        case UInt8(ascii: "["):
            if depth >= maxDepth { throw error("JSON nested too deeply") }
            pos += 1
            var index = 0
            while true {
                skipWhitespace()
                guard pos < buf.count else { throw error("unexpected end of JSON") }
                if buf[pos] == UInt8(ascii: "]") {
                    pos += 1
                    return
                }
                if buf[pos] == UInt8(ascii: ",") { pos += 1 }
                try duplicateKeys(path: path + ["[\(index)]"], depth: depth + 1, into: &found)
                index += 1
            }
        default:
            _ = try parseValue(depth: depth)
        }
    }
}
