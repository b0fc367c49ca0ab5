extension UInt256 {
    /// Sum and whether it overflowed 256 bits.
    @inlinable @inline(__always)
    public func addingReportingOverflow(_ b: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        // Carries as 0/1 integers, not `||` of flags, which compiled to branches.
        let (r0, c0) = addingWithCarry(limbs.0, b.limbs.0, 0)
        let (r1, c1) = addingWithCarry(limbs.1, b.limbs.1, c0)
        let (r2, c2) = addingWithCarry(limbs.2, b.limbs.2, c1)
        let (r3, c3) = addingWithCarry(limbs.3, b.limbs.3, c2)
        return (UInt256(limbs: (r0, r1, r2, r3)), c3 != 0)
    }

    /// Difference and whether it borrowed (b > self).
    @inlinable @inline(__always)
    public func subtractingReportingOverflow(_ b: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        let (r0, c0) = subtractingWithBorrow(limbs.0, b.limbs.0, 0)
        let (r1, c1) = subtractingWithBorrow(limbs.1, b.limbs.1, c0)
        let (r2, c2) = subtractingWithBorrow(limbs.2, b.limbs.2, c1)
        let (r3, c3) = subtractingWithBorrow(limbs.3, b.limbs.3, c2)
        return (UInt256(limbs: (r0, r1, r2, r3)), c3 != 0)
    }

    /// Product and whether it overflowed 256 bits.
    @inlinable
    public func multipliedReportingOverflow(by b: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        let wide = multipliedFullWidth(by: b)
        return (wide.low, !wide.high.isZero)
    }

    /// Sum modulo 2^256.
    @inlinable @inline(__always)
    public static func &+ (a: UInt256, b: UInt256) -> UInt256 { a.addingReportingOverflow(b).partialValue }

    /// Difference modulo 2^256.
    @inlinable @inline(__always)
    public static func &- (a: UInt256, b: UInt256) -> UInt256 { a.subtractingReportingOverflow(b).partialValue }

    /// Two's-complement negation (0 - self).
    @inlinable @inline(__always)
    public var negated: UInt256 { UInt256.zero &- self }

    /// Product modulo 2^256 (the low half of the full product), computed without the high half.
    @inlinable @inline(__always)
    public static func &* (a: UInt256, b: UInt256) -> UInt256 {
        let (a0, a1, a2, a3) = a.limbs
        let (b0, b1, b2, b3) = b.limbs
        var c: UInt64
        var r0, r1, r2, r3: UInt64
        (c, r0) = multiplyAdd(a0, b0, 0, 0)
        (c, r1) = multiplyAdd(a1, b0, 0, c)
        (c, r2) = multiplyAdd(a2, b0, 0, c)
        r3 = a3 &* b0 &+ c
        (c, r1) = multiplyAdd(a0, b1, r1, 0)
        (c, r2) = multiplyAdd(a1, b1, r2, c)
        r3 = r3 &+ a2 &* b1 &+ c
        (c, r2) = multiplyAdd(a0, b2, r2, 0)
        r3 = r3 &+ a1 &* b2 &+ c
        r3 = r3 &+ a0 &* b3
        return UInt256(limbs: (r0, r1, r2, r3))
    }

    /// The exact 512-bit product as (high, low) halves: schoolbook, one row per limb of `b`,
    /// straight-line so the limbs stay in registers (MULMOD's cost is mostly this and the
    /// reduction).
    @inlinable
    public func multipliedFullWidth(by b: UInt256) -> (high: UInt256, low: UInt256) {
        let (a0, a1, a2, a3) = limbs
        let (b0, b1, b2, b3) = b.limbs
        var c: UInt64
        var r0, r1, r2, r3, r4, r5, r6, r7: UInt64
        (c, r0) = multiplyAdd(a0, b0, 0, 0)
        (c, r1) = multiplyAdd(a1, b0, 0, c)
        (c, r2) = multiplyAdd(a2, b0, 0, c)
        (r4, r3) = multiplyAdd(a3, b0, 0, c)
        (c, r1) = multiplyAdd(a0, b1, r1, 0)
        (c, r2) = multiplyAdd(a1, b1, r2, c)
        (c, r3) = multiplyAdd(a2, b1, r3, c)
        (r5, r4) = multiplyAdd(a3, b1, r4, c)
        (c, r2) = multiplyAdd(a0, b2, r2, 0)
        (c, r3) = multiplyAdd(a1, b2, r3, c)
        (c, r4) = multiplyAdd(a2, b2, r4, c)
        (r6, r5) = multiplyAdd(a3, b2, r5, c)
        (c, r3) = multiplyAdd(a0, b3, r3, 0)
        (c, r4) = multiplyAdd(a1, b3, r4, c)
        (c, r5) = multiplyAdd(a2, b3, r5, c)
        (r7, r6) = multiplyAdd(a3, b3, r6, c)
        return (UInt256(limbs: (r4, r5, r6, r7)), UInt256(limbs: (r0, r1, r2, r3)))
    }

    /// Quotient and remainder of unsigned division; `divisor` must not be zero.
    @inlinable
    public func quotientAndRemainder(dividingBy divisor: UInt256) -> (quotient: UInt256, remainder: UInt256) {
        precondition(!divisor.isZero, "UInt256 division by zero")
        if self < divisor { return (.zero, self) }
        if fitsInUInt64 {  // then the divisor fits too
            return (UInt256(limbs.0 / divisor.limbs.0), UInt256(limbs.0 % divisor.limbs.0))
        }
        var q = UInt256.zero
        var r = UInt256.zero
        withUnsafeBytes(of: limbs) { u in
            withUnsafeBytes(of: divisor.limbs) { v in
                withUnsafeMutableBytes(of: &q.limbs) { qp in
                    withUnsafeMutableBytes(of: &r.limbs) { rp in
                        divideLimbs(
                            u.baseAddress!.assumingMemoryBound(to: UInt64.self), 4,
                            v.baseAddress!.assumingMemoryBound(to: UInt64.self), 4,
                            qp.baseAddress!.assumingMemoryBound(to: UInt64.self),
                            rp.baseAddress!.assumingMemoryBound(to: UInt64.self))
                    }
                }
            }
        }
        return (q, r)
    }

    /// Unsigned quotient; traps on a zero divisor.
    @inlinable
    public static func / (a: UInt256, b: UInt256) -> UInt256 { a.quotientAndRemainder(dividingBy: b).quotient }

    /// Unsigned remainder; traps on a zero divisor.
    @inlinable
    public static func % (a: UInt256, b: UInt256) -> UInt256 { a.quotientAndRemainder(dividingBy: b).remainder }

    /// `(high·2^256 + low) mod m` for a non-zero modulus: the 512-by-256-bit reduction behind `mulmod`.
    @inlinable
    public static func reduce(high: UInt256, low: UInt256, modulo m: UInt256) -> UInt256 {
        precondition(!m.isZero, "UInt256 reduction by zero")
        if high.isZero { return low % m }
        let u = (low.limbs.0, low.limbs.1, low.limbs.2, low.limbs.3, high.limbs.0, high.limbs.1, high.limbs.2, high.limbs.3)
        var q: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var r = UInt256.zero
        withUnsafeBytes(of: u) { up in
            withUnsafeBytes(of: m.limbs) { v in
                withUnsafeMutableBytes(of: &q) { qp in
                    withUnsafeMutableBytes(of: &r.limbs) { rp in
                        divideLimbs(
                            up.baseAddress!.assumingMemoryBound(to: UInt64.self), 8,
                            v.baseAddress!.assumingMemoryBound(to: UInt64.self), 4,
                            qp.baseAddress!.assumingMemoryBound(to: UInt64.self),
                            rp.baseAddress!.assumingMemoryBound(to: UInt64.self))
                    }
                }
            }
        }
        return r
    }
}

/// Long division of `u` (`uCount` limbs) by `v` (`vCount` limbs, not zero), least significant
/// limb first: Knuth's Algorithm D (TAOCP vol. 2, 4.3.1) on 64-bit digits. Writes the quotient
/// (up to `uCount` limbs, the rest left as given) and the remainder (`vCount` limbs, zero-filled).
/// Scratch space is on the stack.
@usableFromInline
func divideLimbs(
    _ u: UnsafePointer<UInt64>, _ uCount: Int,
    _ v: UnsafePointer<UInt64>, _ vCount: Int,
    _ q: UnsafeMutablePointer<UInt64>, _ r: UnsafeMutablePointer<UInt64>
) {
    var n = vCount
    while n > 0 && v[n - 1] == 0 { n -= 1 }
    precondition(n > 0, "division by zero")
    var m = uCount
    while m > 0 && u[m - 1] == 0 { m -= 1 }
    for i in 0..<vCount { r[i] = 0 }
    if m < n {  // dividend smaller than divisor
        for i in 0..<m { r[i] = u[i] }
        return
    }
    if n == 1 {
        let d = v[0]
        var rem: UInt64 = 0
        var i = m - 1
        while i >= 0 {
            (q[i], rem) = d.dividingFullWidth((rem, u[i]))
            i -= 1
        }
        r[0] = rem
        return
    }
    let shift = UInt64(v[n - 1].leadingZeroBitCount)
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: m + 1 + n) { scratch in
        let un = scratch.baseAddress!
        let vn = un + (m + 1)
        // D1: normalise so the divisor's top limb has its top bit set.
        if shift == 0 {
            for i in 0..<n { vn[i] = v[i] }
            for i in 0..<m { un[i] = u[i] }
            un[m] = 0
        } else {
            for i in stride(from: n - 1, to: 0, by: -1) { vn[i] = (v[i] << shift) | (v[i - 1] >> (64 - shift)) }
            vn[0] = v[0] << shift
            un[m] = u[m - 1] >> (64 - shift)
            for i in stride(from: m - 1, to: 0, by: -1) { un[i] = (u[i] << shift) | (u[i - 1] >> (64 - shift)) }
            un[0] = u[0] << shift
        }
        // D2-D7, shared with arbitrary-length division.
        divideNormalizedLimbs(un, count: m + 1, by: vn, n: n, quotient: q)
        // D8: unnormalise the remainder.
        if shift == 0 {
            for i in 0..<n { r[i] = un[i] }
        } else {
            for i in 0..<n { r[i] = (un[i] >> shift) | (un[i + 1] << (64 - shift)) }
        }
    }
}
