/// One server-sent event.
public struct SSEEvent: Sendable, Equatable {
    /// The event type; `message` when the stream gave none.
    public var event: String
    /// The data lines joined with `\n`.
    public var data: String
    /// The last event id seen on the stream, if any.
    public var id: String?

    public init(event: String = "message", data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// An incremental parser for `text/event-stream` (the WHATWG EventSource format):
/// CR, LF and CRLF line ends, comments, multi-line data, ids, split across any chunk boundary.
public struct SSEParser: Sendable {
    /// Largest event accepted; past it the stream is treated as hostile.
    public let maxEventBytes: Int
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var sawBOMCheck = false
    private var eventType: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var lastID: String?
    /// The stream's last event id so far (kept across events, as EventSource does): what a client sends as
    /// `Last-Event-ID` to resume the stream.
    public var lastEventID: String? { lastID }
    /// The reconnection delay the stream last asked for (`retry:`, milliseconds), if any.
    public private(set) var retryMilliseconds: Int?
    /// Set when an event exceeded `maxEventBytes`. The stream is then abandoned: the parser drops what it held
    /// and ignores the rest, so nothing after the oversized event (its own tail included) becomes an event.
    public private(set) var overflowed = false

    public init(maxEventBytes: Int = 32 * 1024 * 1024) { self.maxEventBytes = maxEventBytes }

    /// The bytes held for the event being read: its current line, its data and its type. Never more than
    /// `maxEventBytes` (the id, kept across events, is one line's value: bounded too).
    var bufferedBytes: Int { line.count + data.count + eventType.count }

    /// Feeds bytes; returns the events they complete.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [SSEEvent] {
        var events: [SSEEvent] = []
        guard !overflowed else { return events }
        for b in bytes {
            if lastWasCR {
                lastWasCR = false
                if b == 0x0A { continue }
            }
            if b == 0x0D || b == 0x0A {
                lastWasCR = b == 0x0D
                if let e = endLine() { events.append(e) }
                continue
            }
            // Only a line byte makes the event grow: ending a line moves its value into the data or the type
            // and drops its field name (at least 4 bytes) for a 1-byte join, so the bound is checked here.
            if bufferedBytes >= maxEventBytes {
                overflow()
                return events
            }
            line.append(b)
        }
        return events
    }

    private mutating func overflow() {
        overflowed = true
        line = []
        data = []
        eventType = []
        hasData = false
    }

    /// Convenience for tests and strings.
    public mutating func feed(_ text: String) -> [SSEEvent] {
        Array(text.utf8).withUnsafeBytes { feed($0) }
    }

    private mutating func endLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if !sawBOMCheck {
            sawBOMCheck = true
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        if line.isEmpty { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }  // comment
        var field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        switch String(decoding: field, as: UTF8.self) {
        case "event": eventType = Array(value)
        case "data":
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        case "id":
            if !value.contains(0) { lastID = String(decoding: value, as: UTF8.self) }
        case "retry":
            // Digits only (WHATWG); a value too large for Int is ignored like any invalid one.
            if !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let ms = Int(String(decoding: value, as: UTF8.self))
            {
                retryMilliseconds = ms
            }
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            eventType.removeAll(keepingCapacity: true)
            data.removeAll(keepingCapacity: true)
            hasData = false
        }
        guard hasData else { return nil }
        return SSEEvent(
            event: eventType.isEmpty ? "message" : String(decoding: eventType, as: UTF8.self),
            data: String(decoding: data, as: UTF8.self), id: lastID)
    }
}
