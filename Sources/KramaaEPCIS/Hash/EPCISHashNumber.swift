/// Numbers in pre-hash strings, in one canonical form that is a function of the number's exact
/// decimal value (CBV 2.0 §8.9: no sign for positives, no leading zeros, no trailing fraction
/// zeros), so that equal numbers hash the same however they are written and different numbers
/// never do. Whole numbers are written as integers (`+0150.0` → `150`), others in Python's
/// `repr` layout, which the reference implementation produces (`26.10` → `26.1`, `0.00001` →
/// `1e-05`).
///
/// The value is read exactly, never through a binary double: the reference implementation's
/// doubles made two different 23-digit quantities (`10000000000000000000001` and
/// `10000000000000000000002`) hash the same, while numbers past the double range (`1e400`,
/// `1E400`) kept their spelling and hashed differently. For every number a double holds
/// exactly in its shortest form (all the usual ones) the text is the reference's.
enum EPCISHashNumber {
    /// Whole numbers with more digits than this (past the double range) are written with an
    /// exponent (`1e+400`), so a short input never becomes a huge pre-hash string.
    static let maxWholeDigits = 400
    /// Exponents (as written) beyond this many digits are not read as numbers: the value stays
    /// as written.
    static let maxExponentDigits = 9

    /// The canonical text of `value`, or nil when it is not a decimal number (it then stays as written).
    static func canonical(_ value: String) -> String? {
        guard let first = value.utf8.first,
              first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == UInt8(ascii: ".") || (0x30...0x39).contains(first),
              let number = ExactDecimal(literal: value)
        else { return nil }
        return number.text
    }
}

/// A decimal number as written, exactly: `±digits × 10^exponent` with no leading or trailing
/// zero digits (no digits for zero).
struct ExactDecimal: Equatable {
    var negative: Bool
    /// ASCII digits, first and last not `0`; empty for zero.
    var digits: [UInt8]
    /// The power of ten of the last digit.
    var exponent: Int

    /// Reads a decimal literal in Python's sense: `[sign] digits [. digits] [e [sign] digits]`,
    /// digits may be grouped by single underscores, either side of the point may be empty but not both.
    init?(literal: String) {
        let bytes = Array(literal.utf8)
        var i = 0
        func digitRun() -> [UInt8] {
            var run: [UInt8] = []
            while i < bytes.count {
                let byte = bytes[i]
                if (0x30...0x39).contains(byte) {
                    run.append(byte)
                    i += 1
                } else if byte == UInt8(ascii: "_"), !run.isEmpty, i + 1 < bytes.count, (0x30...0x39).contains(bytes[i + 1]) {
                    i += 1
                } else {
                    break
                }
            }
            return run
        }
        func sign() -> Bool {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") else { return false }
            defer { i += 1 }
            return bytes[i] == UInt8(ascii: "-")
        }
        negative = sign()
        let whole = digitRun()
        var fraction: [UInt8] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            fraction = digitRun()
        }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        var written = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            let negativeExponent = sign()
            let run = digitRun()
            let power = run.drop { $0 == 0x30 }
            guard !run.isEmpty, power.count <= EPCISHashNumber.maxExponentDigits else { return nil }
            written = power.reduce(0) { $0 * 10 + Int($1 - 0x30) } * (negativeExponent ? -1 : 1)
        }
        guard i == bytes.count else { return nil }
        var all = ArraySlice(whole + fraction)
        let trailing = all.reversed().prefix { $0 == 0x30 }.count
        all = all.dropLast(trailing).drop { $0 == 0x30 }
        digits = Array(all)
        exponent = digits.isEmpty ? 0 : written - fraction.count + trailing
        if digits.isEmpty { negative = false }
    }

    /// The canonical text: an integer when whole (and not too long), else Python's `repr` layout
    /// (positional when the first digit's power is -4 ..< 16, else `d.ddde±XX`).
    var text: String {
        guard !digits.isEmpty else { return "0" }
        let sign = negative ? "-" : ""
        let body = String(decoding: digits, as: UTF8.self)
        if exponent >= 0 && digits.count + exponent <= EPCISHashNumber.maxWholeDigits {
            return sign + body + String(repeating: "0", count: exponent)
        }
        let leading = digits.count - 1 + exponent  // the first digit's power of ten
        if exponent < 0 && leading >= -4 && leading < 16 {
            if leading < 0 { return sign + "0." + String(repeating: "0", count: -leading - 1) + body }
            return sign + body.prefix(leading + 1) + "." + body.dropFirst(leading + 1)
        }
        let mantissa = body.prefix(1) + (digits.count > 1 ? "." + body.dropFirst() : "")
        let magnitude = String(abs(leading))
        return sign + mantissa + "e" + (leading < 0 ? "-" : "+") + (magnitude.count < 2 ? "0" : "") + magnitude
    }
}
