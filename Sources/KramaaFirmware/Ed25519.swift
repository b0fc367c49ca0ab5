// Ed25519 (RFC 8032, pure): key pairs from a 32-byte seed, signing, and verification (the
// cofactorless check [S]B = R + [k]A by encoding, as RFC 8032 §5.1.7 and the Wycheproof vectors
// expect). Points in extended coordinates on −x² + y² = 1 + dx²y² with the complete formulas of
// Hisil, Wong, Carter and Dawson (2008).

/// An Ed25519 point (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z; coordinates in Montgomery form.
struct EdwardsPoint: CurvePoint {
    var x: U256, y: U256, z: U256, t: U256

    static var f: MontgomeryField { .curve25519Field }
    static var identity: EdwardsPoint { EdwardsPoint(x: .zero, y: f.one, z: f.one, t: .zero) }
    static var base: EdwardsPoint { EdwardsPoint(x: Ed25519Constants.bx, y: Ed25519Constants.by, z: f.one, t: Ed25519Constants.bt) }

    static func select(_ mask: UInt32, _ a: EdwardsPoint, _ b: EdwardsPoint) -> EdwardsPoint {
        EdwardsPoint(x: .select(mask, a.x, b.x), y: .select(mask, a.y, b.y), z: .select(mask, a.z, b.z), t: .select(mask, a.t, b.t))
    }

    /// add-2008-hwcd-3 (a = −1).
    func adding(_ q: EdwardsPoint) -> EdwardsPoint {
        let f = Self.f
        let a = f.mul(f.sub(y, x), f.sub(q.y, q.x))
        let b = f.mul(f.add(y, x), f.add(q.y, q.x))
        let c = f.mul(f.mul(t, Ed25519Constants.d2), q.t)
        let zz = f.mul(z, q.z)
        let d = f.add(zz, zz)
        let e = f.sub(b, a), ff = f.sub(d, c), g = f.add(d, c), h = f.add(b, a)
        return EdwardsPoint(x: f.mul(e, ff), y: f.mul(g, h), z: f.mul(ff, g), t: f.mul(e, h))
    }

    /// dbl-2008-hwcd (a = −1).
    func doubled() -> EdwardsPoint {
        let f = Self.f
        let a = f.square(x), b = f.square(y)
        let zz = f.square(z)
        let c = f.add(zz, zz)
        let d = f.neg(a)
        let e = f.sub(f.sub(f.square(f.add(x, y)), a), b)
        let g = f.add(d, b), ff = f.sub(g, c), h = f.sub(d, b)
        return EdwardsPoint(x: f.mul(e, ff), y: f.mul(g, h), z: f.mul(ff, g), t: f.mul(e, h))
    }

    var negated: EdwardsPoint {
        let f = Self.f
        return EdwardsPoint(x: f.neg(x), y: y, z: z, t: f.neg(t))
    }

    /// RFC 8032 §5.1.2: y little-endian with x's low bit in the top bit.
    var encoded: Bytes32 {
        let f = Self.f
        let zi = f.invert(z)
        let ax = f.leave(f.mul(x, zi)), ay = f.leave(f.mul(y, zi))
        var out = ay.littleEndianBytes
        out[31] |= UInt8(ax.bit(0)) << 7
        return out
    }

    /// RFC 8032 §5.1.3; nil for a y not below p, no square root, or x = 0 with the sign bit set.
    init?(decoding bytes: Bytes32) {
        let f = Self.f
        var yb = bytes
        let sign = UInt32(yb[31] >> 7)
        yb[31] &= 0x7f
        let ay = U256(littleEndian: yb)
        guard ay.lessThanMask(f.m) != 0 else { return nil }
        let y = f.enter(ay)
        let yy = f.square(y)
        let u = f.sub(yy, f.one)
        let v = f.add(f.mul(Ed25519Constants.d, yy), f.one)
        let v3 = f.mul(f.square(v), v)
        let v7 = f.mul(f.square(v3), v)
        var x = f.mul(f.mul(u, v3), f.pow(f.mul(u, v7), Ed25519Constants.sqrtExponent))
        let vxx = f.mul(v, f.square(x))
        if vxx.equalMask(u) == 0 {
            guard vxx.equalMask(f.neg(u)) != 0 else { return nil }
            x = f.mul(x, Ed25519Constants.sqrtMinusOne)
        }
        let ax = f.leave(x)
        if ax.isZeroMask != 0 && sign == 1 { return nil }
        if ax.bit(0) != sign { x = f.neg(x) }
        self.init(x: x, y: y, z: f.one, t: f.mul(x, y))
    }

    init(x: U256, y: U256, z: U256, t: U256) {
        self.x = x
        self.y = y
        self.z = z
        self.t = t
    }
}

/// Ed25519 signatures.
public enum Ed25519 {
    /// A private key: the 32-byte seed (RFC 8032's private key) and what it expands to.
    public struct PrivateKey {
        public private(set) var seed: Bytes32
        /// The clamped secret scalar a, little-endian.
        private var scalar: U256
        /// The second half of SHA-512(seed): the nonce key.
        private var prefix: Bytes32
        public let publicKey: Bytes32

        public init(seed: Bytes32) {
            self.seed = seed
            var h = SHA512()
            h.update(contentsOf: seed)
            let digest = h.finalize()
            var a = Bytes32(repeating: 0), p = Bytes32(repeating: 0)
            for i in 0..<32 { a[i] = digest[i]; p[i] = digest[i + 32] }
            a[0] &= 248
            a[31] &= 127
            a[31] |= 64
            scalar = U256(littleEndian: a)
            prefix = p
            publicKey = EdwardsPoint.base.multiplied(by: scalar).encoded
        }

        /// A key from an entropy source (see ``EntropySource``).
        public static func generate<E: EntropySource>(_ entropy: inout E) throws(FirmwareCryptoError) -> PrivateKey {
            PrivateKey(seed: try Entropy.keyCandidate(&entropy, counter: 0))
        }

        /// The 64-byte signature `R ‖ S` of `message` (RFC 8032 §5.1.6).
        public func sign(message: UnsafeRawBufferPointer) -> Bytes64 {
            signParts { $0.update(message) }
        }

        /// Signs the message `write` feeds to a hasher (called twice: RFC 8032 hashes it twice).
        func signParts(_ write: (inout SHA512) -> Void) -> Bytes64 {
            let l = MontgomeryField.ed25519Order
            var h = SHA512()
            h.update(contentsOf: prefix)
            write(&h)
            var r = Ed25519.reduce(h.finalize())          // Montgomery form
            defer { r.wipe() }
            let rPoint = EdwardsPoint.base.multiplied(by: l.leave(r)).encoded
            var c = SHA512()
            c.update(contentsOf: rPoint)
            c.update(contentsOf: publicKey)
            write(&c)
            let k = Ed25519.reduce(c.finalize())
            let s = l.leave(l.add(r, l.mul(k, l.enter(scalar))))
            var out = Bytes64(repeating: 0)
            let sb = s.littleEndianBytes
            for i in 0..<32 { out[i] = rPoint[i]; out[i + 32] = sb[i] }
            return out
        }
    }

    /// Verifies `signature` (`R ‖ S`) of `message` by `publicKey`: A decodes, S < L, and
    /// encode([S]B − [k]A) equals R's bytes.
    public static func verify(signature: Bytes64, message: UnsafeRawBufferPointer, publicKey: Bytes32) -> Bool {
        guard let a = EdwardsPoint(decoding: publicKey) else { return false }
        let l = MontgomeryField.ed25519Order
        var rb = Bytes32(repeating: 0), sb = Bytes32(repeating: 0)
        for i in 0..<32 { rb[i] = signature[i]; sb[i] = signature[i + 32] }
        let s = U256(littleEndian: sb)
        guard s.lessThanMask(l.m) != 0 else { return false }
        let k = l.leave(challenge(rb, publicKey, message))
        let check = EdwardsPoint.base.multiplied(by: s).adding(a.negated.multiplied(by: k)).encoded
        var diff: UInt8 = 0
        for i in 0..<32 { diff |= check[i] ^ rb[i] }
        return diff == 0
    }

    /// SHA-512(R ‖ A ‖ M) mod L, Montgomery form.
    static func challenge(_ r: Bytes32, _ a: Bytes32, _ message: UnsafeRawBufferPointer) -> U256 {
        var h = SHA512()
        h.update(contentsOf: r)
        h.update(contentsOf: a)
        h.update(message)
        return reduce(h.finalize())
    }

    /// A 64-byte little-endian number mod L, in Montgomery form: lo + hi·2²⁵⁶.
    static func reduce(_ wide: Bytes64) -> U256 {
        let l = MontgomeryField.ed25519Order
        var lo = Bytes32(repeating: 0), hi = Bytes32(repeating: 0)
        for i in 0..<32 { lo[i] = wide[i]; hi[i] = wide[i + 32] }
        return l.add(l.enter(U256(littleEndian: lo)), l.mul(l.enter(U256(littleEndian: hi)), l.r2))
    }
}
