// Fuzz target: finding a certificate's SubjectPublicKeyInfo (Sources/MCPConnCore/Pins/CertificateDER.swift), run
// on the bytes of a server's certificate (libcurl's CERTINFO), which the server chose.
//
// Input: any bytes, taken as a DER certificate. Checked:
//   it never reads past the input (AddressSanitizer) and always ends;
//   a range found lies inside the input, starts with a SEQUENCE header, and is exactly one element (its
//   header's length covers it to its end);
//   every element header read is inside its bound: `element(at:within:)` gives content ending by the bound;
//   when the outer element fits in the input, the same bytes with garbage after them give the same range
//   (nothing is read past the certificate's own length), and the input cut one byte short of it gives none.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let der = bytes(data, size)
    let found = CertificateDER.subjectPublicKeyInfo(der)
    if let r = found {
        require(r.lowerBound >= 0 && r.upperBound <= der.count, "range \(r) outside \(der.count) bytes")
        require(der[r.lowerBound] == CertificateDER.sequence, "the key info is no SEQUENCE")
        let e = CertificateDER.element(der, at: r.lowerBound, within: r.upperBound)
        require(e?.end == r.upperBound, "the range is not one element")
    }
    for at in [0, 1, size / 2] {
        if let e = CertificateDER.element(der, at: at, within: der.count) {
            require(e.start == at && e.content.lowerBound > at && e.end <= der.count, "element \(e) out of bounds")
        }
    }
    if let outer = CertificateDER.element(der, at: 0, within: der.count) {
        let extended = CertificateDER.subjectPublicKeyInfo(der + [0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF])
        require(extended == found, "bytes after the certificate changed the result")
        require(
            CertificateDER.subjectPublicKeyInfo(Array(der[..<(outer.end - 1)])) == nil,
            "a certificate cut short still gave a key")
    }
    return 0
}
