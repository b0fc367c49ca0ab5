import Foundation

/// Times as the interfaces write them: RFC 3339 in UTC to the second (`2026-12-04T09:58:05Z`).
///
/// Formatted by arithmetic on the proleptic Gregorian calendar (days to civil date), not by a
/// `DateFormatter`: making one costs tens of microseconds (ICU loads its symbols each time),
/// and answers such as `/verify` write a time in every response. Fractions of a second are
/// dropped, as `ISO8601DateFormatter` with `.withInternetDateTime` drops them.
public enum RFC3339 {
    public static func string(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite, let whole = Int64(exactly: seconds), let text = string(unixSeconds: whole) else {
            return ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
        }
        return text
    }

    /// `seconds` since 1970 (Unix time).
    public static func string(secondsSince1970 seconds: UInt64) -> String {
        Int64(exactly: seconds).flatMap { string(unixSeconds: $0) } ?? string(Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// Years 0000–9999 only (four digits); nil outside them.
    static func string(unixSeconds: Int64) -> String? {
        let (days, secondOfDay) = unixSeconds.quotientAndRemainder(dividingBy: 86_400)
        let (day, second) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        let (year, month, dayOfMonth) = CivilDate.date(daysSince1970: day)
        guard (0...9999).contains(year) else { return nil }
        let fields: [(Int64, Int)] = [(year, 4), (Int64(month), 2), (Int64(dayOfMonth), 2), (second / 3600, 2), (second / 60 % 60, 2), (second % 60, 2)]
        let separators: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-"), UInt8(ascii: "T"), UInt8(ascii: ":"), UInt8(ascii: ":"), UInt8(ascii: "Z")]
        return String(unsafeUninitializedCapacity: 20) { buffer in
            var at = 0
            for (index, (value, width)) in fields.enumerated() {
                var rest = value
                for position in stride(from: at + width - 1, through: at, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                at += width
                buffer[at] = separators[index]
                at += 1
            }
            return at
        }
    }
}
