// Shared by every fuzz target (compiled into each one; see the Makefile's `fuzz` target).

/// Stops the run when an invariant fails: the trap makes libFuzzer report a crash and write the input to a
/// crash file, and the message says which invariant it was.
func require(
    _ ok: @autoclosure () -> Bool, _ what: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) {
    if !ok() { fatalError("invariant failed: " + what(), file: file, line: line) }
}

/// The input as an array (the targets work on Swift arrays, as the code under test does).
func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// Bytes shown for a failure message: printable ASCII as is, the rest as \xHH.
func shown(_ b: some Sequence<UInt8>) -> String {
    var s = ""
    for x in b {
        if x >= 0x20 && x < 0x7F && x != UInt8(ascii: "\\") {
            s.unicodeScalars.append(Unicode.Scalar(x))
        } else {
            s += "\\x" + (x < 16 ? "0" : "") + String(x, radix: 16)
        }
    }
    return s
}

/// Bytes a terminal would obey in text output: C0 controls (but those in `allowed`), DEL, and C1 controls
/// (U+0080–U+009F, which UTF-8 spells 0xC2 0x80…0x9F). The output must hold none of them.
func controlByte(in s: String, allowing allowed: Set<UInt8> = []) -> Int? {
    let b = Array(s.utf8)
    for (i, x) in b.enumerated() {
        if (x < 0x20 || x == 0x7F) && !allowed.contains(x) { return i }
        if x == 0xC2, i + 1 < b.count, (0x80...0x9F).contains(b[i + 1]) { return i }
    }
    return nil
}
