import Foundation
import KramaaPrimitives
import Testing

/// The arithmetic formatter against Foundation's ISO 8601 formatter (the reference it replaced).
@Suite struct RFC3339Tests {
    static func reference(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    @Test func knownInstants() {
        #expect(RFC3339.string(secondsSince1970: 0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.string(secondsSince1970: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.string(secondsSince1970: 1_796_378_285) == "2026-12-04T09:58:05Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: 253_402_300_799)) == "9999-12-31T23:59:59Z")
        // Proleptic Gregorian (Python's datetime agrees): the first day of year 1, 1582-10-04.
        #expect(RFC3339.string(Date(timeIntervalSince1970: -62_135_596_800)) == "0001-01-01T00:00:00Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: -12_220_243_200)) == "1582-10-04T00:00:00Z")
    }

    @Test func matchesFoundationOnRandomInstants() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            // Whole and fractional seconds from 1583 to 9999, across every leap-year rule. Before
            // 1583 Foundation (ICU) switches to the Julian calendar; RFC 3339 and ISO 8601 use the
            // proleptic Gregorian one, checked in `knownInstants`. Foundation also rounds to the
            // millisecond before it drops the fraction (x.9996 becomes x+1), so fractions stay below .999.
            let seconds = Double(Int64.random(in: -12_212_553_600...253_402_300_799, using: &generator))
                + (Bool.random(using: &generator) ? Double.random(in: 0..<0.999, using: &generator) : 0)
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RFC3339.string(date) == Self.reference(date), "at \(seconds)")
        }
    }

    @Test func matchesFoundationAtMonthAndYearBoundaries() {
        for year in [1900, 1970, 1999, 2000, 2024, 2100, 2400] {
            for month in 1...12 {
                let parts = DateComponents(timeZone: TimeZone(identifier: "UTC"), year: year, month: month, day: 1)
                let start = Calendar(identifier: .gregorian).date(from: parts)!
                for offset in [-1.0, 0, 0.5, 86_399] {
                    let date = start.addingTimeInterval(offset)
                    #expect(RFC3339.string(date) == Self.reference(date))
                }
            }
        }
    }
}
