// X25519 (RFC 7748 §5): Diffie–Hellman on Curve25519's Montgomery form, on the same constant-time
// field arithmetic as Ed25519 (Curve25519's field in Montgomery representation). The ladder
// runs the same 255 steps for every scalar and swaps by masks, never by branches.

public enum X25519 {
    /// The base point's u-coordinate, 9.
    public static var basePoint: Bytes32 {
        var u = Bytes32(repeating: 0)
        u[0] = 9
        return u
    }

    /// X25519(k, u): the scalar clamped (low three bits and bit 255 cleared, bit 254 set), the
    /// top bit of u ignored and a non-canonical u (≥ p) taken modulo p, as RFC 7748 requires.
    /// Zero for a u of small order.
    public static func scalarMult(_ scalar: Bytes32, _ u: Bytes32) -> Bytes32 {
        let f = MontgomeryField.curve25519Field
        var k = scalar
        k[0] &= 248
        k[31] = (k[31] & 127) | 64
        var ub = u
        ub[31] &= 127
        var kk = U256(littleEndian: k)
        for i in 0..<32 { k[i] = 0 }
        let a24 = f.enter(U256(121_665))
        let x1 = f.enter(U256(littleEndian: ub))
        var x2 = f.one, z2 = U256.zero, x3 = x1, z3 = f.one
        var swap: UInt32 = 0
        var t = 254
        while t >= 0 {
            let bit = kk.bit(t)
            swap ^= bit
            cswap(0 &- swap, &x2, &x3)
            cswap(0 &- swap, &z2, &z3)
            swap = bit
            let a = f.add(x2, z2), aa = f.square(a)
            let b = f.sub(x2, z2), bb = f.square(b)
            let e = f.sub(aa, bb)
            let c = f.add(x3, z3), d = f.sub(x3, z3)
            let da = f.mul(d, a), cb = f.mul(c, b)
            x3 = f.square(f.add(da, cb))
            z3 = f.mul(x1, f.square(f.sub(da, cb)))
            x2 = f.mul(aa, bb)
            z2 = f.mul(e, f.add(aa, f.mul(a24, e)))
            t -= 1
        }
        cswap(0 &- swap, &x2, &x3)
        cswap(0 &- swap, &z2, &z3)
        kk.wipe()
        x3.wipe()
        z3.wipe()
        return f.leave(f.mul(x2, f.invert(z2))).littleEndianBytes
    }

    /// The public key of a 32-byte secret: X25519(secret, 9).
    public static func publicKey(_ secret: Bytes32) -> Bytes32 { scalarMult(secret, basePoint) }

    /// The shared secret with a peer's public key; refused when it is all zeros (a peer key of
    /// small order, which would give every observer the secret: RFC 9180 §7.1.4).
    public static func sharedSecret(_ secret: Bytes32, _ peer: Bytes32) throws(FirmwareCryptoError) -> Bytes32 {
        let shared = scalarMult(secret, peer)
        var acc: UInt8 = 0
        for i in 0..<32 { acc |= shared[i] }
        guard acc != 0 else { throw .invalidPublicKey }
        return shared
    }

    @inline(__always) static func cswap(_ mask: UInt32, _ a: inout U256, _ b: inout U256) {
        for i in 0..<8 {
            let x = mask & (a.limbs[i] ^ b.limbs[i])
            a.limbs[i] ^= x
            b.limbs[i] ^= x
        }
    }
}
