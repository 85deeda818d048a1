import CSodium
import Foundation

/// Proof Key for Code Exchange (RFC 7636) with S256, and the other random strings of a login.
struct PKCE: Sendable {
    /// The secret the token request proves possession of: 64 characters of base64url.
    let verifier: String
    /// `BASE64URL(SHA256(verifier))`, sent with the authorization request.
    let challenge: String

    init() {
        self.init(verifier: PKCE.randomToken(bytes: 48))
    }

    init(verifier: String) {
        self.verifier = verifier
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        let input = Array(verifier.utf8)
        _ = crypto_hash_sha256(&digest, input, UInt64(input.count))
        challenge = PKCE.base64URL(digest)
    }

    /// `bytes` random bytes from libsodium as unpadded base64url.
    static func randomToken(bytes: Int) -> String {
        _ = sodium_init()
        var b = [UInt8](repeating: 0, count: bytes)
        randombytes_buf(&b, bytes)
        return base64URL(b)
    }

    /// Unpadded base64url (RFC 4648 §5).
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
