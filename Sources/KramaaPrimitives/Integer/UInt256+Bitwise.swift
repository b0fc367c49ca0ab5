extension UInt256 {
    @inlinable @inline(__always)
    public static func & (a: UInt256, b: UInt256) -> UInt256 {
        UInt256(limbs: (a.limbs.0 & b.limbs.0, a.limbs.1 & b.limbs.1, a.limbs.2 & b.limbs.2, a.limbs.3 & b.limbs.3))
    }

    @inlinable @inline(__always)
    public static func | (a: UInt256, b: UInt256) -> UInt256 {
        UInt256(limbs: (a.limbs.0 | b.limbs.0, a.limbs.1 | b.limbs.1, a.limbs.2 | b.limbs.2, a.limbs.3 | b.limbs.3))
    }

    @inlinable @inline(__always)
    public static func ^ (a: UInt256, b: UInt256) -> UInt256 {
        UInt256(limbs: (a.limbs.0 ^ b.limbs.0, a.limbs.1 ^ b.limbs.1, a.limbs.2 ^ b.limbs.2, a.limbs.3 ^ b.limbs.3))
    }

    @inlinable @inline(__always)
    public static prefix func ~ (a: UInt256) -> UInt256 {
        UInt256(limbs: (~a.limbs.0, ~a.limbs.1, ~a.limbs.2, ~a.limbs.3))
    }

    /// Left shift; shifts of 256 or more give zero. Straight-line: every limb is shifted by the
    /// bit count, then the whole-limb part picks one of four placements (no loops over limbs by
    /// index, which the compiler cannot keep in registers).
    @inlinable @inline(__always)
    public static func << (a: UInt256, n: Int) -> UInt256 {
        if n >= 256 { return .zero }
        if n <= 0 { return n == 0 ? a : a >> -n }
        let b = UInt64(n & 63), back = 63 &- b
        let (a0, a1, a2, a3) = a.limbs
        // `x >> (64 − b)` as two shifts, so b = 0 carries nothing instead of shifting by 64.
        let s0 = a0 &<< b
        let s1 = (a1 &<< b) | ((a0 &>> back) &>> 1)
        let s2 = (a2 &<< b) | ((a1 &>> back) &>> 1)
        let s3 = (a3 &<< b) | ((a2 &>> back) &>> 1)
        switch n >> 6 {
        case 0: return UInt256(limbs: (s0, s1, s2, s3))
        case 1: return UInt256(limbs: (0, s0, s1, s2))
        case 2: return UInt256(limbs: (0, 0, s0, s1))
        default: return UInt256(limbs: (0, 0, 0, s0))
        }
    }

    /// Logical right shift; shifts of 256 or more give zero. Straight-line, as ``<<(_:_:)``.
    @inlinable @inline(__always)
    public static func >> (a: UInt256, n: Int) -> UInt256 {
        if n >= 256 { return .zero }
        if n <= 0 { return n == 0 ? a : a << -n }
        let b = UInt64(n & 63), back = 63 &- b
        let (a0, a1, a2, a3) = a.limbs
        let t0 = (a0 &>> b) | ((a1 &<< back) &<< 1)
        let t1 = (a1 &>> b) | ((a2 &<< back) &<< 1)
        let t2 = (a2 &>> b) | ((a3 &<< back) &<< 1)
        let t3 = a3 &>> b
        switch n >> 6 {
        case 0: return UInt256(limbs: (t0, t1, t2, t3))
        case 1: return UInt256(limbs: (t1, t2, t3, 0))
        case 2: return UInt256(limbs: (t2, t3, 0, 0))
        default: return UInt256(limbs: (t3, 0, 0, 0))
        }
    }

    /// The shift amount an EVM shift opcode takes: the whole word, where anything ≥ 256 saturates.
    @inlinable @inline(__always)
    var shiftAmount: Int { fitsInUInt64 && limbs.0 < 256 ? Int(limbs.0) : 256 }

    /// EVM `SHL`: `value << self`.
    @inlinable @inline(__always) public func shl(_ value: UInt256) -> UInt256 { value << shiftAmount }

    /// EVM `SHR`: `value >> self`, logical.
    @inlinable @inline(__always) public func shr(_ value: UInt256) -> UInt256 { value >> shiftAmount }

    /// EVM `SAR`: `value >> self`, arithmetic (copies of the sign bit shift in).
    @inlinable @inline(__always) public func sar(_ value: UInt256) -> UInt256 {
        let n = shiftAmount
        if !value.isNegative { return value >> n }
        if n >= 256 { return .max }
        return ~(~value >> n)
    }

    /// EVM `BYTE`: byte `self` of `value`, counting from the most significant (0) to 31.
    @inlinable public func byte(of value: UInt256) -> UInt256 {
        guard fitsInUInt64, limbs.0 < 32 else { return .zero }
        let i = Int(limbs.0)
        let bitFromBottom = (31 - i) * 8
        return UInt256((value[limb: bitFromBottom >> 6] >> UInt64(bitFromBottom & 63)) & 0xff)
    }

    /// EVM `SIGNEXTEND`: extends the sign of byte `self` (0 = least significant) of `value` upwards.
    @inlinable public func signExtend(_ value: UInt256) -> UInt256 {
        guard fitsInUInt64, limbs.0 < 31 else { return value }
        let signBitIndex = Int(limbs.0) * 8 + 7
        let mask = (UInt256.one << (signBitIndex + 1)) &- .one
        let negative = (value >> signBitIndex).limbs.0 & 1 == 1
        return negative ? value | ~mask : value & mask
    }
}
