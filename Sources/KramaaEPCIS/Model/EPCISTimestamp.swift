import KramaaPrimitives

/// An instant read from an RFC 3339 date-time (`2005-04-03T20:33:31.116-06:00`), as EPCIS
/// writes `eventTime`, `recordTime` and the query time bounds.
///
/// Instants compare by the moment they name, not by their text: `…T20:33:31-06:00` equals
/// `…T02:33:31Z` of the next day. Fractions are kept to the nanosecond (further digits are cut).
public struct EPCISTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    public var secondsSinceEpoch: Int64
    /// Nanoseconds past `secondsSinceEpoch`, 0 ..< 1_000_000_000.
    public var nanoseconds: Int32
    /// The offset from UTC the text was written with, in minutes (not part of equality).
    public var offsetMinutes: Int

    public init(secondsSinceEpoch: Int64, nanoseconds: Int32 = 0, offsetMinutes: Int = 0) {
        self.secondsSinceEpoch = secondsSinceEpoch
        self.nanoseconds = nanoseconds
        self.offsetMinutes = offsetMinutes
    }

    /// Parses an RFC 3339 `date-time` (section 5.6): `T`/`t` between date and time, a fraction
    /// of any length, `Z`/`z` or `±hh:mm`. Checks month lengths, leap years and leap seconds
    /// (second 60 only at 23:59 UTC). Nil for anything else.
    public init?(rfc3339 text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    public static func == (lhs: EPCISTimestamp, rhs: EPCISTimestamp) -> Bool {
        lhs.secondsSinceEpoch == rhs.secondsSinceEpoch && lhs.nanoseconds == rhs.nanoseconds
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(secondsSinceEpoch)
        hasher.combine(nanoseconds)
    }

    public static func < (lhs: EPCISTimestamp, rhs: EPCISTimestamp) -> Bool {
        (lhs.secondsSinceEpoch, lhs.nanoseconds) < (rhs.secondsSinceEpoch, rhs.nanoseconds)
    }

    /// The instant in UTC, `YYYY-MM-DDThh:mm:ss[.fff…]Z` (fraction without trailing zeros).
    public var description: String {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        let secondOfDay = Int(secondsSinceEpoch - days * 86_400)
        let (year, month, day) = CivilDate.date(daysSince1970: days)
        var text = Self.pad(Int(year), 4) + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2) + "T"
        text += Self.pad(secondOfDay / 3600, 2) + ":" + Self.pad(secondOfDay / 60 % 60, 2) + ":" + Self.pad(secondOfDay % 60, 2)
        if nanoseconds > 0 {
            var fraction = Self.pad(Int(nanoseconds), 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    // MARK: - Parsing

    /// Parses `YYYY-MM-DD` (RFC 3339 full-date) into (year, month, day), checking the day exists.
    static func parseDate(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (year: Int, month: Int, day: Int)? {
        guard bytes.count >= start + 10, bytes[start + 4] == UInt8(ascii: "-"), bytes[start + 7] == UInt8(ascii: "-"),
              let year = digits(bytes, start, 4), let month = digits(bytes, start + 5, 2), let day = digits(bytes, start + 8, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        return (year, month, day)
    }

    /// Parses `hh:mm:ss[.frac](Z|±hh:mm)` (RFC 3339 full-time) from `start` to the end of `bytes`.
    static func parseTime(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int)
        -> (hour: Int, minute: Int, second: Int, nanoseconds: Int32, offsetMinutes: Int)?
    {
        guard bytes.count >= start + 9, bytes[start + 2] == UInt8(ascii: ":"), bytes[start + 5] == UInt8(ascii: ":"),
              let hour = digits(bytes, start, 2), let minute = digits(bytes, start + 3, 2), let second = digits(bytes, start + 6, 2),
              hour < 24, minute < 60, second <= 60
        else { return nil }
        var position = start + 8
        var nanoseconds: Int32 = 0
        if bytes[position] == UInt8(ascii: ".") {
            position += 1
            var count = 0
            while position < bytes.count, isDigit(bytes[position]) {
                if count < 9 { nanoseconds = nanoseconds * 10 + Int32(bytes[position] - 0x30) }
                count += 1
                position += 1
            }
            guard count > 0 else { return nil }
            for _ in min(count, 9)..<9 { nanoseconds *= 10 }
        }
        guard position < bytes.count else { return nil }
        let offsetMinutes: Int
        switch bytes[position] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard position + 1 == bytes.count else { return nil }
            offsetMinutes = 0
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard position + 6 == bytes.count, bytes[position + 3] == UInt8(ascii: ":"),
                  let offsetHour = digits(bytes, position + 1, 2), let offsetMinute = digits(bytes, position + 4, 2),
                  offsetHour < 24, offsetMinute < 60
            else { return nil }
            let magnitude = offsetHour * 60 + offsetMinute
            offsetMinutes = bytes[position] == UInt8(ascii: "-") ? -magnitude : magnitude
        default:
            return nil
        }
        if second == 60 {
            // A leap second is the last second of a UTC day.
            let utcMinuteOfDay = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            guard utcMinuteOfDay == 23 * 60 + 59 else { return nil }
        }
        return (hour, minute, second, nanoseconds, offsetMinutes)
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> EPCISTimestamp? {
        guard bytes.count > 10, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              let date = parseDate(bytes, at: 0), let time = parseTime(bytes, at: 11)
        else { return nil }
        let days = CivilDate.days(year: Int64(date.year), month: date.month, day: date.day)
        let local = days * 86_400 + Int64(time.hour * 3600 + time.minute * 60 + time.second)
        return EPCISTimestamp(
            secondsSinceEpoch: local - Int64(time.offsetMinutes * 60), nanoseconds: time.nanoseconds,
            offsetMinutes: time.offsetMinutes)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for i in start..<start + count {
            guard isDigit(bytes[i]) else { return nil }
            value = value * 10 + Int(bytes[i] - 0x30)
        }
        return value
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
