/// Ethereum's hex strings written straight into the output: what large answers (thousands of
/// logs in one eth_getLogs) are made of. Each value is encoded on the stack and appended in
/// one copy, with no `String` per value and no escape scan (hex digits never need escaping),
/// and is byte for byte what ``RPCHex`` encodes and ``JSONWriter/writeString(_:)`` would write.
extension JSONWriter {
    private static let digitText: StaticString = "0123456789abcdef"
    /// Both digits of every byte value, as they lie in memory (one 16-bit store per byte).
    private static let digitPairs: [UInt16] = (0..<256).map { byte in
        let digits = digitText.utf8Start
        return UInt16(digits[byte >> 4]) | UInt16(digits[byte & 0xf]) << 8
    }
    /// Bytes of data encoded per stack buffer (a longer value is appended in pieces).
    private static let piece = 128

    /// Appends `"0x…"`, two lowercase digits per byte (Ethereum's data; `"0x"` when empty).
    public mutating func writeHexData(_ data: UnsafeRawBufferPointer) {
        Self.digitPairs.withUnsafeBufferPointer { pairs in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4 + 2 * Self.piece) { buffer in
                let out = buffer.baseAddress!
                out[0] = UInt8(ascii: "\"")
                out[1] = UInt8(ascii: "0")
                out[2] = UInt8(ascii: "x")
                var used = 3
                var start = 0
                repeat {
                    let end = min(start + Self.piece, data.count)
                    for byte in data[start..<end] {
                        UnsafeMutableRawPointer(out + used).storeBytes(of: pairs[Int(byte)].littleEndian, as: UInt16.self)
                        used += 2
                    }
                    if end == data.count {
                        out[used] = UInt8(ascii: "\"")
                        used += 1
                    }
                    bytes.append(contentsOf: UnsafeBufferPointer(start: out, count: used))
                    used = 0
                    start = end
                } while start < data.count
            }
        }
    }

    /// Appends `"0x…"` for `data` (see ``writeHexData(_:)-(UnsafeRawBufferPointer)``).
    public mutating func writeHexData(_ data: [UInt8]) {
        data.withUnsafeBytes { writeHexData($0) }
    }

    /// Appends `"0x1a"`: a quantity in minimal lowercase digits (`"0x0"` for zero).
    public mutating func writeQuantity(_ value: UInt64) {
        let count = value == 0 ? 1 : (64 - value.leadingZeroBitCount + 3) / 4
        let digits = Self.digitText.utf8Start
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            let out = buffer.baseAddress!
            out[0] = UInt8(ascii: "\"")
            out[1] = UInt8(ascii: "0")
            out[2] = UInt8(ascii: "x")
            for i in 0..<count {
                out[3 + i] = digits[Int(truncatingIfNeeded: value >> UInt64(4 * (count - 1 - i))) & 0xf]
            }
            out[3 + count] = UInt8(ascii: "\"")
            bytes.append(contentsOf: UnsafeBufferPointer(start: out, count: 4 + count))
        }
    }
}
