import Foundation

/// Times as the interfaces write them: RFC 3339 in UTC to the second (`2026-12-04T09:58:05Z`).
public enum RFC3339 {
    public static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `seconds` since 1970 (Unix time).
    public static func string(secondsSince1970 seconds: UInt64) -> String {
        string(Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
