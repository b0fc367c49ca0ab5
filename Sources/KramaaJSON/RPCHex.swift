/// Why a hex string was refused. The descriptions are geth's (go-ethereum `common/hexutil`), so
/// clients see the messages they already know.
public enum HexError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `""` where a quantity was expected.
    case empty
    /// No leading `0x`/`0X`.
    case missingPrefix
    /// Data with an odd number of digits.
    case oddLength
    /// A character that is not a hex digit.
    case invalidCharacter
    /// A quantity written as just `0x`.
    case emptyNumber
    /// A quantity with leading zeros (`0x01`); Ethereum quantities are minimal.
    case leadingZero
    /// A quantity wider than the allowed number of bits.
    case tooLarge(bits: Int)
    /// Fixed-size data (an address, a hash) of the wrong length, in hex digits.
    case wrongLength(digits: Int, want: Int)

    public var description: String {
        switch self {
        case .empty: "empty hex string"
        case .missingPrefix: "hex string without 0x prefix"
        case .oddLength: "hex string of odd length"
        case .invalidCharacter: "invalid hex string"
        case .emptyNumber: "hex string \"0x\""
        case .leadingZero: "hex number with leading zero digits"
        case .tooLarge(let bits): "hex number > \(bits) bits"
        case .wrongLength(let digits, let want): "hex string has length \(digits), want \(want)"
        }
    }
}

/// Ethereum's hex encodings for JSON-RPC: *quantities* (`0x1a`, minimal digits) and *data*
/// (`0x` + two digits per byte). Decoding follows geth's rules and errors exactly.
public enum RPCHex {
    /// Decodes a quantity of at most 64 bits (geth's `hexutil.DecodeUint64`).
    public static func decodeQuantity(_ text: String) throws(HexError) -> UInt64 {
        let digits = try quantityDigits(text, maxBits: 64)
        var value: UInt64 = 0
        for d in digits { value = value << 4 | UInt64(d) }
        return value
    }

    /// Decodes a quantity of at most `maxBits` bits (256 for `hexutil.Big`) as big-endian bytes
    /// without leading zero bytes (`0x0` gives `[]`).
    public static func decodeQuantityBytes(_ text: String, maxBits: Int = 256) throws(HexError) -> [UInt8] {
        let digits = try quantityDigits(text, maxBits: maxBits)
        if digits == [0] { return [] }
        var out = [UInt8](repeating: 0, count: (digits.count + 1) / 2)
        var d = digits.count - 1
        var o = out.count - 1
        while d >= 0 {
            out[o] = digits[d]
            if d > 0 { out[o] |= digits[d - 1] << 4 }
            d -= 2
            o -= 1
        }
        return out
    }

    /// Decodes data (geth's `hexutil.Bytes`); `0x` is empty data.
    ///
    /// One table lookup per digit into an uninitialised array: a signed transaction's hex is
    /// decoded on every `eth_sendRawTransaction`.
    public static func decodeData(_ text: String) throws(HexError) -> [UInt8] {
        var text = text
        return try text.withUTF8 { utf8 in Result { () throws(HexError) -> [UInt8] in
            guard hasPrefix(utf8) else { throw .missingPrefix }
            let count = utf8.count - 2
            guard count % 2 == 0 else { throw .oddLength }
            var valid = true
            let out = [UInt8](unsafeUninitializedCapacity: count / 2) { out, initialized in
                var bad: UInt8 = 0
                var i = 2
                for o in 0..<out.count {
                    let hi = digitTable[Int(utf8[i])], lo = digitTable[Int(utf8[i + 1])]
                    bad |= (hi | lo) & 0x80
                    out[o] = hi << 4 | lo
                    i += 2
                }
                valid = bad == 0
                initialized = out.count
            }
            guard valid else { throw .invalidCharacter }
            return out
        } }.get()
    }

    /// Each byte's hex digit value, or 0xFF for a byte that is not a hex digit (either case).
    private static let digitTable: [UInt8] = (0...255).map { digitValue(UInt8($0)) ?? 0xFF }

    /// Decodes data that must be exactly `length` bytes (20 for an address, 32 for a hash).
    public static func decodeData(_ text: String, length: Int) throws(HexError) -> [UInt8] {
        let bytes = try decodeData(text)
        guard bytes.count == length else { throw .wrongLength(digits: text.utf8.count - 2, want: 2 * length) }
        return bytes
    }

    /// `0x` followed by the minimal lowercase digits (`0x0` for zero).
    public static func encodeQuantity(_ value: UInt64) -> String {
        "0x" + String(value, radix: 16)
    }

    /// A big-endian unsigned integer of any width as a quantity (`0x0` for all zeros or empty).
    public static func encodeQuantity(bigEndian bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = [UInt8(ascii: "0"), UInt8(ascii: "x")]
        for byte in bytes {
            if out.count == 2 {
                if byte == 0 { continue }
                if byte < 0x10 { out.append(digit(byte)); continue }
            }
            out.append(digit(byte >> 4))
            out.append(digit(byte & 0xf))
        }
        if out.count == 2 { out.append(UInt8(ascii: "0")) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `0x` followed by two lowercase digits per byte.
    @inlinable
    public static func encodeData(_ bytes: some Collection<UInt8>) -> String {
        if let text = bytes.withContiguousStorageIfAvailable({ encodeData(buffer: $0) }) { return text }
        return Array(bytes).withUnsafeBufferPointer { encodeData(buffer: $0) }
    }

    /// `0x` followed by two lowercase digits per byte, from contiguous bytes.
    public static func encodeData(buffer bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: 2 + 2 * bytes.count) { out in
            out[0] = UInt8(ascii: "0")
            out[1] = UInt8(ascii: "x")
            var i = 2
            for byte in bytes {
                out[i] = digit(byte >> 4)
                out[i + 1] = digit(byte & 0xf)
                i += 2
            }
            return i
        }
    }

    // MARK: Single digits

    /// The lowercase hex digit for a value 0...15.
    @inline(__always)
    public static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 + value : 0x57 + value
    }

    /// The value of a hex digit (either case), or `nil`.
    @inline(__always)
    public static func digitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x57
        case 0x41...0x46: byte - 0x37
        default: nil
        }
    }

    private static func hasPrefix(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        utf8.count >= 2 && utf8[0] == UInt8(ascii: "0") && (utf8[1] == UInt8(ascii: "x") || utf8[1] == UInt8(ascii: "X"))
    }

    /// The digit values of a quantity, checked in geth's order (`DecodeUint64`): empty,
    /// prefix, `0x`, leading zero, characters, width.
    private static func quantityDigits(_ text: String, maxBits: Int) throws(HexError) -> [UInt8] {
        var text = text
        return try text.withUTF8 { utf8 in Result { () throws(HexError) -> [UInt8] in
            guard !utf8.isEmpty else { throw .empty }
            guard hasPrefix(utf8) else { throw .missingPrefix }
            let count = utf8.count - 2
            guard count > 0 else { throw .emptyNumber }
            guard !(count > 1 && utf8[2] == UInt8(ascii: "0")) else { throw .leadingZero }
            var digits = [UInt8](repeating: 0, count: count)
            for i in 0..<count {
                guard let d = digitValue(utf8[2 + i]) else { throw .invalidCharacter }
                digits[i] = d
            }
            guard count * 4 <= maxBits else { throw .tooLarge(bits: maxBits) }
            return digits
        } }.get()
    }
}
