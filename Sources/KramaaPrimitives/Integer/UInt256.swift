/// An unsigned 256-bit integer: the EVM word.
///
/// Four 64-bit limbs held inline (no heap, no reference counting), least significant first.
/// `&+`, `&-`, `&*` wrap modulo 2^256 as the EVM does; `/` and `%` trap on a zero divisor like
/// Swift's integers, while the EVM-named operations (`sdiv`, `addmod`, ...) follow the Yellow
/// Paper and return zero for a zero divisor or modulus. Signed operations read the word as
/// two's complement.
@frozen
public struct UInt256: Hashable, Sendable {
    /// Limbs, least significant first: value = limbs.0 + limbs.1·2⁶⁴ + limbs.2·2¹²⁸ + limbs.3·2¹⁹².
    public var limbs: (UInt64, UInt64, UInt64, UInt64)

    @inlinable @inline(__always)
    public init(limbs: (UInt64, UInt64, UInt64, UInt64)) { self.limbs = limbs }

    @inlinable @inline(__always)
    public init(_ value: UInt64) { self.limbs = (value, 0, 0, 0) }

    /// A non-negative `Int`; negative values are a programming error.
    @inlinable @inline(__always)
    public init(_ value: Int) {
        precondition(value >= 0, "UInt256 cannot hold a negative Int")
        self.limbs = (UInt64(value), 0, 0, 0)
    }

    // Constants are computed rather than stored globals: a global costs a call and a lazy
    // initialisation check wherever the optimiser declines to inline (the interpreter loop).
    @inlinable @inline(__always) public static var zero: UInt256 { UInt256(limbs: (0, 0, 0, 0)) }
    @inlinable @inline(__always) public static var one: UInt256 { UInt256(limbs: (1, 0, 0, 0)) }
    public static let max = UInt256(limbs: (.max, .max, .max, .max))
    /// 2^255: the most negative value when read as two's complement.
    public static let signBit = UInt256(limbs: (0, 0, 0, 1 << 63))

    @inlinable @inline(__always) public var isZero: Bool { (limbs.0 | limbs.1 | limbs.2 | limbs.3) == 0 }
    /// True when the two's-complement reading is negative (bit 255 set).
    @inlinable @inline(__always) public var isNegative: Bool { limbs.3 >> 63 == 1 }
    /// True when the value fits in 64 bits.
    @inlinable @inline(__always) public var fitsInUInt64: Bool { (limbs.1 | limbs.2 | limbs.3) == 0 }
    /// The low 64 bits.
    @inlinable @inline(__always) public var low64: UInt64 { limbs.0 }

    /// The value as `UInt64` if it fits, else nil.
    @inlinable public var uint64Value: UInt64? { fitsInUInt64 ? limbs.0 : nil }

    /// Number of leading zero bits (256 for zero).
    @inlinable public var leadingZeroBitCount: Int {
        if limbs.3 != 0 { return limbs.3.leadingZeroBitCount }
        if limbs.2 != 0 { return 64 + limbs.2.leadingZeroBitCount }
        if limbs.1 != 0 { return 128 + limbs.1.leadingZeroBitCount }
        return 192 + limbs.0.leadingZeroBitCount
    }

    /// Bits needed to write the value (0 for zero).
    @inlinable public var bitWidthUsed: Int { 256 - leadingZeroBitCount }

    /// Bytes needed to write the value big-endian without leading zeros (0 for zero).
    @inlinable public var byteWidthUsed: Int { (bitWidthUsed + 7) / 8 }

    /// Limb `i` (0 = least significant).
    @inlinable @inline(__always)
    public subscript(limb i: Int) -> UInt64 {
        get {
            switch i {
            case 0: return limbs.0
            case 1: return limbs.1
            case 2: return limbs.2
            default: return limbs.3
            }
        }
        set {
            switch i {
            case 0: limbs.0 = newValue
            case 1: limbs.1 = newValue
            case 2: limbs.2 = newValue
            default: limbs.3 = newValue
            }
        }
    }

    @inlinable @inline(__always)
    public static func == (a: UInt256, b: UInt256) -> Bool {
        ((a.limbs.0 ^ b.limbs.0) | (a.limbs.1 ^ b.limbs.1) | (a.limbs.2 ^ b.limbs.2) | (a.limbs.3 ^ b.limbs.3)) == 0
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(limbs.0)
        hasher.combine(limbs.1)
        hasher.combine(limbs.2)
        hasher.combine(limbs.3)
    }
}

extension UInt256: ExpressibleByIntegerLiteral {
    @inlinable
    public init(integerLiteral value: UInt64) { self.init(value) }
}

extension UInt256: Comparable {
    /// Unsigned order.
    @inlinable @inline(__always)
    public static func < (a: UInt256, b: UInt256) -> Bool {
        if a.limbs.3 != b.limbs.3 { return a.limbs.3 < b.limbs.3 }
        if a.limbs.2 != b.limbs.2 { return a.limbs.2 < b.limbs.2 }
        if a.limbs.1 != b.limbs.1 { return a.limbs.1 < b.limbs.1 }
        return a.limbs.0 < b.limbs.0
    }

    /// Signed (two's complement) less-than: the EVM's `SLT`.
    @inlinable @inline(__always)
    public func signedLessThan(_ other: UInt256) -> Bool {
        let an = isNegative, bn = other.isNegative
        if an != bn { return an }
        return self < other
    }
}
