/// Why bytes are not a valid hex-prefix (compact) encoded path.
public enum HexPrefixError: Error, Equatable, CustomStringConvertible {
    /// No bytes at all; even an empty path takes one flag byte.
    case empty
    /// The flag nibble (high half of the first byte) is above 3.
    case invalidFlag(UInt8)
    /// An even-length path whose first byte's low nibble, which must be padding, is not zero.
    case nonZeroPadding(UInt8)

    public var description: String {
        switch self {
        case .empty:
            return "hex-prefix path is empty; it needs at least the flag byte"
        case .invalidFlag(let b):
            return "hex-prefix flag nibble is \(b >> 4) (first byte 0x\(String(b, radix: 16))); only 0-3 are defined"
        case .nonZeroPadding(let b):
            return "hex-prefix first byte 0x\(String(b, radix: 16)) marks an even path but its padding nibble is not 0"
        }
    }
}

/// Hex-prefix ("compact") encoding of nibble paths, Yellow Paper appendix C.
///
/// Trie nodes store key paths as nibbles; this packs them two per byte behind a flag nibble
/// that says whether the path ends in a leaf (`isLeaf`) and whether its length is odd.
public enum HexPrefix {
    /// Encodes `nibbles` (each `0...15`) with the leaf flag `isLeaf`.
    public static func encode(_ nibbles: some Collection<UInt8>, isLeaf: Bool) -> [UInt8] {
        let n = nibbles.count
        var out = [UInt8](repeating: 0, count: n / 2 + 1)
        var it = nibbles.makeIterator()
        var flag: UInt8 = isLeaf ? 0x20 : 0
        if n & 1 == 1 {
            let first = it.next()!
            precondition(first < 16, "a nibble is 0...15, got \(first)")
            flag |= 0x10 | first
        }
        out[0] = flag
        for i in 1..<out.count {
            let hi = it.next()!, lo = it.next()!
            precondition(hi < 16 && lo < 16, "a nibble is 0...15, got \(hi), \(lo)")
            out[i] = hi << 4 | lo
        }
        return out
    }

    /// Decodes a hex-prefix path into its nibbles and leaf flag.
    public static func decode(_ bytes: some Collection<UInt8>) throws(HexPrefixError) -> (nibbles: [UInt8], isLeaf: Bool) {
        guard let first = bytes.first else { throw .empty }
        let flag = first >> 4
        guard flag <= 3 else { throw .invalidFlag(first) }
        let odd = flag & 1 == 1
        if !odd && first & 0x0f != 0 { throw .nonZeroPadding(first) }
        var nibbles: [UInt8] = []
        nibbles.reserveCapacity((bytes.count - 1) * 2 + 1)
        if odd { nibbles.append(first & 0x0f) }
        for b in bytes.dropFirst() {
            nibbles.append(b >> 4)
            nibbles.append(b & 0x0f)
        }
        return (nibbles, flag & 2 == 2)
    }

    /// The encoded length of a path of `nibbleCount` nibbles.
    @inline(__always)
    static func encodedCount(nibbleCount: Int) -> Int { nibbleCount / 2 + 1 }

    /// The first encoded byte of `path` (flag and, for odd lengths, the first nibble).
    @inline(__always)
    static func firstByte(_ path: NibblePath, isLeaf: Bool) -> UInt8 {
        let flag: UInt8 = isLeaf ? 0x20 : 0
        return path.count & 1 == 1 ? flag | 0x10 | UInt8(path.nibble(at: path.start)) : flag
    }

    /// Writes the encoding of `path` into `out`, which holds `encodedCount(nibbleCount:)` bytes.
    static func write(_ path: NibblePath, isLeaf: Bool, into out: UnsafeMutableBufferPointer<UInt8>) {
        out[0] = firstByte(path, isLeaf: isLeaf)
        var i = path.start + (path.count & 1)
        var o = 1
        path.bytes.withUnsafeBufferPointer { key in
            if i & 1 == 0 {
                // Byte-aligned: copy whole bytes.
                while i < path.end {
                    out[o] = key[i >> 1]
                    o += 1
                    i += 2
                }
            } else {
                while i < path.end {
                    out[o] = (key[i >> 1] & 0x0f) << 4 | key[(i + 1) >> 1] >> 4
                    o += 1
                    i += 2
                }
            }
        }
    }
}
