/// GS1 Digital Link compression (GS1 "Digital Link: compression" technical note, the algorithm of
/// gs1/GS1DigitalLinkCompressionPrototype as digital-link.js uses it): the AIs of a Digital Link, and
/// optionally its other query parameters, packed into bits and written as one base64url path segment,
/// e.g. `https://id.gs1.org/01/09780345418913/21/43786?foo=bar` ⇄ `https://id.gs1.org/DBHKVAdpQgqrCvBv0UMG21W`.
///
/// Each entry is an AI (one 4-bit digit each) or an optimisation code (two hex digits standing for a
/// common AI sequence) followed by the values in the AI's compression layout; a non-GS1 parameter is
/// `F`, a 7-bit name length, the name in 6-bit characters and its value. Alphanumeric values carry a
/// 3-bit indicator of the densest encoding that fits (digits as one binary number, hex, base64url or
/// 7-bit ASCII).
///
/// Where digital-link.js loses data this implementation does not: numeric text keeps its leading zeros,
/// long numbers keep every digit, values of AIs such as GDTI (253) or GRAI (8003) whose layout mixes
/// numeric and alphanumeric parts are not garbled, a path prefix and a fragment are kept, and query
/// parameters that cannot be packed (names outside base64url, non-ASCII values) stay in the query string.
public enum DigitalLinkCompression {
    /// The switches of digital-link.js `compressWebUri` and of the prototype's element-string compressor.
    public struct Options: Sendable, Equatable {
        /// Replace common AI sequences (such as GTIN + lot + best-before) by a two-hex-digit code.
        public var useOptimisations: Bool
        /// Pack non-GS1 query parameters (such as `linkType`) into the compressed segment; otherwise they
        /// stay in the query string.
        public var compressOtherKeyValuePairs: Bool
        /// Keep the primary key readable in the path (`/01/<GTIN>/<compressed rest>`).
        public var uncompressedPrimaryKey: Bool

        public init(useOptimisations: Bool = true, compressOtherKeyValuePairs: Bool = true, uncompressedPrimaryKey: Bool = false) {
            self.useOptimisations = useOptimisations
            self.compressOtherKeyValuePairs = compressOtherKeyValuePairs
            self.uncompressedPrimaryKey = uncompressedPrimaryKey
        }
    }

    /// Compresses a Digital Link URI, read as digital-link.js reads it (short names, GTIN-8/12/13 padded
    /// to GTIN-14, a trailing slash allowed); values and check digits are verified.
    public static func compress(_ uri: String, options: Options = Options()) throws(GS1Error) -> String {
        try compress(DigitalLink.parse(uri, options: .digitalLinkJS), options: options)
    }

    /// Compresses `link` under its own stem.
    public static func compress(_ link: DigitalLink, options: Options = Options()) throws(GS1Error) -> String {
        var packed: [DigitalLink.QueryParameter] = []
        var kept: [DigitalLink.QueryParameter] = []
        for parameter in link.otherParameters {
            if options.compressOtherKeyValuePairs, canPack(parameter) { packed.append(parameter) } else { kept.append(parameter) }
        }
        let ais = [link.primaryKey] + link.keyQualifiers + link.dataAttributes
        var out: String
        if options.uncompressedPrimaryKey {
            out = DigitalLink(stem: link.stem, primaryKey: link.primaryKey).uri()
            if ais.count > 1 || !packed.isEmpty {
                out += "/" + (try encode(Array(ais.dropFirst()), otherParameters: packed, useOptimisations: options.useOptimisations))
            }
        } else {
            out = link.stem + "/" + (try encode(ais, otherParameters: packed, useOptimisations: options.useOptimisations))
        }
        out += DigitalLink.queryString(kept)
        if let fragment = link.fragment { out += "#" + fragment }
        return out
    }

    /// Decompresses a fully or partially compressed Digital Link into the uncompressed URI under the same
    /// stem: key qualifiers in the path, AI attributes in digital-link.js order (ascending AI number), then
    /// the other parameters. `shortNames` writes `/gtin/`, `/lot/`, … as digital-link.js can.
    public static func decompress(_ uri: String, shortNames: Bool = false) throws(GS1Error) -> String {
        try decompressedLink(uri).uri(shortNames: shortNames)
    }

    /// The Digital Link a compressed URI stands for, with every value verified.
    public static func decompressedLink(_ uri: String) throws(GS1Error) -> DigitalLink {
        let parts = try URIParts.split(uri)
        if (try? DigitalLink.parse(uri, options: .digitalLinkJS)) != nil {
            throw .malformedCompressedDigitalLink(uri, reason: .notCompressed)
        }
        var path = parts.path
        if path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        var segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard let segment = segments.popLast(), !segment.isEmpty,
              segment.utf8.allSatisfy({ DigitalLinkCompressionTables.base64URLValues[Int($0)] >= 0 }) else {
            throw .malformedCompressedDigitalLink(uri, reason: .notCompressed)
        }
        var values: [AIValue] = []
        if segments.count >= 2,
           let ai = DigitalLinkSyntax.lookup(segments[segments.count - 2], convenienceAlphas: true, permitUnknownAIs: false), ai.isPrimaryKey {
            let key = try DigitalLink.parse(parts.domain + "/" + segments.suffix(2).joined(separator: "/"), options: .digitalLinkJS)
            values.append(key.primaryKey)
            segments.removeLast(2)
        }
        let decoded = try decode(segment)
        values += decoded.ais
        var others: [DigitalLink.QueryParameter] = []
        for (name, written) in parts.query {
            let value = written.map { URIPercentEncoding.unescape($0, in: .query) ?? $0 }
            if let value, name.isAllDigits { values.append(AIValue(name, value)) } else { others.append(.init(name: name, value: value)) }
        }
        let stem = parts.domain + segments.map { "/" + $0 }.joined()
        var link = try DigitalLink(elementString: GS1ElementString(values), stem: stem)
        link.dataAttributes = attributesInDigitalLinkJSOrder(link.dataAttributes)
        link.otherParameters = others + decoded.otherParameters
        link.fragment = parts.fragment
        return link
    }

    /// Whether `uri` is a compressed Digital Link that decompresses to a valid one (digital-link.js
    /// `isCompressedWebUri`); false for uncompressed Digital Links and anything else.
    public static func isCompressed(_ uri: String) -> Bool {
        (try? decompressedLink(uri)) != nil
    }

    /// The compressed segment (base64url, no `/`) for AI values and non-GS1 parameters, in the format's
    /// entry order: optimised sequences first, then the other AIs in ascending order, then the parameters.
    public static func encode(_ ais: [AIValue], otherParameters: [DigitalLink.QueryParameter] = [],
                              useOptimisations: Bool = true) throws(GS1Error) -> String {
        var remaining = ais.sorted { $0.ai < $1.ai }
        var writer = BitWriter()
        if useOptimisations {
            while let best = bestOptimisation(for: remaining) {
                for digit in best.code.utf8 { writer.write(Int(URIPercentEncoding.hexValue(digit)!), bits: 4) }
                for code in best.ais {
                    let index = remaining.firstIndex { $0.ai == code }!
                    try writeValue(remaining.remove(at: index), into: &writer)
                }
            }
        }
        for value in remaining {
            guard (2...4).contains(value.ai.utf8.count), value.ai.isAllDigits else { throw .unknownAI(value.ai) }
            for digit in value.ai.utf8 { writer.write(Int(digit - 0x30), bits: 4) }
            try writeValue(value, into: &writer)
        }
        for parameter in otherParameters {
            guard canPack(parameter), let value = parameter.value else {
                throw .notCompressible(parameter.name, reason: "a packed parameter needs a base64url name and a value of at most 127 ASCII characters")
            }
            writer.write(0xF, bits: 4)
            writer.write(parameter.name.utf8.count, bits: 7)
            for byte in parameter.name.utf8 { writer.write(Int(DigitalLinkCompressionTables.base64URLValues[Int(byte)]), bits: 6) }
            writeCharacters(Array(value.utf8)[...], lengthBits: 7, into: &writer)
        }
        return writer.base64URL
    }

    /// The AI values (verified against their AIs) and non-GS1 parameters packed in a compressed segment.
    public static func decode(_ segment: some StringProtocol) throws(GS1Error) -> (ais: [AIValue], otherParameters: [DigitalLink.QueryParameter]) {
        var ais: [AIValue] = []
        var others: [DigitalLink.QueryParameter] = []
        do throws(GS1Error.CompressionProblem) {
            var reader = try BitReader(base64URL: Substring(segment))
            while reader.remaining > 8 {
                let high = try reader.read(bits: 4), low = try reader.read(bits: 4)
                if high <= 9, low <= 9 {
                    ais.append(try readAI(firstDigits: "\(high)\(low)", from: &reader))
                } else if high == 0xF {
                    others.append(try readParameter(lengthHigh: low, from: &reader))
                } else {
                    let code = String(decoding: [hexDigits[high], hexDigits[low]], as: UTF8.self)
                    guard let sequence = DigitalLinkCompressionTables.optimisationsByCode[code] else { throw .unknownOptimisation(code) }
                    for ai in sequence {
                        ais.append(AIValue(ai, try readValue(of: ApplicationIdentifier.lookup(ai)!, from: &reader)))
                    }
                }
            }
            guard !ais.isEmpty || !others.isEmpty else { throw .empty }
            guard reader.remaining < 6, reader.restIsZero else { throw .trailingData }
        } catch {
            throw .malformedCompressedDigitalLink(String(segment), reason: error)
        }
        for value in ais { try ApplicationIdentifier.lookup(value.ai)!.validate(value.value) }
        return (ais, others)
    }

    // MARK: - Encoding

    /// The optimisation saving the most AI digits among those whose AIs are all in `values` (the first in
    /// table order among equals), or nil.
    private static func bestOptimisation(for values: [AIValue]) -> (code: String, ais: [String])? {
        var best: (code: String, ais: [String])?
        var bestDigits = 0
        for candidate in DigitalLinkCompressionTables.optimisations
        where candidate.ais.allSatisfy({ ai in values.contains { $0.ai == ai } }) {
            let digits = candidate.ais.reduce(0) { $0 + $1.utf8.count }
            if digits > bestDigits {
                best = candidate
                bestDigits = digits
            }
        }
        return best
    }

    /// Whether a non-GS1 parameter fits the packed form: a 1-127 character base64url name and a value of
    /// at most 127 ASCII characters.
    static func canPack(_ parameter: DigitalLink.QueryParameter) -> Bool {
        guard let value = parameter.value else { return false }
        let name = parameter.name.utf8
        return (1...127).contains(name.count) && name.allSatisfy { DigitalLinkCompressionTables.base64URLValues[Int($0)] >= 0 }
            && value.utf8.count <= 127 && value.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Writes `value.value` in its AI's compression layout.
    private static func writeValue(_ value: AIValue, into writer: inout BitWriter) throws(GS1Error) {
        guard let ai = ApplicationIdentifier.lookup(value.ai) else { throw .unknownAI(value.ai) }
        let bytes = Array(value.value.utf8)
        var offset = 0
        func unfit(_ reason: String) -> GS1Error { .notCompressible("(\(value.ai))\(value.value)", reason: reason) }
        for component in DigitalLinkCompressionTables.format(of: ai) {
            let rest = bytes.count - offset
            switch component {
            case .fixedNumeric(let length), .fixedAlphanumeric(let length):
                guard rest >= length else { throw unfit("it is shorter than its \(component) part") }
            case .variableNumeric(let maximum), .variableAlphanumeric(let maximum):
                guard rest <= maximum else { throw unfit("its last part is longer than \(component)") }
            }
            switch component {
            case .fixedNumeric(let length):
                guard let bits = DecimalBits.bits(ofDigits: bytes[offset..<(offset + length)], width: DigitalLinkCompressionTables.valueBits(digits: length)) else {
                    throw unfit("its \(component) part is not all digits")
                }
                writer.append(bits)
                offset += length
            case .variableNumeric(let maximum):
                guard let bits = DecimalBits.bits(ofDigits: bytes[offset...], width: DigitalLinkCompressionTables.valueBits(digits: rest)) else {
                    throw unfit("its \(component) part is not all digits")
                }
                writer.write(rest, bits: DigitalLinkCompressionTables.lengthBits(maximum: maximum))
                writer.append(bits)
                offset = bytes.count
            case .fixedAlphanumeric(let length):
                guard bytes[offset..<(offset + length)].allSatisfy({ $0 < 0x80 }) else { throw unfit("it is not ASCII") }
                writeCharacters(bytes[offset..<(offset + length)], lengthBits: 0, into: &writer)
                offset += length
            case .variableAlphanumeric(let maximum):
                guard bytes[offset...].allSatisfy({ $0 < 0x80 }) else { throw unfit("it is not ASCII") }
                writeCharacters(bytes[offset...], lengthBits: DigitalLinkCompressionTables.lengthBits(maximum: maximum), into: &writer)
                offset = bytes.count
            }
        }
        if offset != bytes.count { throw unfit("it is longer than its compression layout") }
    }

    /// Writes ASCII text: the 3-bit indicator of the densest encoding that fits, the length (if
    /// `lengthBits` > 0) and the characters.
    private static func writeCharacters(_ text: ArraySlice<UInt8>, lengthBits: Int, into writer: inout BitWriter) {
        let encoding = CharacterEncoding.densest(for: text)
        writer.write(encoding.rawValue, bits: 3)
        if lengthBits > 0 { writer.write(text.count, bits: lengthBits) }
        switch encoding {
        case .digits:
            writer.append(DecimalBits.bits(ofDigits: text, width: DigitalLinkCompressionTables.valueBits(digits: text.count))!)
        case .lowerHex, .upperHex:
            for byte in text { writer.write(Int(URIPercentEncoding.hexValue(byte)!), bits: 4) }
        case .base64URL:
            for byte in text { writer.write(Int(DigitalLinkCompressionTables.base64URLValues[Int(byte)]), bits: 6) }
        case .ascii:
            for byte in text { writer.write(Int(byte), bits: 7) }
        }
    }

    // MARK: - Decoding

    private static func readAI(firstDigits: String, from reader: inout BitReader) throws(GS1Error.CompressionProblem) -> AIValue {
        guard let length = DigitalLinkCompressionTables.aiLengthByPrefix[firstDigits] else { throw .unknownAIPrefix(firstDigits) }
        var code = firstDigits
        for _ in 2..<length {
            let digit = try reader.read(bits: 4)
            code.append(Character(Unicode.Scalar(hexDigits[digit])))
            guard digit <= 9 else { throw .nonDigitInAI(code) }
        }
        guard let ai = ApplicationIdentifier.lookup(code) else { throw .unknownAI(code) }
        return AIValue(code, try readValue(of: ai, from: &reader))
    }

    private static func readValue(of ai: ApplicationIdentifier, from reader: inout BitReader) throws(GS1Error.CompressionProblem) -> String {
        var value = ""
        for component in DigitalLinkCompressionTables.format(of: ai) {
            switch component {
            case .fixedNumeric(let length):
                value += try readNumber(digits: length, from: &reader)
            case .variableNumeric(let maximum):
                let length = try reader.read(bits: DigitalLinkCompressionTables.lengthBits(maximum: maximum))
                value += try readNumber(digits: length, from: &reader)
            case .fixedAlphanumeric(let length):
                value += try readCharacters(lengthBits: 0, fixedLength: length, from: &reader)
            case .variableAlphanumeric(let maximum):
                value += try readCharacters(lengthBits: DigitalLinkCompressionTables.lengthBits(maximum: maximum), fixedLength: 0, from: &reader)
            }
        }
        return value
    }

    private static func readParameter(lengthHigh: Int, from reader: inout BitReader) throws(GS1Error.CompressionProblem) -> DigitalLink.QueryParameter {
        let nameLength = lengthHigh << 3 | (try reader.read(bits: 3))
        guard nameLength > 0 else { throw .emptyParameterName }
        var name: [UInt8] = []
        for _ in 0..<nameLength { name.append(DigitalLinkCompressionTables.base64URL[try reader.read(bits: 6)]) }
        let value = try readCharacters(lengthBits: 7, fixedLength: 0, from: &reader)
        return .init(name: String(decoding: name, as: UTF8.self), value: value)
    }

    private static func readNumber(digits: Int, from reader: inout BitReader) throws(GS1Error.CompressionProblem) -> String {
        let bits = try reader.take(bits: DigitalLinkCompressionTables.valueBits(digits: digits))
        guard let number = DecimalBits.digits(of: bits, digitCount: digits) else { throw .numberTooLarge(digits: digits) }
        return number
    }

    private static func readCharacters(lengthBits: Int, fixedLength: Int, from reader: inout BitReader) throws(GS1Error.CompressionProblem) -> String {
        let indicator = try reader.read(bits: 3)
        guard let encoding = CharacterEncoding(rawValue: indicator) else { throw .invalidEncoding(indicator) }
        let count = lengthBits > 0 ? try reader.read(bits: lengthBits) : fixedLength
        var text: [UInt8] = []
        text.reserveCapacity(count)
        switch encoding {
        case .digits:
            return try readNumber(digits: count, from: &reader)
        case .lowerHex, .upperHex:
            let lowerCase: UInt8 = encoding == .lowerHex ? 0x20 : 0
            for _ in 0..<count {
                let digit = try reader.read(bits: 4)
                text.append(digit > 9 ? hexDigits[digit] | lowerCase : hexDigits[digit])
            }
        case .base64URL:
            for _ in 0..<count { text.append(DigitalLinkCompressionTables.base64URL[try reader.read(bits: 6)]) }
        case .ascii:
            for _ in 0..<count { text.append(UInt8(try reader.read(bits: 7))) }
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// digital-link.js orders the AI attributes of a decompressed link as JavaScript orders object keys:
    /// AIs without a leading zero by number, then the others as they came.
    private static func attributesInDigitalLinkJSOrder(_ attributes: [AIValue]) -> [AIValue] {
        let numbered = attributes.filter { !$0.ai.hasPrefix("0") }.sorted { Int($0.ai)! < Int($1.ai)! }
        return numbered + attributes.filter { $0.ai.hasPrefix("0") }
    }

    /// The encoding indicator of alphanumeric text.
    enum CharacterEncoding: Int {
        /// All digits, written as one binary number.
        case digits = 0
        /// `0-9 a-f`, 4 bits each.
        case lowerHex = 1
        /// `0-9 A-F`, 4 bits each.
        case upperHex = 2
        /// `A-Z a-z 0-9 - _`, 6 bits each.
        case base64URL = 3
        /// Any ASCII, 7 bits each.
        case ascii = 4

        /// The densest encoding for `text` (ASCII only); 7-bit ASCII for empty text.
        static func densest(for text: ArraySlice<UInt8>) -> CharacterEncoding {
            guard !text.isEmpty else { return .ascii }
            if text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return .digits }
            if text.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) }) { return .upperHex }
            if text.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) { return .lowerHex }
            if text.allSatisfy({ DigitalLinkCompressionTables.base64URLValues[Int($0)] >= 0 }) { return .base64URL }
            return .ascii
        }
    }
}

extension DigitalLink {
    /// This link compressed (see `DigitalLinkCompression`).
    public func compressed(options: DigitalLinkCompression.Options = .init()) throws(GS1Error) -> String {
        try DigitalLinkCompression.compress(self, options: options)
    }

    /// The Digital Link a fully or partially compressed URI stands for.
    public init(compressed uri: String) throws(GS1Error) {
        self = try DigitalLinkCompression.decompressedLink(uri)
    }
}
