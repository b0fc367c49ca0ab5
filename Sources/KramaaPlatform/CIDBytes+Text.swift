import KramaaJSON
import KramaaPrimitives

/// A CID's text forms, for the REST interface and the CLI: what people copy from a gateway.
/// Read: multibase base32 (`b…`, lower case, no padding: CIDv1), base58btc (`Qm…`, a CIDv0;
/// or multibase `z…`), or the binary form in hex (`0x…`). Written: the CIDv1 in base32.
extension CIDBytes {
    static let base32Alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    static let base58Alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    /// Parses a CID written as text (the forms above), then checks it as ``init(_:)`` does.
    public init(text: String) throws(CIDBytesError) {
        let bytes: [UInt8]?
        if text.hasPrefix("0x") {
            bytes = try? Hex.decode(text)
        } else if text.hasPrefix("Qm") {
            bytes = Self.base58Decode(Array(text.utf8))
        } else if text.hasPrefix("z") {
            bytes = Self.base58Decode(Array(text.utf8.dropFirst()))
        } else if text.hasPrefix("b") {
            bytes = Self.base32Decode(Array(text.utf8.dropFirst()))
        } else {
            throw .unreadableText(text)
        }
        guard let bytes else { throw .unreadableText(text) }
        try self.init(bytes)
    }

    /// The CIDv1 in multibase base32 (`bafy…` for dag-pb, `bafk…` for raw).
    public var text: String { "b" + Self.base32Encode(canonical) }

    static func base32Encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = [], buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(base32Alphabet[(buffer >> bits) & 31])
            }
        }
        if bits > 0 { out.append(base32Alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func base32Decode(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = [], buffer = 0, bits = 0
        for char in text {
            guard let value = base32Alphabet.firstIndex(of: char) else { return nil }
            buffer = (buffer << 5 | value) & 0xfff
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> bits))
            }
        }
        return out
    }

    static func base58Decode(_ text: [UInt8]) -> [UInt8]? {
        guard text.count <= 128 else { return nil }
        var number: [UInt8] = []  // big-endian
        for char in text {
            guard let digit = base58Alphabet.firstIndex(of: char) else { return nil }
            var carry = digit
            for i in number.indices.reversed() {
                carry += Int(number[i]) * 58
                number[i] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 { number.insert(UInt8(carry & 0xff), at: 0); carry >>= 8 }
        }
        let zeros = text.prefix { $0 == base58Alphabet[0] }.count
        return [UInt8](repeating: 0, count: zeros) + number
    }
}

extension CIDBytes {
    /// The files a JSON document names (an EPCIS event's `ipfs://CID[/path]` strings, in
    /// certificationInfo, sensor reports' uriValue or anywhere else), each once, as CIDv1 text.
    public static func named(in json: JSON) -> [String] {
        var found: [String] = []
        func walk(_ value: JSON) {
            switch value {
            case .string(let text) where text.hasPrefix("ipfs://"):
                let name = text.dropFirst(7).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
                if let cid = try? CIDBytes(text: String(name)), !found.contains(cid.text) { found.append(cid.text) }
            case .array(let items): items.forEach(walk)
            case .object(let object): for (_, v) in object { walk(v) }
            default: break
            }
        }
        walk(json)
        return found
    }
}
