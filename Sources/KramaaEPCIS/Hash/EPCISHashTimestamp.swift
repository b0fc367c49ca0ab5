/// Timestamps in pre-hash strings: the instant in UTC at millisecond precision,
/// `YYYY-MM-DDThh:mm:ss.sssZ`, as the reference implementation writes them.
///
/// Reads ISO 8601 date-times a little more leniently than RFC 3339 (as the reference's parser does):
/// a space for `T`, no seconds, no offset (taken as UTC), `±hhmm` or `±hh` offsets, a bare date.
/// The fraction is cut to microseconds, then rounded to milliseconds half to even.
enum EPCISHashTimestamp {
    /// The canonical text, or nil when `bytes` is no date-time.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let rfc3339 = rfc3339Text(bytes), let instant = EPCISTimestamp(rfc3339: rfc3339) else { return nil }
        let microseconds = Int64(instant.nanoseconds / 1000)
        var milliseconds = microseconds / 1000
        let rest = microseconds % 1000
        if rest > 500 || (rest == 500 && milliseconds % 2 == 1) { milliseconds += 1 }
        let seconds = instant.secondsSinceEpoch + milliseconds / 1000
        milliseconds %= 1000
        let whole = EPCISTimestamp(secondsSinceEpoch: seconds).description  // YYYY-MM-DDThh:mm:ssZ
        let digits = String(milliseconds)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// `bytes` rewritten as an RFC 3339 date-time (seconds and offset filled in), or nil.
    private static func rfc3339Text(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let count = bytes.count
        guard count >= 10 else { return nil }
        let date = String(decoding: bytes[0..<10], as: UTF8.self)
        if count == 10 { return date + "T00:00:00Z" }
        let separator = bytes[10]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " "), count >= 16 else {
            return nil
        }
        // hh:mm, then optional :ss and fraction, then the offset.
        var end = 16
        if end < count, bytes[end] == UInt8(ascii: ":") {
            end += 3
            guard end <= count else { return nil }
            if end < count, bytes[end] == UInt8(ascii: ".") || bytes[end] == UInt8(ascii: ",") {
                end += 1
                while end < count, (0x30...0x39).contains(bytes[end]) { end += 1 }
            }
        }
        // A decimal comma becomes a point (bytes, not a string search: every event has timestamps).
        var time = String(decoding: bytes[11..<end].lazy.map { $0 == UInt8(ascii: ",") ? UInt8(ascii: ".") : $0 }, as: UTF8.self)
        if end == 16 { time += ":00" }
        let offset = Array(bytes[end...])
        var zone: String
        switch offset.count {
        case 0: zone = "Z"
        case 1 where offset[0] == UInt8(ascii: "Z") || offset[0] == UInt8(ascii: "z"): zone = "Z"
        case 3, 5, 6:
            guard offset[0] == UInt8(ascii: "+") || offset[0] == UInt8(ascii: "-") else { return nil }
            zone = String(decoding: offset, as: UTF8.self)
            if offset.count == 3 { zone += ":00" }
            if offset.count == 5 { zone.insert(":", at: zone.index(zone.startIndex, offsetBy: 3)) }
        default: return nil
        }
        return date + "T" + time + zone
    }
}
