// Fuzz target: the SSE parser (Sources/MCP/Transport/SSEParser.swift).
//
// Input layout: byte 0 = (cap selector << 4) | cut count n (0…15); bytes 1…n = chunk lengths (0 counts as
// 256), used in turn until the stream ends; the rest is the event stream. Cap selector 0 means
// maxEventBytes = 4096; k = 1…15 means 8·k bytes, small enough for the fuzzer to reach the cap often.
//
// Checked, for the stream fed whole, in the fuzzer's chunks, and one byte at a time:
//   the three give the same events, last event id, retry delay and overflow flag (chunking changes nothing);
//   after every feed the parser holds at most maxEventBytes bytes for the pending event (line, data, type);
//   without overflow, the events are exactly those of the WHATWG algorithm (the plain model below) run over
//   the whole stream; with overflow, they are the model's first events, and the rest of the stream is dropped.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    guard let header = input.first else { return 0 }
    let cutCount = Int(header & 0x0F)
    let selector = Int(header >> 4)
    let cap = selector == 0 ? 4096 : 8 * selector
    guard input.count >= 1 + cutCount else { return 0 }
    let cuts = input[1..<(1 + cutCount)].map { $0 == 0 ? 256 : Int($0) }
    let stream = Array(input[(1 + cutCount)...])

    var whole = SSEParser(maxEventBytes: cap)
    let wholeEvents = feed(&whole, stream, chunks: [stream.count])
    var chunked = SSEParser(maxEventBytes: cap)
    let chunkedEvents = feed(&chunked, stream, chunks: cuts.isEmpty ? [1] : cuts)
    var bytewise = SSEParser(maxEventBytes: cap)
    let bytewiseEvents = feed(&bytewise, stream, chunks: [1])

    for (name, p, events) in [("in chunks", chunked, chunkedEvents), ("byte by byte", bytewise, bytewiseEvents)] {
        require(same(events, wholeEvents), "fed \(name), the events differ from feeding it whole (cap \(cap))")
        require(p.lastEventID == whole.lastEventID, "fed \(name), the last event id differs")
        require(p.retryMilliseconds == whole.retryMilliseconds, "fed \(name), the retry delay differs")
        require(p.overflowed == whole.overflowed, "fed \(name), the overflow flag differs")
    }

    // It holds no more than it was given: a stream that fits in the cap never overflows.
    require(!(whole.overflowed && stream.count <= cap), "a \(stream.count)-byte stream overflowed a cap of \(cap)")

    let model = referenceParse(stream)
    if whole.overflowed {
        require(
            wholeEvents.count <= model.events.count && same(wholeEvents, Array(model.events.prefix(wholeEvents.count))),
            "after an overflow, the events are not the first events of the stream (cap \(cap))")
    } else {
        require(same(wholeEvents, model.events), "the events differ from the WHATWG algorithm's (cap \(cap))")
        require(whole.lastEventID == model.lastID, "the last event id differs from the WHATWG algorithm's")
        require(whole.retryMilliseconds == model.retry, "the retry delay differs from the WHATWG algorithm's")
    }
    return 0
}

/// Feeds `stream` in chunks of the given lengths (cycled), checking the parser's bound after each feed.
private func feed(_ p: inout SSEParser, _ stream: [UInt8], chunks: [Int]) -> [SSEEvent] {
    var events: [SSEEvent] = []
    var at = 0
    var i = 0
    repeat {
        let n = min(chunks[i % chunks.count], stream.count - at)
        i += 1
        events += stream[at..<(at + n)].withUnsafeBytes { p.feed($0) }
        at += n
        require(
            p.bufferedBytes <= p.maxEventBytes,
            "the parser holds \(p.bufferedBytes) bytes for one event, over maxEventBytes \(p.maxEventBytes) (at byte \(at))"
        )
    } while at < stream.count
    return events
}

/// Events equal byte for byte (String's == compares canonical equivalence, not bytes).
private func same(_ a: [SSEEvent], _ b: [SSEEvent]) -> Bool {
    a.count == b.count
        && zip(a, b).allSatisfy {
            Array($0.event.utf8) == Array($1.event.utf8) && Array($0.data.utf8) == Array($1.data.utf8)
                && $0.id.map { Array($0.utf8) } == $1.id.map { Array($0.utf8) }
        }
}

/// The WHATWG HTML "event stream interpretation", written plainly over the whole stream, with no size cap:
/// the oracle. https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
private func referenceParse(_ stream: [UInt8]) -> (events: [SSEEvent], lastID: String?, retry: Int?) {
    var s = stream[...]
    if s.starts(with: [0xEF, 0xBB, 0xBF]) { s = s.dropFirst(3) }  // one leading BOM
    // Lines end with CRLF, LF or CR; text after the last line end is an incomplete line, never processed.
    var lines: [ArraySlice<UInt8>] = []
    var start = s.startIndex
    var i = start
    while i < s.endIndex {
        if s[i] == 0x0D || s[i] == 0x0A {
            lines.append(s[start..<i])
            if s[i] == 0x0D, i + 1 < s.endIndex, s[i + 1] == 0x0A { i += 1 }
            i += 1
            start = i
        } else {
            i += 1
        }
    }
    var events: [SSEEvent] = []
    var eventType: [UInt8] = []
    var data: [UInt8] = []
    var lastID: [UInt8]?
    var retry: Int?
    for line in lines {
        if line.isEmpty {
            // Dispatch: nothing when the data buffer is empty; else drop its last LF.
            if !data.isEmpty {
                data.removeLast()
                events.append(
                    SSEEvent(
                        event: eventType.isEmpty ? "message" : String(decoding: eventType, as: UTF8.self),
                        data: String(decoding: data, as: UTF8.self),
                        id: lastID.map { String(decoding: $0, as: UTF8.self) }))
            }
            data = []
            eventType = []
            continue
        }
        if line.first == UInt8(ascii: ":") { continue }
        var field = line
        var value: ArraySlice<UInt8> = []
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        }
        switch Array(field) {
        case Array("event".utf8): eventType = Array(value)
        case Array("data".utf8): data += value + [0x0A]
        case Array("id".utf8): if !value.contains(0) { lastID = Array(value) }
        case Array("retry".utf8):
            // ASCII digits only; a value past Int's range is ignored (the spec leaves it open).
            if !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let ms = Int(String(decoding: value, as: UTF8.self))
            {
                retry = ms
            }
        default: break
        }
    }
    return (events, lastID.map { String(decoding: $0, as: UTF8.self) }, retry)
}
