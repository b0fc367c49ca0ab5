/// DAG-JSON (codec 0x0129): JSON with links as `{"/": "<cid>"}` and bytes as
/// `{"/": {"bytes": "<base64, no padding>"}}`, map keys sorted bytewise, no whitespace, and
/// no duplicate keys (refused on decoding, as the IPLD negative fixtures require).
public enum DagJSON {
    public static let maximumDepth = 256

    public static func encode(_ value: IPLD) throws(FilesError) -> [UInt8] {
        var out: [UInt8] = []
        try write(value, to: &out)
        return out
    }

    static func write(_ value: IPLD, to out: inout [UInt8]) throws(FilesError) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .integer(let negative, let magnitude):
            if negative {
                out.append(UInt8(ascii: "-"))
                out += Array(magnitude == .max ? "18446744073709551616".utf8 : String(magnitude + 1).utf8)
            } else {
                out += Array(String(magnitude).utf8)
            }
        case .float(let d):
            guard d.isFinite else { throw .cannotEncode("dag-json has no NaN or infinities") }
            out += Array(floatText(d).utf8)
        case .string(let s): writeString(s, to: &out)
        case .bytes(let b):
            out += Array(#"{"/":{"bytes":""#.utf8)
            out += Array(Multibase.encodeBare(b, base: .base64).utf8)
            out += Array(#""}}"#.utf8)
        case .list(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .map(let entries):
            out.append(UInt8(ascii: "{"))
            for (i, entry) in entries.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(entry.key, to: &out)
                out.append(UInt8(ascii: ":"))
                try write(entry.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .link(let cid):
            out += Array(#"{"/":""#.utf8)
            out += Array(cid.string.utf8)
            out += Array(#""}"#.utf8)
        }
    }

    /// The shortest text that reads back as `d`, in JavaScript's form (`1e-7`, not `1e-07`).
    static func floatText(_ d: Double) -> String {
        var text = "\(d)"
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            var mantissa = String(text[..<e])
            if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
            var exponent = text[text.index(after: e)...]
            var sign = ""
            if exponent.first == "-" || exponent.first == "+" { sign = exponent.first == "-" ? "-" : "+"; exponent = exponent.dropFirst() }
            while exponent.count > 1 && exponent.first == "0" { exponent = exponent.dropFirst() }
            text = mantissa + "e" + sign + exponent
        }
        return text
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [0x5c, 0x22]
            case UInt8(ascii: "\\"): out += [0x5c, 0x5c]
            case 0x08: out += [0x5c, UInt8(ascii: "b")]
            case 0x0c: out += [0x5c, UInt8(ascii: "f")]
            case 0x0a: out += [0x5c, UInt8(ascii: "n")]
            case 0x0d: out += [0x5c, UInt8(ascii: "r")]
            case 0x09: out += [0x5c, UInt8(ascii: "t")]
            case 0..<0x20: out += Array("\\u00".utf8) + [Multibase.hexLower[Int(byte >> 4)], Multibase.hexLower[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func decode(_ bytes: [UInt8]) throws(FilesError) -> IPLD {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.offset == bytes.count else { throw .malformedBlock("dag-json: text after the value at byte \(parser.offset)") }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        var offset = 0

        func fail(_ why: String) -> FilesError { .malformedBlock("dag-json: \(why) at byte \(offset)") }

        mutating func skipSpace() {
            while offset < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[offset]) { offset += 1 }
        }

        mutating func expect(_ c: UInt8) throws(FilesError) {
            skipSpace()
            guard offset < bytes.count, bytes[offset] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
            offset += 1
        }

        mutating func literal(_ word: String, _ value: IPLD) throws(FilesError) -> IPLD {
            let w = Array(word.utf8)
            guard bytes.count - offset >= w.count, Array(bytes[offset..<offset + w.count]) == w else { throw fail("unexpected text") }
            offset += w.count
            return value
        }

        mutating func value(depth: Int) throws(FilesError) -> IPLD {
            guard depth < DagJSON.maximumDepth else { throw fail("nested deeper than \(DagJSON.maximumDepth)") }
            skipSpace()
            guard offset < bytes.count else { throw fail("truncated") }
            switch bytes[offset] {
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                offset += 1
                var items: [IPLD] = []
                skipSpace()
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return .list([]) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard offset < bytes.count else { throw fail("truncated list") }
                    if bytes[offset] == UInt8(ascii: "]") { offset += 1; return .list(items) }
                    try expect(UInt8(ascii: ","))
                }
            case UInt8(ascii: "{"): return try map(depth: depth)
            default: return try number()
            }
        }

        mutating func map(depth: Int) throws(FilesError) -> IPLD {
            offset += 1
            var entries: [IPLD.Entry] = []
            var seen = Set<String>()
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") { offset += 1; return .map([]) }
            while true {
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try string()
                guard seen.insert(key).inserted else { throw fail("repeat map key \"\(key)\"") }
                try expect(UInt8(ascii: ":"))
                entries.append(IPLD.Entry(key, try value(depth: depth + 1)))
                skipSpace()
                guard offset < bytes.count else { throw fail("truncated map") }
                if bytes[offset] == UInt8(ascii: "}") { offset += 1; break }
                try expect(UInt8(ascii: ","))
            }
            // The reserved "/" key: a link or bytes.
            if entries.count == 1, entries[0].key == "/" {
                switch entries[0].value {
                case .string(let text):
                    do { return .link(try CID(text)) } catch { throw fail("\(error)") }
                case .map(let inner) where inner.count == 1 && inner[0].key == "bytes":
                    guard case .string(let b64) = inner[0].value else { throw fail("bytes must be base64 text") }
                    do { return .bytes(try Multibase.decodeBare(Array(b64.utf8), base: .base64)) } catch { throw fail("\(error)") }
                default: throw fail("the \"/\" key is reserved for links and bytes")
                }
            }
            return .map(entries)
        }

        mutating func string() throws(FilesError) -> String {
            offset += 1
            var out: [UInt8] = []
            while true {
                guard offset < bytes.count else { throw fail("unterminated string") }
                let c = bytes[offset]
                offset += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw fail("control character in a string") }
                guard c == UInt8(ascii: "\\") else { out.append(c); continue }
                guard offset < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[offset]
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xd800..<0xdc00).contains(scalar) {
                        guard bytes.count - offset >= 6, bytes[offset] == 0x5c, bytes[offset + 1] == UInt8(ascii: "u") else { throw fail("lone surrogate") }
                        offset += 2
                        let low = try hex4()
                        guard (0xdc00..<0xe000).contains(low) else { throw fail("lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("lone surrogate") }
                    out += Array(String(Character(u)).utf8)
                default: throw fail("unknown escape")
                }
            }
            guard let s = IPLD.utf8(out[...]) else { throw fail("string is not valid UTF-8") }
            return s
        }

        mutating func hex4() throws(FilesError) -> UInt32 {
            guard bytes.count - offset >= 4 else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for c in bytes[offset..<offset + 4] {
                guard let d = Multibase.hexLower.firstIndex(of: c | 0x20) else { throw fail("bad \\u escape") }
                v = v << 4 | UInt32(d)
            }
            offset += 4
            return v
        }

        mutating func number() throws(FilesError) -> IPLD {
            let start = offset
            var isFloat = false
            while offset < bytes.count {
                let c = bytes[offset]
                if (0x30...0x39).contains(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { offset += 1; continue }
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { isFloat = true; offset += 1; continue }
                break
            }
            let text = String(decoding: bytes[start..<offset], as: UTF8.self)
            guard !text.isEmpty else { throw fail("unexpected character") }
            if isFloat {
                guard let d = Double(text), d.isFinite else { throw fail("bad number \(text)") }
                return .float(d)
            }
            if text.hasPrefix("-") {
                let digits = text.dropFirst()
                if digits == "18446744073709551616" { return .integer(negative: true, magnitude: .max) }
                guard let m = UInt64(digits), m > 0 else { throw fail(digits == "0" ? "-0 is not an integer" : "integer out of range: \(text)") }
                return .integer(negative: true, magnitude: m - 1)
            }
            guard let m = UInt64(text) else { throw fail("integer out of range: \(text)") }
            return .integer(negative: false, magnitude: m)
        }
    }
}
