/// GS1 check digits: the mod-10 digit of GTIN, GLN, SSCC, GSRN, GDTI, GCN, GSIN, GRAI, ITIP
/// (General Specifications §7.9.1) and the two check characters of the GMN (§7.9.5).
public enum GS1CheckDigit {
    /// The mod-10 check digit of `digits` (the digits that precede it), or nil if `digits` is not all digits.
    ///
    /// Weights 3 and 1 alternate from the right, starting with 3 next to the check digit.
    public static func compute(_ digits: some StringProtocol) -> Character? {
        digit(of: digits.utf8, count: digits.utf8.count).map { Character(Unicode.Scalar($0)) }
    }

    /// The check digit (ASCII) of the first `count` bytes of `digits`, or nil if one is not a digit.
    static func digit(of digits: some Collection<UInt8>, count: Int) -> UInt8? {
        var sum = 0
        var weightThree = count % 2 == 1  // weight 3 falls on the digit next to the check digit
        for byte in digits.prefix(count) {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            sum += Int(byte - 0x30) * (weightThree ? 3 : 1)
            weightThree.toggle()
        }
        return UInt8(0x30 + (10 - sum % 10) % 10)
    }

    /// Whether `digits` ends in its correct mod-10 check digit (at least two digits, all digits).
    public static func isValid(_ digits: some StringProtocol) -> Bool {
        let bytes = digits.utf8, count = bytes.count
        guard count >= 2 else { return false }
        return digit(of: bytes, count: count - 1) == bytes[bytes.index(bytes.startIndex, offsetBy: count - 1)]
    }

    /// Whether the digit at 1-based `position` is the check digit of the digits before it
    /// (for keys followed by more data, such as the serial of a GRAI).
    public static func isValid(_ digits: some StringProtocol, checkDigitPosition position: Int) -> Bool {
        guard position >= 2, position <= digits.count else { return false }
        return isValid(digits.prefix(position))
    }

    /// `digits` followed by its check digit; nil if `digits` is not all digits.
    public static func appending(to digits: String) -> String? {
        compute(digits).map { digits + String($0) }
    }

    /// The two GMN check characters of `value` (without them), or nil if it has characters outside CSET 82
    /// or is longer than 23 characters.
    public static func checkCharacterPair(_ value: some StringProtocol) -> String? {
        let primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83]
        let bytes = Array(value.utf8)
        guard bytes.count <= primes.count else { return nil }
        var sum = 0
        for (offset, byte) in bytes.reversed().enumerated() {
            guard let index = GS1CharacterSet.cset82Ordered.firstIndex(of: byte) else { return nil }
            sum += index * primes[offset]
        }
        sum %= 1021
        let alphabet = GS1CharacterSet.cset32
        return String(decoding: [alphabet[sum >> 5], alphabet[sum & 31]], as: UTF8.self)
    }
}
