/// Unsigned LEB128 varints as multiformats uses them (unsigned-varint): at most 9 bytes
/// (63 bits), minimally encoded; anything else is refused, so one value has one encoding.
public enum Varint {
    /// Appends `value`'s encoding to `out`.
    @inlinable
    public static func write(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// The encoding of `value`.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        write(value, to: &out)
        return out
    }

    /// The number of bytes `value` takes.
    public static func size(_ value: UInt64) -> Int {
        var n = 1
        var v = value >> 7
        while v != 0 { n += 1; v >>= 7 }
        return n
    }

    /// Reads a varint at `offset` of `bytes`, moving `offset` past it.
    public static func read<C: Collection<UInt8>>(_ bytes: C, at offset: inout C.Index) throws(FilesError) -> UInt64
        where C.Index == Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var count = 0
        while true {
            guard offset < bytes.endIndex else { throw .malformedVarint("truncated after \(count) byte(s)") }
            let byte = bytes[offset]
            offset += 1
            count += 1
            if count > 9 { throw .malformedVarint("longer than 9 bytes") }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                if byte == 0 && count > 1 { throw .malformedVarint("not minimally encoded") }
                return value
            }
            shift += 7
        }
    }
}
