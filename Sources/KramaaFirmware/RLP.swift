/// RLP (Ethereum's Recursive Length Prefix) written in place into a ``FrameBuffer``: a list's
/// header goes in front of its items once they are written.
public enum RLP {
    /// A byte string.
    public static func string(_ bytes: UnsafeRawBufferPointer, into out: inout FrameBuffer) {
        if bytes.count == 1 && bytes[0] < 0x80 {
            out.update(bytes[0])
            return
        }
        header(0x80, bytes.count, into: &out)
        out.update(bytes)
    }

    /// A fixed-size value's bytes as a string (an address, a key, a signature).
    public static func string<T>(contentsOf value: T, into out: inout FrameBuffer) {
        withUnsafeBytes(of: value) { string($0, into: &out) }
    }

    /// An integer: minimal big-endian, zero as the empty string.
    public static func uint(_ value: UInt64, into out: inout FrameBuffer) {
        var length = 0
        var v = value
        while v != 0 { length += 1; v >>= 8 }
        if length == 1 && value < 0x80 {
            out.update(UInt8(value))
            return
        }
        out.update(0x80 + UInt8(length))
        out.update(bigEndian: value, count: length)
    }

    /// A 256-bit integer given as 32 big-endian bytes: minimal, zero as the empty string.
    public static func uint256(_ value: Bytes32, into out: inout FrameBuffer) {
        var first = 0
        while first < 32 && value[first] == 0 { first += 1 }
        withUnsafeBytes(of: value) { string(UnsafeRawBufferPointer(rebasing: $0[first...]), into: &out) }
    }

    /// Starts a list: returns where it starts, for ``endList(_:into:)``.
    public static func beginList(_ out: FrameBuffer) -> Int { out.count }

    /// Puts the list header in front of the items written since `start`.
    public static func endList(_ start: Int, into out: inout FrameBuffer) {
        let length = out.count - start
        let size = headerSize(length)
        guard out.open(size, at: start) else { return }
        var header = FrameBuffer(UnsafeMutableBufferPointer(start: out.base + start, count: size))
        Self.header(0xc0, length, into: &header)
    }

    /// Takes a list's header off again so more items can be appended (a transaction's
    /// signature after its signing hash was taken over the list without it).
    public static func reopenList(_ start: Int, into out: inout FrameBuffer) {
        let first = out.base[start]
        let size = first <= 0xf7 ? 1 : 1 + Int(first - 0xf7)
        out.close(size, at: start)
    }

    static func headerSize(_ length: Int) -> Int {
        if length < 56 { return 1 }
        var n = 0, v = length
        while v != 0 { n += 1; v >>= 8 }
        return 1 + n
    }

    static func header(_ base: UInt8, _ length: Int, into out: inout FrameBuffer) {
        if length < 56 {
            out.update(base + UInt8(length))
            return
        }
        let n = headerSize(length) - 1
        out.update(base + 55 + UInt8(n))
        out.update(bigEndian: UInt64(length), count: n)
    }
}
