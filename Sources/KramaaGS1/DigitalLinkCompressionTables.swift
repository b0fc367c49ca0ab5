/// The tables of the GS1 Digital Link compression format (GS1 "Digital Link: compression" technical
/// note, as implemented by gs1/GS1DigitalLinkCompressionPrototype and used by digital-link.js):
/// how each AI value is laid out in bits, how long an AI is from its first two digits, and the
/// optimisation codes that stand for common sequences of AIs.
enum DigitalLinkCompressionTables {
    /// One part of an AI value as the compression format encodes it.
    enum Component: Equatable, CustomStringConvertible {
        /// Exactly `length` digits, as one binary number without a length field.
        case fixedNumeric(length: Int)
        /// Up to `maximum` digits: a length field, then the digits as one binary number.
        case variableNumeric(maximum: Int)
        /// Exactly `length` characters: a 3-bit encoding indicator, then the characters.
        case fixedAlphanumeric(length: Int)
        /// Up to `maximum` characters: a 3-bit encoding indicator, a length field, then the characters.
        case variableAlphanumeric(maximum: Int)

        var description: String {
            switch self {
            case .fixedNumeric(let length): return "N\(length)"
            case .variableNumeric(let maximum): return "N..\(maximum)"
            case .fixedAlphanumeric(let length): return "X\(length)"
            case .variableAlphanumeric(let maximum): return "X..\(maximum)"
            }
        }
    }

    /// Where the compression format's table splits a value differently from the AI's General
    /// Specifications format (the compression table predates later format changes; the bit layout
    /// must follow it for compressed links to interoperate).
    static let formatOverrides: [String: [Component]] = {
        var overrides: [String: [Component]] = [
            "423": [.fixedNumeric(length: 3), .variableNumeric(maximum: 12)],
            "425": [.fixedNumeric(length: 3), .variableNumeric(maximum: 12)],
            "8007": [.variableAlphanumeric(maximum: 24)],
            // The prototype reads PROD TIME as YYMMDDHH and up to four digits of minutes and seconds.
            "8008": [.fixedNumeric(length: 8), .variableNumeric(maximum: 4)],
        ]
        for code in 7230...7239 { overrides[String(code)] = [.variableAlphanumeric(maximum: 30)] }
        return overrides
    }()

    /// The compression layout of `ai`'s value: the override if there is one, otherwise derived from the
    /// AI's format. Adjacent fixed-length numeric parts merge into one number (N1 N13 of a GRAI is one
    /// N14); optional parts are variable-length, since they may be absent.
    static func format(of ai: ApplicationIdentifier) -> [Component] {
        if let override = formatOverrides[ai.code] { return override }
        var layout: [Component] = []
        for part in ai.components {
            let numeric = part.characterSet == .numeric
            let fixed = !part.isOptional && part.minimumLength == part.maximumLength
            switch (numeric, fixed, layout.last) {
            case (true, true, .fixedNumeric(let length)?):
                layout[layout.count - 1] = .fixedNumeric(length: length + part.maximumLength)
            case (true, true, _):
                layout.append(.fixedNumeric(length: part.maximumLength))
            case (true, false, _):
                layout.append(.variableNumeric(maximum: part.maximumLength))
            case (false, true, _):
                layout.append(.fixedAlphanumeric(length: part.maximumLength))
            case (false, false, _):
                layout.append(.variableAlphanumeric(maximum: part.maximumLength))
            }
        }
        return layout
    }

    /// AI length by its first two digits (all AIs sharing two leading digits have the same length).
    static let aiLengthByPrefix: [String: Int] = {
        var lengths: [String: Int] = [:]
        for ai in ApplicationIdentifier.all {
            lengths[String(ai.code.prefix(2))] = ai.code.utf8.count
        }
        return lengths
    }()

    /// The optimisation codes: two hex digits outside 00-99 standing for a sequence of AIs whose values
    /// follow one another without their AI digits. `F` as first digit is reserved for non-GS1 query
    /// parameters. Listed in the table's order, which decides between equally good candidates.
    static let optimisations: [(code: String, ais: [String])] = [
        ("0A", ["01", "22"]), ("0B", ["01", "10"]), ("0C", ["01", "21"]), ("0D", ["01", "17"]),
        ("0E", ["01", "7003"]), ("0F", ["01", "30"]),
        ("1A", ["01", "10", "21", "17"]), ("1B", ["01", "15"]), ("1C", ["01", "11"]), ("1D", ["01", "16"]),
        ("1E", ["01", "91"]), ("1F", ["01", "10", "15"]),
        ("2A", ["01", "3100"]), ("2B", ["01", "3101"]), ("2C", ["01", "3102"]), ("2D", ["01", "3103"]),
        ("2E", ["01", "3104"]), ("2F", ["01", "3105"]),
        ("3A", ["01", "3200"]), ("3B", ["01", "3201"]), ("3C", ["01", "3202"]), ("3D", ["01", "3203"]),
        ("3E", ["01", "3204"]), ("3F", ["01", "3205"]),
        ("9A", ["8010", "8011"]), ("9B", ["8017", "8019"]), ("9C", ["8018", "8019"]), ("9D", ["414", "254"]),
    ] + (0...9).map { ("A\($0)", ["01", "392\($0)"]) }
      + (0...9).map { ("C\($0)", ["255", "390\($0)"]) }
      + (0...3).map { ("C" + ["A", "B", "C", "D"][$0], ["255", "394\($0)"]) }

    static let optimisationsByCode: [String: [String]] = Dictionary(uniqueKeysWithValues: optimisations.map { ($0.code, $0.ais) })

    /// The URI-safe base64 alphabet in which the bits are written (6 bits per character).
    static let base64URL: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Character to 6-bit value, -1 for characters outside the alphabet.
    static let base64URLValues: [Int8] = {
        var values = [Int8](repeating: -1, count: 256)
        for (index, byte) in base64URL.enumerated() { values[Int(byte)] = Int8(index) }
        return values
    }()

    /// Bits of a length field for values of at most `maximum` characters: the note's
    /// ⌈log2(maximum) + 0.01⌉, which for every maximum below 128 is the bit width of `maximum`.
    static func lengthBits(maximum: Int) -> Int {
        Int.bitWidth - maximum.leadingZeroBitCount
    }

    /// Bits of a number of `digits` decimal digits: the note's ⌈digits · log2(10) + 0.01⌉.
    static func valueBits(digits: Int) -> Int {
        let bits = Double(digits) * 3.3219280948873626 + 0.01
        let whole = Int(bits)
        return Double(whole) == bits ? whole : whole + 1
    }
}
