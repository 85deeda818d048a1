import Foundation
import GRDB

/// ISO 8601 UTC formatting (`2026-11-24T21:10:44Z`) without a locale-aware formatter on the hot path.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2))Z"
    }

    /// Parses GRDB's storage format, `YYYY-MM-DD HH:MM:SS.SSS` in UTC (fraction optional), without Calendar.
    static func database(_ value: DatabaseValue) -> Date? {
        guard let text = String.fromDatabaseValue(value) else { return Date.fromDatabaseValue(value) }
        let u = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                let d = Int(u[i]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard u.count >= 19, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x20 || u[10] == 0x54, u[13] == 0x3A,
            u[16] == 0x3A, let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2),
            let mi = num(14, 2), let sec = num(17, 2)
        else { return Date.fromDatabaseValue(value) }
        var fraction = 0.0
        if u.count > 20, u[19] == 0x2E {
            var scale = 0.1
            for c in u[20...] {
                guard c >= 0x30 && c <= 0x39 else { break }
                fraction += Double(c - 0x30) * scale
                scale /= 10
            }
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

    /// A JSON string value of the date, or null.
    static func json(_ date: Date?) -> JSONValue { date.map { .string(iso8601($0)) } ?? .null }
}
