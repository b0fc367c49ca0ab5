extension StringProtocol {
    /// Whether `needle` occurs in the string as a run of code points (compared as UTF-8 bytes), as
    /// the reference implementation's Python `in` does: no Unicode equivalence, no locale, and
    /// none of the cost of Foundation's `range(of:)` (the hash asks this of every value and name).
    func containsCodePoints(_ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { pattern in
            if let found = utf8.withContiguousStorageIfAvailable({ Self.occurs(pattern, in: $0) }) { return found }
            return Array(utf8).withUnsafeBufferPointer { Self.occurs(pattern, in: $0) }
        }
    }

    private static func occurs(_ pattern: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = pattern.first else { return true }
        guard haystack.count >= pattern.count else { return false }
        var start = 0
        while start <= haystack.count - pattern.count {
            if haystack[start] == first {
                var matched = 1
                while matched < pattern.count && haystack[start + matched] == pattern[matched] { matched += 1 }
                if matched == pattern.count { return true }
            }
            start += 1
        }
        return false
    }
}
