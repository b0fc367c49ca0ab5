/// The North American coupon codes carried in AIs 8110 and 8112 (GS1 US "North American Coupon Code"
/// and positive offer file guidelines): digit strings of fields, some led by a variable length
/// indicator (VLI) that gives the field's length.
enum CouponCode {
    /// Reads the coupon's digits field by field; each failure names the field.
    private struct Reader {
        let digits: [Int]
        var position = 0
        let invalid: (String) -> GS1Error

        var atEnd: Bool { position == digits.count }

        /// One digit, which must be in `allowed`.
        mutating func digit(_ field: String, allowed: ClosedRange<Int> = 0...9, also: Set<Int> = []) throws(GS1Error) -> Int {
            guard !atEnd else { throw invalid("the coupon code ends before its \(field)") }
            let value = digits[position]
            guard allowed.contains(value) || also.contains(value) else { throw invalid("\(value) is not a valid \(field)") }
            position += 1
            return value
        }

        /// `count` digits of a field.
        mutating func skip(_ count: Int, _ field: String) throws(GS1Error) -> ArraySlice<Int> {
            guard digits.count - position >= count else { throw invalid("the coupon code's \(field) is shorter than \(count) digits") }
            defer { position += count }
            return digits[position..<(position + count)]
        }

        /// A VLI digit (in `allowed`) and the field of `vli + offset` digits it announces.
        mutating func lengthPrefixed(_ field: String, allowed: ClosedRange<Int>, offset: Int) throws(GS1Error) -> ArraySlice<Int> {
            let vli = try digit("\(field) length indicator", allowed: allowed)
            return try skip(vli + offset, field)
        }

        /// A company prefix field: a VLI 0-6 (length VLI + 6; `none` for "not present"), four digits at least.
        mutating func companyPrefix(_ field: String, allowed: ClosedRange<Int> = 0...6, none: Int? = nil) throws(GS1Error) {
            let vli = try digit("\(field) length indicator", allowed: allowed, also: none.map { [$0] } ?? [])
            if vli == none { return }
            _ = try skip(vli + 6, field)
        }

        /// A YYMMDD date.
        mutating func date(_ field: String) throws(GS1Error) -> [Int] {
            let date = Array(try skip(6, field))
            let number = { (range: Range<Int>) in date[range].reduce(0) { $0 * 10 + $1 } }
            guard ApplicationIdentifier.isDate(year: 2000 + number(0..<2), month: number(2..<4), day: number(4..<6), dayMayBeZero: false) else {
                throw invalid("the coupon's \(field) is not a valid date YYMMDD")
            }
            return date
        }

        /// A purchase requirement: VLI 1-5 and value, a code 0-4 or 9, a three-digit family code.
        mutating func purchaseRequirement(_ ordinal: String) throws(GS1Error) {
            _ = try lengthPrefixed("\(ordinal) purchase requirement", allowed: 1...5, offset: 0)
            _ = try digit("\(ordinal) purchase requirement code", allowed: 0...4, also: [9])
            _ = try skip(3, "\(ordinal) purchase family code")
        }

        mutating func optionalField(_ indicator: Int) -> Bool {
            guard !atEnd, digits[position] == indicator else { return false }
            position += 1
            return true
        }
    }

    private static func digits(_ bytes: [UInt8], invalid: @escaping (String) -> GS1Error) throws(GS1Error) -> Reader {
        guard bytes.allSatisfy(ApplicationIdentifier.isDigit) else { throw invalid("a coupon code holds digits only") }
        return Reader(digits: bytes.map { Int($0) - 0x30 }, invalid: invalid)
    }

    /// AI 8110: company prefix, offer code, save value, first purchase requirement, then optional fields
    /// 1 (additional rules and second purchase), 2 (third purchase), 3 (expiry), 4 (start), 5 (serial),
    /// 6 (retailer), 9 (miscellaneous), each at most once and in that order.
    static func validateNACC(_ bytes: [UInt8], invalid: @escaping (String) -> GS1Error) throws(GS1Error) {
        var reader = try digits(bytes, invalid: invalid)
        try reader.companyPrefix("company prefix")
        _ = try reader.skip(6, "offer code")
        _ = try reader.lengthPrefixed("save value", allowed: 1...5, offset: 0)
        try reader.purchaseRequirement("first")
        if reader.optionalField(1) {
            _ = try reader.digit("additional purchase rules code", allowed: 0...3)
            try reader.purchaseRequirement("second")
            try reader.companyPrefix("second purchase company prefix", none: 9)
        }
        if reader.optionalField(2) {
            try reader.purchaseRequirement("third")
            try reader.companyPrefix("third purchase company prefix", none: 9)
        }
        var expiry: [Int]?
        if reader.optionalField(3) { expiry = try reader.date("expiration date") }
        if reader.optionalField(4) {
            let start = try reader.date("start date")
            if let expiry, start.lexicographicallyPrecedes(expiry) == false, start != expiry {
                throw invalid("the coupon's start date is after its expiration date")
            }
        }
        if reader.optionalField(5) { _ = try reader.lengthPrefixed("serial number", allowed: 0...9, offset: 6) }
        if reader.optionalField(6) { try reader.companyPrefix("retailer company prefix or GLN", allowed: 1...7) }
        if reader.optionalField(9) {
            _ = try reader.digit("save value code", allowed: 0...2, also: [5, 6])
            _ = try reader.digit("save value applies-to-item", allowed: 0...2)
            _ = try reader.digit("store coupon flag")
            _ = try reader.digit("don't multiply flag", allowed: 0...1)
        }
        if !reader.atEnd { throw invalid("the coupon code has data after its last field") }
    }

    /// AI 8112: format code 0 or 1, funder ID (VLI 0-6, length + 6), six-digit offer code, serial
    /// number (VLI, length + 6), nothing after.
    static func validatePositiveOffer(_ bytes: [UInt8], invalid: @escaping (String) -> GS1Error) throws(GS1Error) {
        var reader = try digits(bytes, invalid: invalid)
        _ = try reader.digit("format code", allowed: 0...1)
        _ = try reader.lengthPrefixed("funder ID", allowed: 0...6, offset: 6)
        _ = try reader.skip(6, "offer code")
        _ = try reader.lengthPrefixed("serial number", allowed: 0...9, offset: 6)
        if !reader.atEnd { throw invalid("the coupon code has data after its serial number") }
    }
}
