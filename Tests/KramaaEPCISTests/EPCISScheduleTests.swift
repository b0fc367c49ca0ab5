import KramaaEPCIS
import KramaaJSON
import Testing

/// Scheduled query subscriptions' times: values, lists, ranges and steps per field, absent
/// second meaning 0 and other absent fields any value, UTC calendar days and weekdays.
@Suite struct EPCISScheduleTests {
    // 2026-12-05T01:05:00Z is a Saturday (weekday 6).
    static let saturday0105: Int64 = 1_796_432_700

    @Test func fieldsMatchAsTheStandardWrites() throws {
        let daily = try EPCISSchedule(json: ["hour": "1", "minute": "5"])
        #expect(daily.fires(at: Self.saturday0105))
        #expect(!daily.fires(at: Self.saturday0105 + 1), "an absent second means 0")
        #expect(!daily.fires(at: Self.saturday0105 + 60) && daily.fires(at: Self.saturday0105 + 86_400))
        let everyTwo = try EPCISSchedule(json: ["second": "*/2"])
        #expect(everyTwo.fires(at: Self.saturday0105) && !everyTwo.fires(at: Self.saturday0105 + 1) && everyTwo.fires(at: Self.saturday0105 + 2))
        let weekdays = try EPCISSchedule(json: ["dayOfWeek": "1-5", "hour": "1", "minute": "5"])
        #expect(!weekdays.fires(at: Self.saturday0105) && weekdays.fires(at: Self.saturday0105 + 2 * 86_400))
        let listed = try EPCISSchedule(json: ["minute": "0,5,10", "hour": "1", "dayOfMonth": "5", "month": "12"])
        #expect(listed.fires(at: Self.saturday0105) && !listed.fires(at: Self.saturday0105 + 31 * 86_400))
        let numeric = try EPCISSchedule(json: ["minute": .number(JSONNumber(5)), "hour": .number(JSONNumber(1))])
        #expect(numeric.fires(at: Self.saturday0105))
        // A leap day and the epoch's own weekday (Thursday).
        #expect(try EPCISSchedule(json: ["month": "2", "dayOfMonth": "29", "hour": "0", "minute": "0"]).fires(at: 1_709_164_800))
        #expect(try EPCISSchedule(json: ["dayOfWeek": "4", "hour": "0", "minute": "0"]).fires(at: 0))
    }

    @Test func invalidFieldsAreRefusedNamingThem() {
        for (json, field) in [(["minute": "61"], "schedule.minute"), (["hour": "1-"], "schedule.hour"), (["second": "*/0"], "schedule.second"),
                              (["dayOfMonth": "0"], "schedule.dayOfMonth"), (["weekday": "1"], "schedule")] as [(JSONObject, String)] {
            do {
                _ = try EPCISSchedule(json: json)
                Issue.record("accepted \(json)")
            } catch {
                #expect("\(error)".contains(field), "\(error)")
            }
        }
    }
}
