/// Why a JSON document could not be parsed, and where (byte offset into the input).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The input ended inside a value (or was empty).
        case unexpectedEnd
        /// A byte that cannot start or continue a value here.
        case unexpectedCharacter(UInt8)
        /// A number that breaks the JSON grammar (`01`, `1.`, `-`, `1e`).
        case invalidNumber
        /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
        case invalidEscape
        /// A raw control character (below U+0020) inside a string.
        case controlCharacterInString
        /// Arrays and objects nested deeper than the limit.
        case tooDeep(limit: Int)
        /// Something other than whitespace after the document.
        case trailingData
        /// Bytes inside a string that are not UTF-8 (RFC 8259 §8.1: JSON text is UTF-8).
        case invalidUTF8
    }

    public var reason: Reason
    public var offset: Int

    public var description: String {
        switch reason {
        case .unexpectedEnd: "unexpected end of JSON input"
        case .unexpectedCharacter(let byte): "invalid character \(Self.quote(byte)) at offset \(offset)"
        case .invalidNumber: "invalid number at offset \(offset)"
        case .invalidEscape: "invalid escape in string at offset \(offset)"
        case .controlCharacterInString: "invalid control character in string at offset \(offset)"
        case .tooDeep(let limit): "exceeded max depth of \(limit) at offset \(offset)"
        case .trailingData: "invalid character after top-level value at offset \(offset)"
        case .invalidUTF8: "invalid UTF-8 in string at offset \(offset): send the text encoded as UTF-8"
        }
    }

    private static func quote(_ byte: UInt8) -> String {
        (0x20..<0x7f).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
    }
}

/// A recursive-descent JSON parser over raw bytes (RFC 8259), used through `JSON.parse`.
///
/// It reads straight from the request buffer: strings without escapes become `String`s in one
/// copy, numbers keep their text. Bytes that are not UTF-8 are refused (``JSONParseError/Reason/invalidUTF8``)
/// rather than replaced by U+FFFD as Go's encoding/json does: a replaced character would make two
/// different inputs read as the same text (and hash, sign or compare as the same).
struct JSONParser {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private let maxDepth: Int

    init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw error(.trailingData) }
        return value
    }

    private func error(_ reason: JSONParseError.Reason, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(reason: reason, offset: offset ?? position)
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0a, 0x0d, 0x09: position += 1
            default: return
            }
        }
    }

    /// The next non-whitespace byte, not consumed.
    @inline(__always)
    private mutating func peek() throws(JSONParseError) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw error(.unexpectedEnd) }
        return bytes[position]
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSON {
        switch try peek() {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "{"):
            return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["):
            return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard let end = Self.numberEnd(bytes, from: position) else {
                throw error(.invalidNumber)
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
            position = end
            return .number(JSONNumber(validatedText: text))
        case let byte:
            throw error(.unexpectedCharacter(byte))
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for i in 0..<count {
            guard position + i < bytes.count else { throw error(.unexpectedEnd, at: bytes.count) }
            guard bytes[position + i] == start[i] else { throw error(.unexpectedCharacter(bytes[position + i]), at: position + i) }
        }
        position += count
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> [JSON] {
        guard depth <= maxDepth else { throw error(.tooDeep(limit: maxDepth)) }
        position += 1  // [
        var elements: [JSON] = []
        if try peek() == UInt8(ascii: "]") {
            position += 1
            return elements
        }
        while true {
            elements.append(try parseValue(depth: depth))
            let next = try peek()
            position += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "]") { return elements }
            throw error(.unexpectedCharacter(next), at: position - 1)
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONObject {
        guard depth <= maxDepth else { throw error(.tooDeep(limit: maxDepth)) }
        position += 1  // {
        var object = JSONObject()
        if try peek() == UInt8(ascii: "}") {
            position += 1
            return object
        }
        while true {
            let quote = try peek()
            guard quote == UInt8(ascii: "\"") else { throw error(.unexpectedCharacter(quote)) }
            let key = try parseString()
            let colon = try peek()
            guard colon == UInt8(ascii: ":") else { throw error(.unexpectedCharacter(colon)) }
            position += 1
            object[key] = try parseValue(depth: depth)
            let next = try peek()
            position += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "}") { return object }
            throw error(.unexpectedCharacter(next), at: position - 1)
        }
    }

    /// Parses a string starting at the opening quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        position += 1  // opening quote
        let start = position
        var ascii = true
        // Fast path: no escapes, one copy into the String.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                if !ascii { try checkUTF8(start..<position) }
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error(.controlCharacterInString) }
            if byte >= 0x80 { ascii = false }
            position += 1
        }
        guard position < bytes.count else { throw error(.unexpectedEnd) }
        if !ascii { try checkUTF8(start..<position) }
        var decoded = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        var rawStart = position  // raw (unescaped) bytes since the last escape, checked at the next one
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                try checkUTF8(rawStart..<position)
                position += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try checkUTF8(rawStart..<position)
                try parseEscape(into: &decoded)
                rawStart = position
            case 0..<0x20:
                throw error(.controlCharacterInString)
            default:
                decoded.append(byte)
                position += 1
            }
        }
        throw error(.unexpectedEnd)
    }

    /// Throws ``JSONParseError/Reason/invalidUTF8`` at the first byte of `range` that does not
    /// start a well-formed UTF-8 sequence (overlong forms, surrogates and truncated sequences included).
    private func checkUTF8(_ range: Range<Int>) throws(JSONParseError) {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = UnsafeRawBufferPointer(rebasing: bytes[range]).makeIterator()
        var offset = range.lowerBound
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return
            case .error: throw error(.invalidUTF8, at: offset)
            }
        }
    }

    /// Decodes the escape at `position` (a backslash) into UTF-8.
    private mutating func parseEscape(into out: inout [UInt8]) throws(JSONParseError) {
        guard position + 1 < bytes.count else { throw error(.unexpectedEnd) }
        let escapeStart = position
        let kind = bytes[position + 1]
        position += 2
        switch kind {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(kind)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0c)
        case UInt8(ascii: "n"): out.append(0x0a)
        case UInt8(ascii: "r"): out.append(0x0d)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4(escapeStart: escapeStart)
            if (0xd800..<0xdc00).contains(scalar) {
                // A high surrogate: combine with a following low surrogate, else U+FFFD (as Go).
                if position + 6 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                    let saved = position
                    position += 2
                    let low = try parseHex4(escapeStart: saved)
                    if (0xdc00..<0xe000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    } else {
                        position = saved  // not a pair: the second escape stands alone
                        scalar = 0xfffd
                    }
                } else {
                    scalar = 0xfffd
                }
            } else if (0xdc00..<0xe000).contains(scalar) {
                scalar = 0xfffd
            }
            appendUTF8(Unicode.Scalar(scalar) ?? "\u{fffd}", to: &out)
        default:
            throw error(.invalidEscape, at: escapeStart)
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error(.unexpectedEnd, at: bytes.count) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = RPCHex.digitValue(bytes[position]) else { throw error(.invalidEscape, at: escapeStart) }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(scalar) { out.append($0) }
    }

    /// The end of the JSON number starting at `start`, or `nil` if the bytes there are not one.
    static func numberEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        let n = bytes.count
        @inline(__always) func isDigit(_ at: Int) -> Bool { at < n && bytes[at] >= 0x30 && bytes[at] <= 0x39 }
        if i < n && bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { return nil }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { return nil }  // leading zero
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < n && bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { return nil }
            while isDigit(i) { i += 1 }
        }
        if i < n && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            if i < n && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard isDigit(i) else { return nil }
            while isDigit(i) { i += 1 }
        }
        return i
    }

    /// The length of the number at `start` if valid, else 0 (for ``JSONNumber/init(text:)``).
    static func numberLength(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        numberEnd(bytes, from: start).map { $0 - start } ?? 0
    }
}
