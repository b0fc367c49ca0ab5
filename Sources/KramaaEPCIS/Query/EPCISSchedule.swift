import KramaaJSON
import KramaaPrimitives

/// When a scheduled query subscription runs (EPCIS 2.0 section 8.2.5.3, the REST binding's
/// `schedule`): like a cron entry, each of second, minute, hour, dayOfMonth, month and
/// dayOfWeek is a value (`5`), a list (`0,30`), a range (`1-5`), a range with a step (`0-59/15`)
/// or absent. An absent second means 0; any other absent field, every value. Times are UTC.
public struct EPCISSchedule: Sendable, Equatable {
    public var seconds, minutes, hours, daysOfMonth, months, daysOfWeek: Set<Int>
    /// The schedule as given (echoed in subscription listings).
    public let json: JSONObject

    static let fields: [(name: String, range: ClosedRange<Int>)] = [
        ("second", 0...59), ("minute", 0...59), ("hour", 0...23), ("dayOfMonth", 1...31), ("month", 1...12), ("dayOfWeek", 0...6),
    ]

    /// Reads a `schedule` object; throws naming the field that is not valid.
    public init(json: JSONObject) throws(QueryParameterException) {
        var sets: [Set<Int>] = []
        for (name, range) in Self.fields {
            guard let value = json[name] else {
                sets.append(name == "second" ? [0] : Set(range))
                continue
            }
            let text = value.stringValue ?? value.numberValue.map(\.description) ?? ""
            guard let parsed = Self.parse(text, range) else {
                throw .invalidValue(parameter: "schedule.\(name)", value: text, expected: "a value, list (a,b), range (a-b) or step (a-b/n) within \(range.lowerBound)-\(range.upperBound)")
            }
            sets.append(parsed)
        }
        guard json.keys.allSatisfy({ key in Self.fields.contains { $0.name == key } }) else {
            throw .invalidValue(parameter: "schedule", value: json.keys.joined(separator: ","), expected: "only second, minute, hour, dayOfMonth, month, dayOfWeek")
        }
        (seconds, minutes, hours, daysOfMonth, months, daysOfWeek) = (sets[0], sets[1], sets[2], sets[3], sets[4], sets[5])
        self.json = json
    }

    static func parse(_ text: String, _ range: ClosedRange<Int>) -> Set<Int>? {
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, let step = pieces.count == 2 ? Int(pieces[1]) : 1, step > 0 else { return nil }
            let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
            let low: Int, high: Int
            if bounds == ["*"] { (low, high) = (range.lowerBound, range.upperBound) } else if bounds.count == 1, let v = Int(bounds[0]) {
                (low, high) = (v, pieces.count == 2 ? range.upperBound : v)
            } else if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), a <= b {
                (low, high) = (a, b)
            } else {
                return nil
            }
            guard range.contains(low), range.contains(high) else { return nil }
            out.formUnion(stride(from: low, through: high, by: step))
        }
        return out.isEmpty ? nil : out
    }

    /// Whether the schedule fires at `unixSeconds` (UTC).
    public func fires(at unixSeconds: Int64) -> Bool {
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let inDay = Int(unixSeconds - days * 86_400)
        let (_, month, day) = CivilDate.date(daysSince1970: days)
        let weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
        return seconds.contains(inDay % 60) && minutes.contains(inDay / 60 % 60) && hours.contains(inDay / 3600)
            && daysOfMonth.contains(day) && months.contains(month) && daysOfWeek.contains(weekday)
    }
}
