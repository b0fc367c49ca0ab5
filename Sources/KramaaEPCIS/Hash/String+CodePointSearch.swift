extension StringProtocol {
    /// Whether `needle` occurs in the string as a run of code points (compared as UTF-8 bytes), as
    /// the reference implementation's Python `in` does: no Unicode equivalence, no locale, and
    /// none of the cost of Foundation's `range(of:)` (the hash asks this of every value and name).
    func containsCodePoints(_ needle: String) -> Bool {
        let haystack = utf8
        let pattern = needle.utf8
        guard let first = pattern.first else { return true }
        guard haystack.count >= pattern.count else { return false }
        var start = haystack.startIndex
        let lastStart = haystack.index(haystack.endIndex, offsetBy: -pattern.count)
        while start <= lastStart {
            if haystack[start] == first && haystack[start...].starts(with: pattern) { return true }
            start = haystack.index(after: start)
        }
        return false
    }
}
