/// Ethereum's hex strings written straight into the output: what large answers (thousands of
/// logs in one eth_getLogs) are made of. Each value is encoded in place, with no `String` per
/// value and no escape scan (hex digits never need escaping), and is byte for byte what
/// ``RPCHex`` encodes and ``JSONWriter/writeString(_:)`` would write for it.
extension JSONWriter {
    private static let digitText: StaticString = "0123456789abcdef"

    /// Appends `count` bytes written by `body` (given exactly that many bytes to fill).
    @inline(__always)
    private mutating func append(count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
    }

    /// Appends `"0x…"`, two lowercase digits per byte (Ethereum's data; `"0x"` when empty).
    public mutating func writeHexData(_ data: UnsafeRawBufferPointer) {
        append(count: 4 + 2 * data.count) { out in
            out[0] = UInt8(ascii: "\"")
            out[1] = UInt8(ascii: "0")
            out[2] = UInt8(ascii: "x")
            let digits = Self.digitText.utf8Start
            var o = out + 3
            for byte in data {
                o[0] = digits[Int(byte >> 4)]
                o[1] = digits[Int(byte & 0xf)]
                o += 2
            }
            o[0] = UInt8(ascii: "\"")
        }
    }

    /// Appends `"0x…"` for `data` (see ``writeHexData(_:)-(UnsafeRawBufferPointer)``).
    public mutating func writeHexData(_ data: [UInt8]) {
        data.withUnsafeBytes { writeHexData($0) }
    }

    /// Appends `"0x1a"`: a quantity in minimal lowercase digits (`"0x0"` for zero).
    public mutating func writeQuantity(_ value: UInt64) {
        let count = value == 0 ? 1 : (64 - value.leadingZeroBitCount + 3) / 4
        append(count: 4 + count) { out in
            out[0] = UInt8(ascii: "\"")
            out[1] = UInt8(ascii: "0")
            out[2] = UInt8(ascii: "x")
            let digits = Self.digitText.utf8Start
            for i in 0..<count {
                out[3 + i] = digits[Int(truncatingIfNeeded: value >> UInt64(4 * (count - 1 - i))) & 0xf]
            }
            out[3 + count] = UInt8(ascii: "\"")
        }
    }
}
