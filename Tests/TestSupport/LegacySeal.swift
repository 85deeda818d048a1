import CSodium
import Foundation

/// A credential sealed as mcpconn did before schema 8 (libsodium secretbox, bound to nothing): the input of the
/// migration's tests. mcpconn itself never writes this form any more.
public func legacySeal(_ plaintext: [UInt8], key: [UInt8]) -> String {
    precondition(sodium_init() >= 0 && key.count == 32)
    var out = [UInt8](repeating: 0, count: 24 + 16 + plaintext.count)
    out.withUnsafeMutableBufferPointer { o in
        randombytes_buf(o.baseAddress!, 24)
        _ = crypto_secretbox_easy(o.baseAddress! + 24, plaintext, UInt64(plaintext.count), o.baseAddress!, key)
    }
    return "v1:" + Data(out).base64EncodedString()
}
