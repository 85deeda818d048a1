import CSodium
import Foundation

/// Opens credential values sealed before schema v8 with libsodium's `crypto_secretbox_easy` (XSalsa20-Poly1305):
/// bound to nothing, so they could be copied from row to row. Only ``SealMigration`` reads them, to seal them again
/// with a ``CredentialBox``; nothing writes this form any more.
///
/// Sealed form: `v1:` + base64(nonce ‖ ciphertext), with a fresh random nonce per value.
public struct SecretBox: Sendable {
    static let prefix = "v1:"
    let key: EncryptionKey

    public init(key: EncryptionKey) {
        Sodium.ensureInitialized()
        self.key = key
    }

    /// Decrypts a sealed value; nil when it is malformed, tampered with, or sealed under another key.
    public func open(_ sealed: String) -> [UInt8]? {
        guard sealed.hasPrefix(SecretBox.prefix),
            let data = Data(base64Encoded: String(sealed.dropFirst(SecretBox.prefix.count)))
        else { return nil }
        let nonceLength = Int(crypto_secretbox_noncebytes())
        let macLength = Int(crypto_secretbox_macbytes())
        let bytes = Array(data)
        guard bytes.count >= nonceLength + macLength else { return nil }
        var plain = [UInt8](repeating: 0, count: bytes.count - nonceLength - macLength)
        let rc = bytes.withUnsafeBufferPointer { b in
            crypto_secretbox_open_easy(
                &plain, b.baseAddress! + nonceLength, UInt64(bytes.count - nonceLength), b.baseAddress!, key.bytes)
        }
        return rc == 0 ? plain : nil
    }
}
