/// Where a DER X.509 certificate (RFC 5280 4.1) holds its SubjectPublicKeyInfo: the one field `approve
/// --server` needs of a server's certificate. A walk over definite-length TLV headers, bounded by the input at
/// every step: no allocation, no recursion, never past the bytes it was given (the Fuzz/DERFuzz.swift target
/// holds it to that). Written here rather than linking swift-asn1: its 272 protocol conformance records cost every
/// verb's start-up 0.6 M instructions (+2.3% on `list`), for a use of a few lines (docs/performance.md).
/// No dependencies, so the fuzz target compiles this file alone.
enum CertificateDER {
    /// One element: its tag byte, where its header starts and its content.
    struct Element {
        var tag: UInt8
        var start: Int
        var content: Range<Int>
        var end: Int { content.upperBound }
    }

    static let sequence: UInt8 = 0x30
    /// `[0] EXPLICIT` (constructed, context-specific 0): tbsCertificate's optional version.
    static let explicitVersion: UInt8 = 0xA0

    /// The range of `der` holding the encoded SubjectPublicKeyInfo (header included): the sixth field of
    /// tbsCertificate after the optional version (serialNumber, signature, issuer, validity, subject,
    /// subjectPublicKeyInfo). nil when `der` is not shaped so.
    static func subjectPublicKeyInfo(_ der: [UInt8]) -> Range<Int>? {
        guard let certificate = element(der, at: 0, within: der.count), certificate.tag == sequence,
            let tbs = element(der, at: certificate.content.lowerBound, within: certificate.end), tbs.tag == sequence
        else { return nil }
        var at = tbs.content.lowerBound
        if let version = element(der, at: at, within: tbs.end), version.tag == explicitVersion { at = version.end }
        for field in 0..<6 {
            guard let e = element(der, at: at, within: tbs.end) else { return nil }
            if field == 5 { return e.tag == sequence ? e.start..<e.end : nil }
            at = e.end
        }
        return nil
    }

    /// The element whose header starts at `at`, if it and its content end by `end`. DER only: a definite length
    /// in at most 4 bytes (indefinite lengths are BER's), a one-byte tag.
    static func element(_ b: [UInt8], at: Int, within end: Int) -> Element? {
        guard at >= 0, end <= b.count, at < end, end - at >= 2, b[at] & 0x1F != 0x1F else { return nil }
        var length = Int(b[at + 1])
        var p = at + 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1, count <= 4, count <= end - p else { return nil }
            length = 0
            for _ in 0..<count {
                length = length << 8 | Int(b[p])
                p += 1
            }
        }
        guard length <= end - p else { return nil }
        return Element(tag: b[at], start: at, content: p..<(p + length))
    }
}
