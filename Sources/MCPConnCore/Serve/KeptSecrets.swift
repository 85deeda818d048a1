import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Secrets kept in (issue 26): every value sealed in the store that `serve` can open (``ConnectorStorage/
/// storedSecrets()``: credentials, OAuth tokens, client secrets, header and environment values), looked for in what
/// passes through the gateway. A request whose arguments carry one is refused; a result that carries one gets it
/// cut out (``SecretScanner/mark``). Values shorter than ``SecretScanner/minimumBytes`` are left out: `true` or a
/// port number found everywhere would refuse every call. Reloaded when the store's change token moves.
final class KeptSecrets: Sendable {
    private let scanner = Locked(SecretScanner([]))
    private let load: (@Sendable () throws(MCPConnError) -> [String])?
    private let warn: @Sendable (String) -> Void

    /// `load` nil: nothing is kept in (a gateway without a store, in tests).
    init(load: (@Sendable () throws(MCPConnError) -> [String])?, warn: @escaping @Sendable (String) -> Void) {
        self.load = load
        self.warn = warn
        reload()
    }

    /// Reads the secret values again; on failure keeps those it had (and says so).
    func reload() {
        guard let load else { return }
        do throws(MCPConnError) {
            let values = try load()
            let fresh = SecretScanner(values)
            scanner.withLock { $0 = fresh }
        } catch {
            warn("could not read the store's secrets to keep them in (the ones read before stay): \(error.message)")
        }
    }

    var current: SecretScanner { scanner.withLock { $0 } }
}

/// Finds any of a set of byte strings in text in one pass: at each position the next 8 bytes (every value has as
/// many) are hashed into a 64 Kibit filter, and only a hit looks the values starting with those 8 bytes up and
/// compares them. A 100 KB result against 200 values costs one pass, not 200 (see docs/performance.md).
struct SecretScanner: Sendable {
    /// Values shorter than this are not looked for.
    static let minimumBytes = 8
    /// What replaces a value in a result.
    static let mark = "[redacted by mcpconn]"

    private let values: [[UInt8]]
    /// Indexes into `values` by their first 8 bytes (as a little-endian word), longest first.
    private let byPrefix: [UInt64: [Int]]
    private let filter: [UInt64]

    init(_ strings: [String]) {
        let kept = Set(strings.map { Array($0.utf8) }.filter { $0.count >= Self.minimumBytes })
        values = kept.sorted { $0.count > $1.count }
        var index: [UInt64: [Int]] = [:]
        var bits = [UInt64](repeating: 0, count: 1 << 10)
        for (i, v) in values.enumerated() {
            let key = v.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            index[key, default: []].append(i)
            let h = Self.slot(key)
            bits[h >> 6] |= 1 << UInt64(h & 63)
        }
        byPrefix = index
        filter = bits
    }

    var isEmpty: Bool { values.isEmpty }
    var count: Int { values.count }

    private static func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 48) }

    /// The first value found in `b` at or after `start`: where, and how long.
    private func firstMatch(_ b: UnsafeRawBufferPointer, from start: Int) -> (at: Int, length: Int)? {
        guard let base = b.baseAddress, b.count >= Self.minimumBytes else { return nil }
        var i = start
        while i + 8 <= b.count {
            let key = b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let h = Self.slot(key)
            if filter[h >> 6] & (1 << UInt64(h & 63)) != 0, let candidates = byPrefix[key] {
                for c in candidates where i + values[c].count <= b.count {
                    let same = values[c].withUnsafeBytes { memcmp(base + i, $0.baseAddress!, $0.count) == 0 }
                    if same { return (i, values[c].count) }
                }
            }
            i += 1
        }
        return nil
    }

    func contains(_ text: String) -> Bool {
        if isEmpty { return false }
        var t = text
        return t.withUTF8 { firstMatch(UnsafeRawBufferPointer($0), from: 0) != nil }
    }

    /// `text` with every value replaced by ``mark``; nil when it has none.
    func redacted(_ text: String) -> String? {
        if isEmpty { return nil }
        var t = text
        return t.withUTF8 { buffer -> String? in
            let b = UnsafeRawBufferPointer(buffer)
            guard var found = firstMatch(b, from: 0) else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(b.count)
            var copied = 0
            while true {
                out.append(contentsOf: b[copied..<found.at])
                out.append(contentsOf: Self.mark.utf8)
                copied = found.at + found.length
                guard let next = firstMatch(b, from: copied) else { break }
                found = next
            }
            out.append(contentsOf: b[copied...])
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Whether any string in `value` (object keys too) carries a value.
    func contains(_ value: JSONValue) -> Bool {
        if isEmpty { return false }
        switch value {
        case .string(let s): return contains(s)
        case .array(let a): return a.contains { contains($0) }
        case .object(let o): return o.pairs.contains { contains($0.key) || contains($0.value) }
        default: return false
        }
    }

    /// `value` with every value cut out of its strings (object keys too); nil when it has none.
    func redacted(_ value: JSONValue) -> JSONValue? {
        if isEmpty { return nil }
        switch value {
        case .string(let s): return redacted(s).map(JSONValue.string)
        case .array(let a):
            var changed = false
            let out = a.map { v -> JSONValue in
                guard let r = redacted(v) else { return v }
                changed = true
                return r
            }
            return changed ? .array(out) : nil
        case .object(let o):
            var changed = false
            let out = o.pairs.map { pair -> (String, JSONValue) in
                let key = redacted(pair.key)
                let v = redacted(pair.value)
                if key != nil || v != nil { changed = true }
                return (key ?? pair.key, v ?? pair.value)
            }
            return changed ? .object(JSONObject(out)) : nil
        default: return nil
        }
    }
}
