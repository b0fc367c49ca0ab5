extension ApplicationIdentifier {
    /// A rule on a component's content beyond its character set and length (the GS1 Barcode Syntax
    /// Dictionary's linter names, so that the AI table reads as the General Specifications do).
    public enum Check: String, Sendable, Equatable, CaseIterable {
        /// The component ends in a GS1 mod-10 check digit.
        case checkDigit = "csum"
        /// The component ends in two GMN check characters.
        case checkCharacterPair = "csumalpha"
        /// The component starts with a GS1 Company Prefix (at least four digits).
        case companyPrefix = "gcppos1"
        /// A GS1 Company Prefix from the second character (after an indicator or extension digit).
        case companyPrefixAfterFirst = "gcppos2"
        /// The component is the digit 0 (the GRAI filler digit).
        case zero
        /// Two digits of piece number followed by two of total, 1 ≤ piece ≤ total.
        case pieceOfTotal = "pieceoftotal"
        /// A number without leading zeros (CPID serial).
        case noZeroPrefix = "nozeroprefix"
        /// A date YYMMDD where DD may be 00.
        case dateWithOptionalDay = "yymmd0"
        /// A date YYMMDD.
        case date = "yymmdd"
        /// A date YYYYMMDD.
        case fullDate = "yyyymmdd"
        /// A date YYYYMMDD where DD may be 00.
        case fullDateWithOptionalDay = "yyyymmd0"
        /// A time HHMM.
        case time = "hhmi"
        /// Hours 00-23.
        case hour = "hh"
        /// Minutes 00-59.
        case minute = "mi"
        /// Seconds 00-59.
        case second = "ss"
        /// 0 or 1.
        case yesNo = "yesno"
        /// Not all zeros.
        case nonZero = "nonzero"
        /// Contains at least one character that is not a digit.
        case hasNonDigit = "hasnondigit"
        /// Only hyphens (a negative-temperature flag).
        case hyphen
        /// Every `%` starts a valid `%hh` percent-encoding (names and addresses).
        case percentEncoding = "pcenc"
        /// An ISO 3166-1 numeric country code.
        case country = "iso3166"
        /// An ISO 3166-1 numeric country code or 999 (unknown).
        case countryOrUnknown = "iso3166999"
        /// An ISO 3166-1 alpha-2 country code.
        case countryAlpha2 = "iso3166alpha2"
        /// An ISO 4217 numeric currency code.
        case currency = "iso4217"
        /// An ISO/IEC 5218 sex code.
        case sex = "iso5218"
        /// A GS1 AIDC media type.
        case mediaType = "mediatype"
        /// A UN/ECE Recommendation 21 package type code.
        case packageType = "packagetype"
        /// An importer index character of AI 7040.
        case importerIndex = "importeridx"
        /// WGS84 latitude as ten digits, 0 to 1800000000 (offset by 90°).
        case latitude
        /// WGS84 longitude as ten digits, 0 to 3600000000 (offset by 180°).
        case longitude
        /// A roll's winding direction: 0, 1 or 9.
        case winding
        /// `pos/end`: both without leading zeros, pos ≤ end.
        case positionInSequence = "posinseqslash"
        /// An International Bank Account Number (ISO 13616): country, mod-97 check characters.
        case iban
        /// The North American coupon code carried in AI 8110.
        case couponCode = "couponcode"
        /// The positive offer file coupon code carried in AI 8112.
        case couponPositiveOffer = "couponposoffer"
    }

    /// Applies `check` to one component `part` of `value`.
    func apply(_ check: Check, to part: String, value: String, verifyCheckDigits: Bool) throws(GS1Error) {
        let bytes = Array(part.utf8)
        func number(_ range: Range<Int>) -> Int { bytes[range].reduce(0) { $0 * 10 + Int($1) - 0x30 } }
        func invalid(_ reason: String) -> GS1Error { .invalidValue(ai: code, value: value, reason: reason) }
        func member(_ list: Set<String>, _ what: String) throws(GS1Error) {
            if !list.contains(part) { throw invalid("'\(part)' is not \(what)") }
        }
        switch check {
        case .checkDigit:
            guard verifyCheckDigits, !GS1CheckDigit.isValid(part), let expected = GS1CheckDigit.compute(part.dropLast()) else { return }
            throw .invalidCheckDigit(ai: code, value: value, expected: expected)
        case .checkCharacterPair:
            guard verifyCheckDigits else { return }
            guard bytes.count >= 3, let expected = GS1CheckDigit.checkCharacterPair(part.dropLast(2)) else {
                throw invalid("too short for its two check characters")
            }
            if !part.hasSuffix(expected) { throw .invalidCheckCharacters(ai: code, value: value, expected: expected) }
        case .companyPrefix, .companyPrefixAfterFirst:
            let start = check == .companyPrefix ? 0 : 1
            guard bytes.count >= start + 4, bytes[start..<(start + 4)].allSatisfy(Self.isDigit) else {
                throw invalid("it must hold a GS1 Company Prefix (at least four digits) from position \(start + 1)")
            }
        case .zero:
            if part != "0" { throw invalid("the first digit must be 0") }
        case .pieceOfTotal:
            let piece = number(0..<2), total = number(2..<4)
            if piece == 0 || total == 0 || piece > total { throw invalid("piece number \(piece) of total \(total) is impossible") }
        case .noZeroPrefix:
            if bytes.count > 1, bytes[0] == UInt8(ascii: "0") { throw invalid("leading zeros are not allowed") }
        case .dateWithOptionalDay, .date:
            guard Self.isDate(year: 2000 + number(0..<2), month: number(2..<4), day: number(4..<6), dayMayBeZero: check == .dateWithOptionalDay) else {
                throw invalid("'\(part)' is not a valid date YYMMDD")
            }
        case .fullDate, .fullDateWithOptionalDay:
            guard Self.isDate(year: number(0..<4), month: number(4..<6), day: number(6..<8), dayMayBeZero: check == .fullDateWithOptionalDay) else {
                throw invalid("'\(part)' is not a valid date YYYYMMDD")
            }
        case .time:
            if number(0..<2) > 23 || number(2..<4) > 59 { throw invalid("'\(part)' is not a valid time HHMM") }
        case .hour:
            if number(0..<2) > 23 { throw invalid("'\(part)' is not an hour 00-23") }
        case .minute, .second:
            if number(0..<2) > 59 { throw invalid("'\(part)' is not \(check == .minute ? "a minute" : "a second") 00-59") }
        case .yesNo:
            if part != "0" && part != "1" { throw invalid("it must be 0 or 1") }
        case .nonZero:
            if bytes.allSatisfy({ $0 == UInt8(ascii: "0") }) { throw invalid("it must not be zero") }
        case .hasNonDigit:
            if bytes.allSatisfy(Self.isDigit) { throw invalid("it must contain a character that is not a digit") }
        case .hyphen:
            if !bytes.allSatisfy({ $0 == UInt8(ascii: "-") }) { throw invalid("only '-' (a negative value) is allowed after the number") }
        case .percentEncoding:
            var index = 0
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "%") {
                    guard index + 2 < bytes.count, Self.isHexDigit(bytes[index + 1]), Self.isHexDigit(bytes[index + 2]) else {
                        throw invalid("'%' must start a percent-encoding %hh with two hexadecimal digits")
                    }
                    index += 3
                } else {
                    index += 1
                }
            }
        case .country: try member(GS1CodeLists.countriesNumeric, "an ISO 3166 numeric country code")
        case .countryOrUnknown:
            if part != "999" { try member(GS1CodeLists.countriesNumeric, "an ISO 3166 numeric country code or 999") }
        case .countryAlpha2: try member(GS1CodeLists.countriesAlpha2, "an ISO 3166 two-letter country code")
        case .currency: try member(GS1CodeLists.currenciesNumeric, "an ISO 4217 numeric currency code")
        case .sex: try member(GS1CodeLists.sexes, "an ISO/IEC 5218 sex code (0, 1, 2 or 9)")
        case .mediaType: try member(GS1CodeLists.aidcMediaTypes, "a GS1 AIDC media type")
        case .packageType: try member(GS1CodeLists.packageTypes, "a UN/ECE Recommendation 21 package type code")
        case .importerIndex:
            guard bytes.count == 1, Self.isDigit(bytes[0]) || Self.isLetter(bytes[0]) || bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "_") else {
                throw invalid("'\(part)' is not an importer index (0-9, A-Z, a-z, '-' or '_')")
            }
        case .latitude:
            if number(0..<10) > 1_800_000_000 { throw invalid("latitude '\(part)' is outside 0000000000...1800000000") }
        case .longitude:
            if number(0..<10) > 3_600_000_000 { throw invalid("longitude '\(part)' is outside 0000000000...3600000000") }
        case .winding:
            if part != "0" && part != "1" && part != "9" { throw invalid("the winding direction must be 0, 1 or 9") }
        case .positionInSequence:
            try checkPositionInSequence(part, invalid: invalid)
        case .iban:
            try checkIBAN(bytes, invalid: invalid)
        case .couponCode:
            try CouponCode.validateNACC(bytes, invalid: invalid)
        case .couponPositiveOffer:
            try CouponCode.validatePositiveOffer(bytes, invalid: invalid)
        }
    }

    private func checkPositionInSequence(_ part: String, invalid: (String) -> GS1Error) throws(GS1Error) {
        let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, pieces.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Self.isDigit) }) else {
            throw invalid("it must have the form <position>/<end>")
        }
        guard pieces.allSatisfy({ $0.first != "0" }) else { throw invalid("position and end must not start with 0") }
        if Int(pieces[0])! > Int(pieces[1])! { throw invalid("the position must not exceed the end") }
    }

    private func checkIBAN(_ bytes: [UInt8], invalid: (String) -> GS1Error) throws(GS1Error) {
        guard bytes.count >= 4 else { throw invalid("an IBAN is longer than \(bytes.count) characters") }
        guard GS1CodeLists.countriesAlpha2.contains(String(decoding: bytes[0..<2], as: UTF8.self)) else {
            throw invalid("an IBAN starts with an ISO 3166 two-letter country code")
        }
        guard bytes.count <= 34 else { throw invalid("an IBAN has at most 34 characters") }
        guard bytes.count > 10 else { throw invalid("an IBAN is longer than \(bytes.count) characters") }
        var remainder = 0
        for byte in bytes[4...] + bytes[0..<4] {
            if Self.isDigit(byte) {
                remainder = (remainder * 10 + Int(byte - 0x30)) % 97
            } else if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") {
                remainder = (remainder * 100 + Int(byte - UInt8(ascii: "A")) + 10) % 97
            } else {
                throw invalid("an IBAN holds only digits and capital letters")
            }
        }
        if remainder != 1 { throw invalid("the IBAN's check characters are wrong") }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "f")) }

    /// Whether the date exists in the Gregorian calendar (day 0 meaning "no day" when allowed).
    static func isDate(year: Int, month: Int, day: Int, dayMayBeZero: Bool) -> Bool {
        guard (1...12).contains(month) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (dayMayBeZero ? 0 : 1)...days ~= day
    }
}
