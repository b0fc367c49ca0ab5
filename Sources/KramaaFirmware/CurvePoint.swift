/// A point of a prime-order group written with complete formulas (no special cases, so the
/// same operations run whatever the inputs): what the constant-time scalar multiplication needs.
protocol CurvePoint {
    static var identity: Self { get }
    func adding(_ other: Self) -> Self
    func doubled() -> Self
    /// `a` where `mask` is all ones, `b` where it is zero.
    static func select(_ mask: UInt32, _ a: Self, _ b: Self) -> Self
}

extension CurvePoint {
    /// [k]self, constant time in k: a 4-bit fixed window; every table entry is read for every
    /// window (no secret-dependent address), every window adds (the identity for a zero digit).
    func multiplied(by k: U256) -> Self {
        var table = InlineArray<16, Self>(repeating: Self.identity)
        table[1] = self
        for i in 2..<16 { table[i] = (i & 1 == 0) ? table[i >> 1].doubled() : table[i - 1].adding(self) }
        var acc = Self.identity
        var window = 63
        while window >= 0 {
            if window != 63 { for _ in 0..<4 { acc = acc.doubled() } }
            let digit = k.limbs[window >> 3] >> UInt32((window & 7) * 4) & 0xf
            var chosen = Self.identity
            for i in 1..<16 {
                let x = UInt32(i) ^ digit
                let equal = ((x | (0 &- x)) >> 31) &- 1
                chosen = Self.select(equal, table[i], chosen)
            }
            acc = acc.adding(chosen)
            window -= 1
        }
        return acc
    }
}
