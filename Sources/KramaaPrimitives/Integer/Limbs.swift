// Arithmetic on 64-bit limbs (little-endian arrays of UInt64), shared by UInt256 and by the
// arbitrary-length and prime-field arithmetic built above it (the EVM's precompiles).
// Carries and borrows are integers (0 or 1), so the compiler emits add-with-carry chains
// rather than branches.

/// `a·b + c + d` as a 128-bit (high, low) pair; it cannot overflow.
@inlinable @inline(__always)
public func multiplyAdd(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> (high: UInt64, low: UInt64) {
    let (h, l) = a.multipliedFullWidth(by: b)
    let (l1, o1) = l.addingReportingOverflow(c)
    let (l2, o2) = l1.addingReportingOverflow(d)
    return (h &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0), l2)
}

/// `a + b + carry` (carry 0 or 1) and the carry out.
@inlinable @inline(__always)
public func addingWithCarry(_ a: UInt64, _ b: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
    let (s, o1) = a.addingReportingOverflow(b)
    let (t, o2) = s.addingReportingOverflow(carry)
    return (t, (o1 ? 1 : 0) &+ (o2 ? 1 : 0))
}

/// `a − b − borrow` (borrow 0 or 1) and the borrow out.
@inlinable @inline(__always)
public func subtractingWithBorrow(_ a: UInt64, _ b: UInt64, _ borrow: UInt64) -> (UInt64, UInt64) {
    let (d, o1) = a.subtractingReportingOverflow(b)
    let (e, o2) = d.subtractingReportingOverflow(borrow)
    return (e, (o1 ? 1 : 0) &+ (o2 ? 1 : 0))
}

/// The core of Knuth's Algorithm D (TAOCP vol. 2, 4.3.1) on 64-bit digits, for a divisor
/// already normalised (shifted so its top bit is set) and a dividend shifted by the same
/// amount. `un` holds `count` limbs (the shifted dividend, with the bits shifted out on top);
/// `v` holds `n ≥ 2` limbs. On return `un[0 ..< n]` is the remainder (still shifted) and, when
/// `quotient` is given, `quotient[0 ... count - 1 - n]` are the quotient digits.
///
/// Callers normalise: UInt256 division once per call, modular exponentiation once per modulus.
public func divideNormalizedLimbs(
    _ un: UnsafeMutablePointer<UInt64>, count: Int,
    by v: UnsafePointer<UInt64>, n: Int,
    quotient: UnsafeMutablePointer<UInt64>?
) {
    let vTop = v[n - 1], vNext = v[n - 2]
    for j in stride(from: count - 1 - n, through: 0, by: -1) {
        // Estimate the quotient digit from the top two limbs, then correct it with the third.
        var qhat: UInt64, rhat: UInt64
        var rhatOverflow = false
        if un[j + n] >= vTop {
            // un[j+n] == vTop (the running remainder stays below v), so the estimate is b − 1
            // with remainder vTop + un[j+n-1].
            qhat = .max
            (rhat, rhatOverflow) = un[j + n - 1].addingReportingOverflow(vTop)
        } else {
            (qhat, rhat) = vTop.dividingFullWidth((un[j + n], un[j + n - 1]))
        }
        while !rhatOverflow {
            let (ph, pl) = qhat.multipliedFullWidth(by: vNext)
            guard ph > rhat || (ph == rhat && pl > un[j + n - 2]) else { break }
            qhat &-= 1
            (rhat, rhatOverflow) = rhat.addingReportingOverflow(vTop)
        }
        // un[j ... j+n] -= qhat · v
        var carry: UInt64 = 0
        var borrow: UInt64 = 0
        for i in 0..<n {
            let (high, low) = multiplyAdd(qhat, v[i], carry, 0)
            carry = high
            (un[i + j], borrow) = subtractingWithBorrow(un[i + j], low, borrow)
        }
        let (top, negative) = subtractingWithBorrow(un[j + n], carry, borrow)
        un[j + n] = top
        if negative != 0 {
            // qhat was one too large: add v back.
            qhat &-= 1
            var c: UInt64 = 0
            for i in 0..<n { (un[i + j], c) = addingWithCarry(un[i + j], v[i], c) }
            un[j + n] &+= c
        }
        quotient?[j] = qhat
    }
}
