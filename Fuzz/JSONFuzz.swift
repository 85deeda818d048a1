// Fuzz target: the JSON parser (Sources/JSON). Input: any bytes, parsed as a server's answer is.
//
// Beyond "no crash, no sanitizer report", a value that parses must survive its own serialisation:
//   parse(compact(v)) == v, and compact(parse(compact(v))) is byte for byte compact(v) (a fixed point);
//   parse(pretty(v)) == v (the indented form `--json` prints);
//   a rejected input reports an offset inside it;
//   the number accessors never trap, whatever the number's text.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    let value: JSONValue
    do {
        value = try JSONValue.parse(input)
    } catch {
        require(
            error.offset >= 0 && error.offset <= size, "error offset \(error.offset) outside the \(size) input bytes")
        return 0
    }

    let compact = value.compactBytes()
    let again: JSONValue
    do {
        again = try JSONValue.parse(compact)
    } catch {
        fatalError("invariant failed: the serialisation does not parse (\(error)): \(shown(compact))")
    }
    require(again == value, "parse(compact(v)) != v: \(shown(compact))")
    let compactAgain = again.compactBytes()
    require(
        compactAgain == compact,
        "compact serialisation is not a fixed point: \(shown(compact)) then \(shown(compactAgain))")
    require(value.compactText().utf8.elementsEqual(compact), "compactText and compactBytes differ")

    let pretty = value.prettyText()
    guard let fromPretty = try? JSONValue.parse(pretty) else {
        fatalError("invariant failed: the indented serialisation does not parse: \(shown(pretty.utf8))")
    }
    require(fromPretty == value, "parse(pretty(v)) != v: \(shown(pretty.utf8))")
    require(fromPretty.compactBytes() == compact, "pretty then compact differs from compact: \(shown(compact))")

    touchNumbers(value)
    return 0
}

/// Reads every number through the accessors callers use (`intValue` on ids and codes, `doubleValue`).
private func touchNumbers(_ v: JSONValue) {
    switch v {
    case .number:
        _ = v.intValue
        _ = v.doubleValue
    case .array(let a): for x in a { touchNumbers(x) }
    case .object(let o): for p in o { touchNumbers(p.value) }
    default: break
    }
}
