/// EVM arithmetic with Yellow Paper semantics: a zero divisor or modulus gives zero, and
/// signed operations read words as two's complement.
extension UInt256 {
    /// The magnitude of the two's-complement reading.
    @inlinable @inline(__always)
    var magnitude: UInt256 { isNegative ? negated : self }

    /// EVM `DIV`: unsigned quotient, zero when dividing by zero.
    @inlinable public func div(_ d: UInt256) -> UInt256 { d.isZero ? .zero : self / d }

    /// EVM `MOD`: unsigned remainder, zero when the modulus is zero.
    @inlinable public func mod(_ d: UInt256) -> UInt256 { d.isZero ? .zero : self % d }

    /// EVM `SDIV`: signed quotient truncated toward zero; `-2^255 / -1` wraps to `-2^255`.
    @inlinable public func sdiv(_ d: UInt256) -> UInt256 {
        if d.isZero { return .zero }
        let q = magnitude / d.magnitude
        return isNegative != d.isNegative ? q.negated : q
    }

    /// EVM `SMOD`: signed remainder, taking the dividend's sign.
    @inlinable public func smod(_ d: UInt256) -> UInt256 {
        if d.isZero { return .zero }
        let r = magnitude % d.magnitude
        return isNegative ? r.negated : r
    }

    /// EVM `ADDMOD`: `(self + b) mod m` with the sum taken exactly (no 2^256 wrap); zero for `m == 0`.
    @inlinable public func addmod(_ b: UInt256, _ m: UInt256) -> UInt256 {
        if m.isZero { return .zero }
        let x = self < m ? self : self % m
        let y = b < m ? b : b % m
        let (s, carry) = x.addingReportingOverflow(y)
        return (carry || s >= m) ? s &- m : s
    }

    /// EVM `MULMOD`: `(self · b) mod m` through the exact 512-bit product; zero for `m == 0`.
    @inlinable public func mulmod(_ b: UInt256, _ m: UInt256) -> UInt256 {
        if m.isZero { return .zero }
        let p = multipliedFullWidth(by: b)
        return UInt256.reduce(high: p.high, low: p.low, modulo: m)
    }

    /// EVM `EXP`: `self^e` modulo 2^256, by square-and-multiply over the bits of `e`.
    @inlinable public func power(_ e: UInt256) -> UInt256 {
        var result = UInt256.one
        var base = self
        let bits = e.bitWidthUsed
        var i = 0
        while i < bits {
            if (e[limb: i >> 6] >> UInt64(i & 63)) & 1 == 1 { result = result &* base }
            i += 1
            if i < bits { base = base &* base }
        }
        return result
    }

    /// Signed greater-than: the EVM's `SGT`.
    @inlinable public func signedGreaterThan(_ other: UInt256) -> Bool { other.signedLessThan(self) }
}
