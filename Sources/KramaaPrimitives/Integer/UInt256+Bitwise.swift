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

    /// Left shift; shifts of 256 or more give zero.
    @inlinable @inline(__always)
    public static func << (a: UInt256, n: Int) -> UInt256 {
        if n >= 256 { return .zero }
        if n <= 0 { return n == 0 ? a : a >> -n }
        let limbShift = n >> 6, bits = UInt64(n & 63)
        var r = UInt256.zero
        if bits == 0 {
            for i in limbShift..<4 { r[limb: i] = a[limb: i - limbShift] }
        } else {
            r[limb: limbShift] = a[limb: 0] << bits
            for i in (limbShift + 1)..<4 {
                r[limb: i] = (a[limb: i - limbShift] << bits) | (a[limb: i - limbShift - 1] >> (64 - bits))
            }
        }
        return r
    }

    /// Logical right shift; shifts of 256 or more give zero.
    @inlinable @inline(__always)
    public static func >> (a: UInt256, n: Int) -> UInt256 {
        if n >= 256 { return .zero }
        if n <= 0 { return n == 0 ? a : a << -n }
        let limbShift = n >> 6, bits = UInt64(n & 63)
        var r = UInt256.zero
        let top = 3 - limbShift
        if bits == 0 {
            for i in 0...top { r[limb: i] = a[limb: i + limbShift] }
        } else {
            for i in 0..<top {
                r[limb: i] = (a[limb: i + limbShift] >> bits) | (a[limb: i + limbShift + 1] << (64 - bits))
            }
            r[limb: top] = a[limb: 3] >> bits
        }
        return r
    }

    /// The shift amount an EVM shift opcode takes: the whole word, where anything ≥ 256 saturates.
    @inlinable @inline(__always)
    var shiftAmount: Int { fitsInUInt64 && limbs.0 < 256 ? Int(limbs.0) : 256 }

    /// EVM `SHL`: `value << self`.
    @inlinable public func shl(_ value: UInt256) -> UInt256 { value << shiftAmount }

    /// EVM `SHR`: `value >> self`, logical.
    @inlinable public func shr(_ value: UInt256) -> UInt256 { value >> shiftAmount }

    /// EVM `SAR`: `value >> self`, arithmetic (copies of the sign bit shift in).
    @inlinable public func sar(_ value: UInt256) -> UInt256 {
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
