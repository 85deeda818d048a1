import CSodium
import Foundation

/// Seals credential values with libsodium's XChaCha20-Poly1305 (IETF) AEAD, bound to what they are for.
///
/// Sealed form: `v2:` + base64(nonce ‖ ciphertext ‖ tag), a fresh random 24-byte nonce per value. The additional
/// data (``CredentialBinding``) names the user, the connector and what the secret is for; a value moved to another
/// row, user, origin or command does not open. The key is derived from the store key (``EncryptionKey/derived(_:)``).
struct CredentialBox: Sendable {
    static let prefix = "v2:"
    private let key: [UInt8]

    init(key: EncryptionKey) {
        Sodium.ensureInitialized()
        self.key = key.derived(.credentials)
    }

    func seal(_ plaintext: [UInt8], binding: CredentialBinding) -> String {
        let nonceLength = Int(crypto_aead_xchacha20poly1305_ietf_npubbytes())
        let tagLength = Int(crypto_aead_xchacha20poly1305_ietf_abytes())
        let ad = binding.bytes
        var out = [UInt8](repeating: 0, count: nonceLength + plaintext.count + tagLength)
        out.withUnsafeMutableBufferPointer { o in
            randombytes_buf(o.baseAddress!, nonceLength)
            var length: UInt64 = 0
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                o.baseAddress! + nonceLength, &length, plaintext, UInt64(plaintext.count), ad, UInt64(ad.count), nil,
                o.baseAddress!, key)
        }
        return Self.prefix + Data(out).base64EncodedString()
    }

    /// The plaintext; nil when malformed, tampered with, sealed under another key or for another binding.
    func open(_ sealed: String, binding: CredentialBinding) -> [UInt8]? {
        guard sealed.hasPrefix(Self.prefix),
            let data = Data(base64Encoded: String(sealed.dropFirst(Self.prefix.count)))
        else { return nil }
        let nonceLength = Int(crypto_aead_xchacha20poly1305_ietf_npubbytes())
        let tagLength = Int(crypto_aead_xchacha20poly1305_ietf_abytes())
        let bytes = Array(data)
        guard bytes.count >= nonceLength + tagLength else { return nil }
        let ad = binding.bytes
        var plain = [UInt8](repeating: 0, count: bytes.count - nonceLength - tagLength)
        var length: UInt64 = 0
        let rc = bytes.withUnsafeBufferPointer { b in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &plain, &length, nil, b.baseAddress! + nonceLength, UInt64(bytes.count - nonceLength), ad,
                UInt64(ad.count), b.baseAddress!, key)
        }
        return rc == 0 ? plain : nil
    }
}

/// What a sealed credential is bound to: the additional data of its ``CredentialBox``.
struct CredentialBinding: Sendable, Equatable {
    var userID: Int64
    var recordID: Int64
    /// What the secret is for: `origin https://host[:port]`, or `command ` + the launch as JSON.
    var purpose: String

    var bytes: [UInt8] {
        SealEncoding.fields(
            ["mcpconn credentials v2", String(userID), String(recordID), purpose].map { Array($0.utf8) })
    }
}

/// Unambiguous concatenation for MAC and AEAD inputs: each part prefixed by its length (8 bytes, little-endian).
enum SealEncoding {
    static func fields(_ parts: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for p in parts {
            withUnsafeBytes(of: UInt64(p.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: p)
        }
        return out
    }
}
