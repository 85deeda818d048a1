import Foundation
import GRDB

/// ISO 8601 UTC formatting (`2026-11-24T21:10:44Z`) without a locale-aware formatter on the hot path.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2))Z"
    }

    private static func pad(_ v: Int32, _ w: Int) -> String {
        let s = String(v)
        return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
    }

    /// Whether `u` is GRDB's storage format, `YYYY-MM-DD HH:MM:SS` (or `T` in the middle) with an optional
    /// `.SSS…` fraction: digits and separators where they belong, so its fields can be read by position.
    /// Anything else (a time zone suffix, say) goes to GRDB's own parser.
    static func hasStorageShape(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard u.count >= 19, u[10] == 0x20 || u[10] == 0x54, u.count == 19 || u[19] == 0x2E else { return false }
        let mask: StaticString = "dddd-dd-dd?dd:dd:dd"
        for i in 0..<19 {
            switch mask.utf8Start[i] {
            case UInt8(ascii: "d"): if u[i] < 0x30 || u[i] > 0x39 { return false }
            case UInt8(ascii: "?"): continue
            case let separator: if u[i] != separator { return false }
            }
        }
        return u.dropFirst(20).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// The part of a stored date read by position: GRDB's storage format as SQLite holds it, or PostgreSQL's
    /// timestamptz text in a UTC session (the same with a `+00` suffix). Nil for any other shape.
    static func utcBody(_ u: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        if hasStorageShape(u) { return u }
        guard u.count >= 22, u[u.count - 3] == UInt8(ascii: "+"), u[u.count - 2] == 0x30, u[u.count - 1] == 0x30
        else { return nil }
        let body = UnsafeBufferPointer(rebasing: u[0..<(u.count - 3)])
        return hasStorageShape(body) ? body : nil
    }

    /// Parses a stored date (see ``utcBody(_:)``) in UTC without Calendar; nil for another shape.
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Date? {
        guard let u = utcBody(text) else { return nil }
        func num(_ from: Int, _ count: Int) -> Int {
            u[from..<(from + count)].reduce(0) { $0 * 10 + Int($1) - 48 }
        }
        let (y, mo, d, h, mi, sec) = (num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2))
        var fraction = 0.0
        var scale = 0.1
        for c in u.dropFirst(20) {
            fraction += Double(c - 0x30) * scale
            scale /= 10
        }
        // Days from the civil date (Howard Hinnant's algorithm), then seconds.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let seconds = Double(days * 86400 + h * 3600 + mi * 60 + sec) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    static func parse(_ text: String) -> Date? {
        var t = text
        return t.withUTF8(parse)
    }

    /// Any date GRDB reads (a zone offset, a Julian day…), for the rare cell not in ``utcBody(_:)``'s shape;
    /// the epoch when unreadable.
    static func parseAnyShape(_ text: String) -> Date {
        parse(text) ?? Date.fromDatabaseValue(text.databaseValue) ?? Date(timeIntervalSince1970: 0)
    }

    /// GRDB's storage format, `YYYY-MM-DD HH:MM:SS.SSS` in UTC, what every existing SQLite file holds. Written
    /// here with gmtime_r: GRDB's own goes through a DateFormatter, whose first use loads ICU's time zone data
    /// (2 ms, most of an empty `list`).
    static func storage(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        var t = time_t((milliseconds / 1000).rounded(.down))
        let ms = Int32(milliseconds - Double(t) * 1000)
        var tm = tm()
        gmtime_r(&t, &tm)
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2)) "
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(ms, 3))"
    }

    /// A JSON string value of the date, or null.
    static func json(_ date: Date?) -> JSONValue { date.map { .string(iso8601($0)) } ?? .null }
}
