// Constant-time arithmetic modulo an odd 256-bit number in Montgomery form (R = 2^256), on
// eight 32-bit limbs: one engine for the four moduli the device needs (P-256's field and group
// order, Curve25519's field and Ed25519's group order). No branch or memory access depends on
// a secret value; exponents (inversions, square roots) are public constants.

/// A 256-bit number, eight 32-bit limbs, least significant first.
public struct U256: Sendable {
    public var limbs: InlineArray<8, UInt32>

    @inline(__always) public init(limbs: InlineArray<8, UInt32>) { self.limbs = limbs }

    public static var zero: U256 { U256(limbs: .init(repeating: 0)) }

    /// A small number.
    public init(_ value: UInt32) {
        limbs = .init(repeating: 0)
        limbs[0] = value
    }

    /// From 32 big-endian bytes.
    public init(bigEndian bytes: Bytes32) {
        limbs = .init(repeating: 0)
        for i in 0..<8 {
            let o = 28 - 4 * i
            limbs[i] = UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3])
        }
    }

    /// From 32 little-endian bytes (Curve25519's encodings).
    public init(littleEndian bytes: Bytes32) {
        limbs = .init(repeating: 0)
        for i in 0..<8 {
            limbs[i] = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24
        }
    }

    public var bigEndianBytes: Bytes32 {
        var out = Bytes32(repeating: 0)
        for i in 0..<8 {
            for j in 0..<4 { out[28 - 4 * i + j] = UInt8(truncatingIfNeeded: limbs[i] >> UInt32(24 - 8 * j)) }
        }
        return out
    }

    public var littleEndianBytes: Bytes32 {
        var out = Bytes32(repeating: 0)
        for i in 0..<8 {
            for j in 0..<4 { out[4 * i + j] = UInt8(truncatingIfNeeded: limbs[i] >> UInt32(8 * j)) }
        }
        return out
    }

    /// Bit `i` (0 = least significant).
    @inline(__always) public func bit(_ i: Int) -> UInt32 { limbs[i >> 5] >> UInt32(i & 31) & 1 }

    /// All ones when zero, else zero; without branching on the value.
    public var isZeroMask: UInt32 {
        var acc: UInt32 = 0
        for i in 0..<8 { acc |= limbs[i] }
        return ((acc | (0 &- acc)) >> 31) &- 1
    }

    /// All ones when equal, else zero.
    public func equalMask(_ other: U256) -> UInt32 {
        var acc: UInt32 = 0
        for i in 0..<8 { acc |= limbs[i] ^ other.limbs[i] }
        return ((acc | (0 &- acc)) >> 31) &- 1
    }

    /// `self - other` and the borrow out (0 or 1).
    @inline(__always) public func subtracting(_ other: U256) -> (U256, UInt32) {
        var out = U256.zero
        var borrow: UInt64 = 0
        for i in 0..<8 {
            let d = UInt64(limbs[i]) &- UInt64(other.limbs[i]) &- borrow
            out.limbs[i] = UInt32(truncatingIfNeeded: d)
            borrow = d >> 63
        }
        return (out, UInt32(borrow))
    }

    /// `self + other` and the carry out (0 or 1).
    @inline(__always) public func adding(_ other: U256) -> (U256, UInt32) {
        var out = U256.zero
        var carry: UInt64 = 0
        for i in 0..<8 {
            let s = UInt64(limbs[i]) &+ UInt64(other.limbs[i]) &+ carry
            out.limbs[i] = UInt32(truncatingIfNeeded: s)
            carry = s >> 32
        }
        return (out, UInt32(carry))
    }

    /// All ones when `self < other`, else zero (constant time).
    public func lessThanMask(_ other: U256) -> UInt32 { 0 &- subtracting(other).1 }

    /// `a` where mask is all ones, `b` where it is zero.
    @inline(__always) public static func select(_ mask: UInt32, _ a: U256, _ b: U256) -> U256 {
        var out = b
        for i in 0..<8 { out.limbs[i] = b.limbs[i] ^ (mask & (a.limbs[i] ^ b.limbs[i])) }
        return out
    }

    /// Overwrites the limbs (keys leave no copy behind where this is called).
    public mutating func wipe() {
        for i in 0..<8 { limbs[i] = 0 }
    }
}

/// Arithmetic modulo `m`; values are kept in Montgomery form (`x·R mod m`) and below `m`.
public struct MontgomeryField: Sendable {
    public let m: U256
    /// −m⁻¹ mod 2³².
    let m0inv: UInt32
    /// R² mod m, to enter Montgomery form.
    let r2: U256
    /// R mod m: one, in Montgomery form.
    public let one: U256

    public init(m: U256, m0inv: UInt32, r2: U256, one: U256) {
        self.m = m
        self.m0inv = m0inv
        self.r2 = r2
        self.one = one
    }

    /// a·b·R⁻¹ mod m (CIOS). Inputs below m (one of them may be any 256-bit number).
    public func mul(_ a: U256, _ b: U256) -> U256 {
        var t = InlineArray<10, UInt32>(repeating: 0)
        for i in 0..<8 {
            let bi = UInt64(b.limbs[i])
            var c: UInt64 = 0
            for j in 0..<8 {
                let s = UInt64(t[j]) &+ UInt64(a.limbs[j]) &* bi &+ c
                t[j] = UInt32(truncatingIfNeeded: s)
                c = s >> 32
            }
            var s = UInt64(t[8]) &+ c
            t[8] = UInt32(truncatingIfNeeded: s)
            t[9] = UInt32(truncatingIfNeeded: s >> 32)
            let q = UInt64(t[0] &* m0inv)
            s = UInt64(t[0]) &+ q &* UInt64(m.limbs[0])
            c = s >> 32
            for j in 1..<8 {
                s = UInt64(t[j]) &+ q &* UInt64(m.limbs[j]) &+ c
                t[j - 1] = UInt32(truncatingIfNeeded: s)
                c = s >> 32
            }
            s = UInt64(t[8]) &+ c
            t[7] = UInt32(truncatingIfNeeded: s)
            t[8] = t[9] &+ UInt32(truncatingIfNeeded: s >> 32)
        }
        var r = U256.zero
        for i in 0..<8 { r.limbs[i] = t[i] }
        let (d, borrow) = r.subtracting(m)
        // Keep r only when it is below m: no carry out and a borrow.
        let keep = (0 &- borrow) & ((t[8] &- 1))
        return U256.select(keep, r, d)
    }

    @inline(__always) public func square(_ a: U256) -> U256 { mul(a, a) }

    public func add(_ a: U256, _ b: U256) -> U256 {
        let (s, carry) = a.adding(b)
        let (d, borrow) = s.subtracting(m)
        let keep = (0 &- borrow) & (carry &- 1)
        return U256.select(keep, s, d)
    }

    public func sub(_ a: U256, _ b: U256) -> U256 {
        let (d, borrow) = a.subtracting(b)
        var addend = m
        let mask = 0 &- borrow
        for i in 0..<8 { addend.limbs[i] &= mask }
        return d.adding(addend).0
    }

    @inline(__always) public func neg(_ a: U256) -> U256 { sub(.zero, a) }

    /// Into Montgomery form; any 256-bit input (the result is reduced mod m).
    @inline(__always) public func enter(_ x: U256) -> U256 { mul(x, r2) }

    /// Out of Montgomery form: the canonical value below m.
    @inline(__always) public func leave(_ x: U256) -> U256 { mul(x, U256(1)) }

    /// aᵉ for a public exponent e (square and multiply, left to right).
    public func pow(_ a: U256, _ e: U256) -> U256 {
        var r = one
        var i = 255
        while i >= 0 {
            r = square(r)
            let t = mul(r, a)
            if e.bit(i) == 1 { r = t }   // e is public
            i -= 1
        }
        return r
    }

    /// a⁻¹ (Fermat: a^(m−2), m prime); 0 for 0.
    public func invert(_ a: U256) -> U256 { pow(a, m.subtracting(U256(2)).0) }
}
