/// Numbers in pre-hash strings: any value that reads as a decimal floating-point literal is written
/// the way the reference implementation writes it (a binary double, then Python's `str`): whole
/// numbers as integers (`+0150.0` → `150`), others in shortest round-trip form (`26.10` → `26.1`,
/// `0.00001` → `1e-05`).
enum EPCISHashNumber {
    /// The canonical text of `value`, or nil when it is not a finite number (it then stays as written).
    static func canonical(_ value: String) -> String? {
        guard let first = value.utf8.first,
              first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == UInt8(ascii: ".") || (0x30...0x39).contains(first)
        else { return nil }
        guard let literal = decimalLiteral(value), let double = Double(literal), double.isFinite else { return nil }
        if double == double.rounded(.towardZero) { return integerText(double) }
        return pythonRepr(double)
    }

    /// `value` as a literal Swift's `Double` reads, if it is a decimal literal in Python's sense
    /// (`[sign] digits [. digits] [e [sign] digits]`, digits may be grouped by single underscores,
    /// either side of the point may be empty but not both).
    private static func decimalLiteral(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        var i = 0
        func digits() -> [UInt8] {
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
        var sign: [UInt8] = []
        if bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            sign.append(bytes[i])
            i += 1
        }
        let whole = digits()
        var fraction: [UInt8] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            fraction = digits()
        }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        var exponent: [UInt8] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            exponent.append(UInt8(ascii: "e"))
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                exponent.append(bytes[i])
                i += 1
            }
            let power = digits()
            guard !power.isEmpty else { return nil }
            exponent += power
        }
        guard i == bytes.count else { return nil }
        let literal = sign + (whole.isEmpty ? [0x30] : whole) + [UInt8(ascii: ".")] + (fraction.isEmpty ? [0x30] : fraction) + exponent
        return String(decoding: literal, as: UTF8.self)
    }

    /// The exact decimal digits of a whole double (as Python's `int(x)` prints them).
    static func integerText(_ value: Double) -> String {
        if abs(value) < 9.2e18 { return String(Int64(value)) }
        // value = significand · 2^exponent with a 53-bit integer significand: multiply out in base 10⁹.
        let exponent = Int(value.exponent) - 52
        var limbs: [UInt64] = [UInt64(value.significandBitPattern | (1 << 52))]  // little-endian base 1e9
        limbs = normalised(limbs)
        for _ in 0..<max(exponent, 0) {
            var carry: UInt64 = 0
            for index in limbs.indices {
                let product = limbs[index] * 2 + carry
                limbs[index] = product % 1_000_000_000
                carry = product / 1_000_000_000
            }
            if carry > 0 { limbs.append(carry) }
        }
        var text = value < 0 ? "-" : ""
        text += String(limbs[limbs.count - 1])
        for limb in limbs.dropLast().reversed() {
            let part = String(limb)
            text += String(repeating: "0", count: 9 - part.count) + part
        }
        return text
    }

    private static func normalised(_ limbs: [UInt64]) -> [UInt64] {
        var value = limbs[0]
        var out: [UInt64] = []
        repeat {
            out.append(value % 1_000_000_000)
            value /= 1_000_000_000
        } while value > 0
        return out
    }

    /// Python's `repr` of a non-whole double: shortest round-trip digits, positional when the decimal
    /// exponent is in -4 ..< 16, else `d.ddde±XX`.
    static func pythonRepr(_ value: Double) -> String {
        let swift = value.description  // shortest round-trip digits, Swift's layout
        guard let e = swift.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return swift }
        let negative = swift.hasPrefix("-")
        let mantissa = swift[swift.index(swift.startIndex, offsetBy: negative ? 1 : 0)..<e]
        guard var exponent = Int(swift[swift.index(after: e)...]) else { return swift }
        var digits = mantissa.filter { $0 != "." }
        if let dot = mantissa.firstIndex(of: ".") { exponent += mantissa.distance(from: mantissa.startIndex, to: dot) - 1 }
        while digits.count > 1, digits.hasSuffix("0") { digits.removeLast() }
        var text = negative ? "-" : ""
        if exponent >= -4 && exponent < 16 {
            if exponent < 0 {
                text += "0." + String(repeating: "0", count: -exponent - 1) + digits
            } else if digits.count > exponent + 1 {
                text += digits.prefix(exponent + 1) + "." + digits.dropFirst(exponent + 1)
            } else {
                text += digits + String(repeating: "0", count: exponent + 1 - digits.count) + ".0"
            }
            return text
        }
        text += String(digits.prefix(1))
        if digits.count > 1 { text += "." + digits.dropFirst() }
        let magnitude = String(abs(exponent))
        return text + "e" + (exponent < 0 ? "-" : "+") + (magnitude.count < 2 ? "0" : "") + magnitude
    }
}
