import Foundation
import KramaaPrimitives
import Testing
@testable import KramaaJSON

@Suite struct JSONParsingTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSON.parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        #expect(value == ["a": [1, .number(JSONNumber(text: "-2.5e3")!), true, false, nil], "b": ["c": "d"], "e": ""])
        #expect(value["a"]?[1]?.numberValue?.double == -2500)
        #expect(value["b"]?["c"]?.stringValue == "d")
        #expect(value["missing"] == nil && value["a"]?[9] == nil)
    }

    @Test func numbersKeepTheirText() throws {
        for text in ["0", "-0", "1.50", "1e3", "1E+3", "-1.5e-7", "18446744073709551617", "123456789012345678901234567890"] {
            let value = try JSON.parse(text)
            #expect(value.numberValue?.text == text)
            #expect(String(decoding: value.serialized(), as: UTF8.self) == text)
        }
        #expect(try JSON.parse("9223372036854775807").numberValue?.int64 == .max)
        #expect(try JSON.parse("18446744073709551615").numberValue?.uint64 == .max)
        #expect(try JSON.parse("18446744073709551616").numberValue?.uint64 == nil)
        #expect(try JSON.parse("1.0").numberValue?.int == nil)
        #expect(JSONNumber(0.1)?.text == "0.1" && JSONNumber(Double.nan) == nil && JSONNumber(Double.infinity) == nil)
        #expect(JSONNumber(text: "01") == nil && JSONNumber(text: "1.") == nil && JSONNumber(text: "") == nil)
    }

    @Test func rejectsMalformedNumbers() {
        for text in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "-01", "0x10", "1.e3", "NaN", "Infinity"] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSON.parse(text) }
        }
    }

    @Test func decodesEscapesAndUnicode() throws {
        #expect(try JSON.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0c}\n\r\t"))
        #expect(try JSON.parse(#""\u00e9\u4e2d""#) == .string("é中"))
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSON.parse(#""é😀 raw""#) == .string("é😀 raw"))
        // Lone surrogates become U+FFFD, as in Go's encoding/json.
        #expect(try JSON.parse(#""\ud83d""#) == .string("\u{fffd}"))
        #expect(try JSON.parse(#""\ude00x""#) == .string("\u{fffd}x"))
        #expect(try JSON.parse(#""\ud83d\u0041""#) == .string("\u{fffd}A"))
    }

    /// Bytes that are not UTF-8 are a parse error at the offending byte (they used to become
    /// U+FFFD, so different inputs read as the same string), in the fast path, after an escape
    /// and in object keys.
    @Test func refusesInvalidUTF8() throws {
        let cases: [([UInt8], Int)] = [
            ([0x22, 0xff, 0x41, 0x22], 1),                       // a byte that never starts UTF-8
            ([0x22, 0x41, 0xc3, 0x22], 2),                       // truncated two-byte sequence
            ([0x22, 0xc0, 0xaf, 0x22], 1),                       // overlong '/'
            ([0x22, 0xed, 0xa0, 0x80, 0x22], 1),                 // a UTF-16 surrogate encoded as UTF-8
            ([0x22, 0x5c, 0x6e, 0x41, 0x80, 0x22], 4),           // after an escape
            ([0x22, 0x80, 0x5c, 0x6e, 0x22], 1),                 // before an escape
            (Array(#"{""#.utf8) + [0xfe] + Array(#"":1}"#.utf8), 2),  // in a key
        ]
        for (bytes, offset) in cases {
            #expect(throws: JSONParseError(reason: .invalidUTF8, offset: offset), "\(bytes)") { try JSON.parse(bytes) }
        }
        #expect(try JSON.parse([0x22, 0xc3, 0xa9, 0x5c, 0x6e, 0xe4, 0xb8, 0xad, 0x22]) == .string("é\n中"))
        #expect(JSONParseError(reason: .invalidUTF8, offset: 3).description == "invalid UTF-8 in string at offset 3: send the text encoded as UTF-8")
    }

    @Test func rejectsMalformedDocumentsWithOffsets() {
        let cases: [(String, JSONParseError.Reason, Int)] = [
            ("", .unexpectedEnd, 0),
            ("   ", .unexpectedEnd, 3),
            ("{", .unexpectedEnd, 1),
            (#"{"a":1,}"#, .unexpectedCharacter(UInt8(ascii: "}")), 7),
            ("[1,]", .unexpectedCharacter(UInt8(ascii: "]")), 3),
            ("[1 2]", .unexpectedCharacter(UInt8(ascii: "2")), 3),
            (#"{"a" 1}"#, .unexpectedCharacter(UInt8(ascii: "1")), 5),
            ("{1:2}", .unexpectedCharacter(UInt8(ascii: "1")), 1),
            ("tru", .unexpectedEnd, 3),
            ("nul1", .unexpectedCharacter(UInt8(ascii: "1")), 3),
            (#""abc"#, .unexpectedEnd, 4),
            (#""a\x""#, .invalidEscape, 2),
            (#""\u12G4""#, .invalidEscape, 1),
            ("\"a\nb\"", .controlCharacterInString, 2),
            ("1 2", .trailingData, 2),
            ("{} x", .trailingData, 3),
            ("'a'", .unexpectedCharacter(UInt8(ascii: "'")), 0),
        ]
        for (text, reason, offset) in cases {
            #expect(throws: JSONParseError(reason: reason, offset: offset), "\(text)") { try JSON.parse(text) }
        }
        #expect(JSONParseError(reason: .unexpectedCharacter(0x78), offset: 4).description == "invalid character 'x' at offset 4")
        #expect(JSONParseError(reason: .unexpectedEnd, offset: 0).description == "unexpected end of JSON input")
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONParseError(reason: .tooDeep(limit: 128), offset: 128)) { try JSON.parse(deep) }
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(try JSON.parse(ok).arrayValue?.count == 1)
        #expect(throws: JSONParseError.self) { try JSON.parse(#"{"a":{"b":1}}"#, maxDepth: 1) }
    }

    @Test func duplicateKeysKeepTheLastValue() throws {
        #expect(try JSON.parse(#"{"a":1,"b":2,"a":3}"#) == ["a": 3, "b": 2])
        #expect(try JSON.parse(#"{"a":1,"b":2,"a":3}"#).objectValue?.keys == ["a", "b"])
        // Large objects (indexed) behave the same, and parsing them stays linear.
        let members = (0..<20_000).map { #""k\#($0 % 10_000)":\#($0)"# }.joined(separator: ",")
        let object = try #require(try JSON.parse("{\(members)}").objectValue)
        #expect(object.count == 10_000)
        #expect(object["k0"] == 10_000 && object["k9999"] == 19_999)
    }
}

@Suite struct JSONWritingTests {
    @Test func writesCompactJSON() {
        let value: JSON = ["b": [1, 2.5, true, nil], "a": "x", "c": [:], "d": []]
        #expect(value.description == #"{"b":[1,2.5,true,null],"a":"x","c":{},"d":[]}"#)
    }

    @Test func escapesWhatJSONRequires() {
        let text = "q\"b\\s/n\nr\rt\tb\u{08}f\u{0c}z\u{00}e\u{1f}é😀\u{7f}"
        #expect(JSON.string(text).description == #""q\"b\\s/n\nr\rt\tb\bf\fz\u0000e\u001fé😀\#u{7f}""#)
    }

    @Test func objectMembersReplaceAndRemove() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = 3
        object["c"] = 4
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(JSON.object(object).description == #"{"a":3,"c":4}"#)
        // Equality ignores order; members must match.
        let xy: JSONObject = ["x": 1, "y": 2], yx: JSONObject = ["y": 2, "x": 1]
        let x1: JSONObject = ["x": 1], x2: JSONObject = ["x": 2], y1: JSONObject = ["y": 1]
        #expect(xy == yx && x1 != x2 && x1 != y1 && x1 != xy)
        // Crossing the index threshold in both directions keeps lookups right.
        var big = JSONObject()
        for i in 0..<40 { big["k\(i)"] = .number(JSONNumber(i)) }
        for i in stride(from: 0, to: 40, by: 2) { big["k\(i)"] = nil }
        #expect(big.count == 20 && big["k1"] == 1 && big["k2"] == nil && big["k39"] == 39)
        for i in 1..<36 where i % 2 == 1 { big["k\(i)"] = nil }
        #expect(big.keys == ["k37", "k39"] && big["k37"] == 37)
    }
}

/// Random documents: serialize, parse, compare; and our escaping read back by Foundation.
@Suite struct JSONRoundTripTests {
    static let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{00}", "\u{1f}", "\u{7f}",
                                        "é", "中", "😀", "\u{2028}", "{", "}", "[", ":", ","]

    static func randomString(_ rng: inout SplitMix64) -> String {
        String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func randomNumber(_ rng: inout SplitMix64) -> JSONNumber {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return JSONNumber(Int64.random(in: .min ... .max, using: &rng))
        case 1: return JSONNumber(UInt64.random(in: 0 ... .max, using: &rng))
        case 2: return JSONNumber(Double(bitPattern: UInt64.random(in: 0 ... .max, using: &rng))) ?? JSONNumber(0)
        default:
            let digits = String((0..<Int.random(in: 1...30, using: &rng)).map { _ in "0123456789".randomElement(using: &rng)! })
            let text = (Bool.random(using: &rng) ? "-" : "") + (digits.count > 1 ? "1" + digits.dropFirst() : digits) + ".5e-7"
            return JSONNumber(text: text)!
        }
    }

    static func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSON {
        switch Int.random(in: 0..<(depth < 4 ? 7 : 5), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(randomNumber(&rng))
        case 3, 4: return .string(randomString(&rng))
        case 5: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            return .object(JSONObject((0..<Int.random(in: 0...20, using: &rng)).map { _ in
                (randomString(&rng), randomValue(&rng, depth: depth + 1))
            }))
        }
    }

    @Test func randomValuesSurviveSerializeThenParse() throws {
        var rng = SplitMix64(seed: 0x4a50_4e52)
        for i in 0..<3000 {
            let value = Self.randomValue(&rng, depth: 0)
            let bytes = value.serialized()
            let parsed = try JSON.parse(bytes)
            #expect(parsed == value, "case \(i): \(value)")
            #expect(parsed.serialized() == bytes, "case \(i) serializes identically")
        }
    }

    @Test func foundationReadsOurStringsBack() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let text = Self.randomString(&rng)
            let decoded = try JSONSerialization.jsonObject(with: Data(JSON.string(text).serialized()), options: .fragmentsAllowed)
            #expect(decoded as? String == text)
        }
    }

    @Test func weReadFoundationsOutputBack() throws {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<500 {
            let strings = (0..<5).map { _ in Self.randomString(&rng) }
            let number = Int64.random(in: .min ... .max, using: &rng)
            let object: [String: Any] = ["s": strings, "n": number, "b": true, "z": NSNull()]
            let data = try JSONSerialization.data(withJSONObject: object)
            let parsed = try JSON.parse(Array(data))
            #expect(parsed["s"] == .array(strings.map { .string($0) }))
            #expect(parsed["n"]?.numberValue?.int64 == number)
            #expect(parsed["b"] == true && parsed["z"] == .null)
        }
    }
}

/// The hex writers encode straight into the output what RPCHex and writeString would write.
@Suite struct JSONWriterHexTests {
    @Test func hexDataAndQuantitiesMatchTheStringEncoders() {
        var random = SplitMix64(seed: 1)
        var quantities: [UInt64] = [0, 1, 0xf, 0x10, 0xff, 0x100, UInt64.max, 1 << 63]
        quantities += (0..<200).map { _ in random.next() >> (random.next() % 64) }
        for value in quantities {
            var w = JSONWriter()
            w.writeQuantity(value)
            var expected = JSONWriter()
            expected.writeString(RPCHex.encodeQuantity(value))
            #expect(w.bytes == expected.bytes, "\(value)")
        }
        for length in [0, 1, 2, 20, 32, 33, 100] {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var w = JSONWriter()
            w.writeRaw("[")
            w.writeHexData(data)
            w.writeRaw("]")
            #expect(try! JSON.parse(w.bytes) == [.data(data)])
        }
    }
}
