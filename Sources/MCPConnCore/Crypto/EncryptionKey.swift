import CSodium
import Foundation

/// A 32-byte secretbox key and where it came from.
public struct EncryptionKey: Sendable {
    /// The raw key bytes (crypto_secretbox_KEYBYTES long).
    let bytes: [UInt8]

    /// Builds a key from its textual forms: 64 hex chars, base64 of 32 bytes, or a 32-byte string.
    public static func parse(_ text: String, source: String) throws(MCPConnError) -> EncryptionKey {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.utf8.count == 64, let b = hexDecode(t) { return EncryptionKey(bytes: b) }
        if let d = Data(base64Encoded: t), d.count == 32 { return EncryptionKey(bytes: Array(d)) }
        if t.utf8.count == 32 { return EncryptionKey(bytes: Array(t.utf8)) }
        throw .config("\(source) is malformed: expected 64 hex characters, base64 of 32 bytes, or a 32-byte string")
    }

    /// A fresh random key.
    static func random() -> EncryptionKey {
        Sodium.ensureInitialized()
        var b = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&b, 32)
        return EncryptionKey(bytes: b)
    }

    /// A keyed BLAKE2b digest of a fixed label: it tells keys apart without revealing anything about them.
    public var fingerprint: String {
        Sodium.ensureInitialized()
        let label = Array("mcpconn key fingerprint v1".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        _ = crypto_generichash(&out, 16, label, UInt64(label.count), bytes, bytes.count)
        return hexEncode(out)
    }

    var hexString: String { hexEncode(bytes) }

    /// What a key derived from this one is for: one key per purpose, so that no two constructions share a key.
    enum Purpose: UInt64 {
        /// ``CredentialBox``: sealed credentials.
        case credentials = 1
        /// ``RecordSeal``: authenticated record fields.
        case records = 2
    }

    /// A 32-byte subkey for `purpose` (libsodium's `crypto_kdf`, BLAKE2b).
    func derived(_ purpose: Purpose) -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: 32)
        let context = Array("mcpconn_".utf8).map { CChar(bitPattern: $0) }
        _ = crypto_kdf_derive_from_key(&out, 32, purpose.rawValue, context, bytes)
        return out
    }
}

func hexEncode(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

func hexDecode(_ text: String) -> [UInt8]? {
    let u = Array(text.utf8)
    guard u.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
    var out = [UInt8]()
    out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count {
        guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0
    static func ensureInitialized() { precondition(initialized, "libsodium failed to initialize") }
}
