// Fuzz target: TerminalText (Sources/MCPConnCore/Output/TerminalText.swift), the one gate between server text
// and the terminal. Input: any bytes, as a server's string or a stored column (which need not be UTF-8).
//
// Checked, for one-line fields and multi-line text alike:
//   the output is valid UTF-8 without controls (multi-line text keeps newline and tab), and a one-line field
//   holds nothing TerminalText itself calls unsafe (bidi, zero-width, separators);
//   escaping is idempotent (the output sink after a renderer changes nothing);
//   safe text passes byte for byte;
//   the byte path (`list`, from SQLite) and the String path (everything else) escape alike.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    for shape in [TerminalText.Shape.line, .block] {
        let out = escapeBytes(input, shape)
        let text = String(decoding: out, as: UTF8.self)
        require(Array(text.utf8) == out, "\(shape): the output is not valid UTF-8: \(shown(out))")
        require(
            controlByte(in: text, allowing: shape == .block ? [0x0A, 0x09] : []) == nil,
            "\(shape): the output holds a control: \(shown(out))")
        out.withUnsafeBufferPointer { b in
            require(
                TerminalText.firstUnsafe(b, from: 0, shape) == nil, "\(shape): the output is still unsafe: \(shown(b))")
        }
        require(escapeBytes(out, shape) == out, "\(shape): escaping twice changes the text: \(shown(out))")
        let safe = input.withUnsafeBufferPointer { TerminalText.firstUnsafe($0, from: 0, shape) == nil }
        if safe { require(out == input, "\(shape): safe text was changed: \(shown(input))") }
        let viaString = Array(TerminalText.escape(String(decoding: input, as: UTF8.self), shape).utf8)
        require(viaString == out, "\(shape): the String path gives \(shown(viaString)), the byte path \(shown(out))")
    }
    return 0
}

private func escapeBytes(_ b: [UInt8], _ shape: TerminalText.Shape) -> [UInt8] {
    var out = ByteBuffer(capacity: b.count + 16)
    b.withUnsafeBufferPointer { TerminalText.append($0, shape, to: &out) }
    return Array(out.slice(0..<out.count))
}
