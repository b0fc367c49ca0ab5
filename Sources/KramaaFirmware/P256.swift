// ECDSA on NIST P-256 (FIPS 186-5, SEC 1) for devices: key pairs, signing of a 32-byte digest
// with RFC 6979 deterministic nonces and low s, and verification (for what a device receives,
// and for the Wycheproof vectors). Points in projective coordinates with the complete a = −3
// formulas of Renes, Costello and Batina (2015, algorithms 4 and 6).

/// A P-256 point (X : Y : Z), coordinates in Montgomery form; Z = 0 is the point at infinity.
struct P256Point: CurvePoint {
    var x: U256, y: U256, z: U256

    static var f: MontgomeryField { .p256Field }
    static var identity: P256Point { P256Point(x: .zero, y: f.one, z: .zero) }
    static var generator: P256Point { P256Point(x: P256Constants.gx, y: P256Constants.gy, z: f.one) }

    static func select(_ mask: UInt32, _ a: P256Point, _ b: P256Point) -> P256Point {
        P256Point(x: .select(mask, a.x, b.x), y: .select(mask, a.y, b.y), z: .select(mask, a.z, b.z))
    }

    func adding(_ q: P256Point) -> P256Point {
        let f = Self.f, b = P256Constants.b
        var t0 = f.mul(x, q.x), t1 = f.mul(y, q.y), t2 = f.mul(z, q.z)
        var t3 = f.add(x, y), t4 = f.add(q.x, q.y)
        t3 = f.mul(t3, t4); t4 = f.add(t0, t1); t3 = f.sub(t3, t4)
        t4 = f.add(y, z); var x3 = f.add(q.y, q.z); t4 = f.mul(t4, x3)
        x3 = f.add(t1, t2); t4 = f.sub(t4, x3)
        x3 = f.add(x, z); var y3 = f.add(q.x, q.z); x3 = f.mul(x3, y3)
        y3 = f.add(t0, t2); y3 = f.sub(x3, y3)
        var z3 = f.mul(b, t2); x3 = f.sub(y3, z3); z3 = f.add(x3, x3); x3 = f.add(x3, z3)
        z3 = f.sub(t1, x3); x3 = f.add(t1, x3)
        y3 = f.mul(b, y3); t1 = f.add(t2, t2); t2 = f.add(t1, t2); y3 = f.sub(y3, t2); y3 = f.sub(y3, t0)
        t1 = f.add(y3, y3); y3 = f.add(t1, y3)
        t1 = f.add(t0, t0); t0 = f.add(t1, t0); t0 = f.sub(t0, t2)
        t1 = f.mul(t4, y3); t2 = f.mul(t0, y3)
        y3 = f.mul(x3, z3); y3 = f.add(y3, t2)
        x3 = f.mul(t3, x3); x3 = f.sub(x3, t1)
        z3 = f.mul(t4, z3); t1 = f.mul(t3, t0); z3 = f.add(z3, t1)
        return P256Point(x: x3, y: y3, z: z3)
    }

    func doubled() -> P256Point {
        let f = Self.f, b = P256Constants.b
        var t0 = f.square(x), t1 = f.square(y), t2 = f.square(z)
        var t3 = f.mul(x, y); t3 = f.add(t3, t3)
        var z3 = f.mul(x, z); z3 = f.add(z3, z3)
        var y3 = f.mul(b, t2); y3 = f.sub(y3, z3)
        var x3 = f.add(y3, y3); y3 = f.add(x3, y3)
        x3 = f.sub(t1, y3); y3 = f.add(t1, y3); y3 = f.mul(x3, y3); x3 = f.mul(x3, t3)
        t3 = f.add(t2, t2); t2 = f.add(t2, t3)
        z3 = f.mul(b, z3); z3 = f.sub(z3, t2); z3 = f.sub(z3, t0)
        t3 = f.add(z3, z3); z3 = f.add(z3, t3)
        t3 = f.add(t0, t0); t0 = f.add(t3, t0); t0 = f.sub(t0, t2)
        t0 = f.mul(t0, z3); y3 = f.add(y3, t0)
        t0 = f.mul(y, z); t0 = f.add(t0, t0)
        z3 = f.mul(t0, z3); x3 = f.sub(x3, z3)
        z3 = f.mul(t0, t1); z3 = f.add(z3, z3); z3 = f.add(z3, z3)
        _ = t1
        return P256Point(x: x3, y: y3, z: z3)
    }

    /// The affine coordinates (canonical, out of Montgomery form); zeros for infinity.
    var affine: (x: U256, y: U256) {
        let f = Self.f
        let zi = f.invert(z)
        return (f.leave(f.mul(x, zi)), f.leave(f.mul(y, zi)))
    }

    /// The point of affine (x, y) if it is on the curve with both coordinates below p.
    init?(affineX ax: U256, y ay: U256) {
        let f = Self.f
        guard ax.lessThanMask(f.m) != 0, ay.lessThanMask(f.m) != 0 else { return nil }
        let x = f.enter(ax), y = f.enter(ay)
        guard Self.rhs(x).equalMask(f.square(y)) != 0 else { return nil }
        self.init(x: x, y: y, z: f.one)
    }

    /// x³ − 3x + b (Montgomery form).
    static func rhs(_ x: U256) -> U256 {
        let f = Self.f
        let x3 = f.mul(f.square(x), x)
        let threeX = f.add(f.add(x, x), x)
        return f.add(f.sub(x3, threeX), P256Constants.b)
    }

    init(x: U256, y: U256, z: U256) {
        self.x = x
        self.y = y
        self.z = z
    }
}

/// Why a key or signature is refused.
public enum FirmwareCryptoError: Error, Equatable {
    /// The entropy source failed or gave constant output.
    case entropyFailed
    /// A private key that is zero or not below the group order.
    case invalidPrivateKey
    /// Bytes that are not a point of the curve, or a length the encoding does not have.
    case invalidPublicKey
}

/// P-256 ECDSA.
public enum P256 {
    /// A public key: SEC 1 compressed (33 bytes) and uncompressed (65 bytes) forms.
    public struct PublicKey {
        public var x: Bytes32
        public var y: Bytes32

        /// `02`/`03` ‖ x.
        public var compressed: InlineArray<33, UInt8> {
            var out = InlineArray<33, UInt8>(repeating: 0)
            out[0] = 0x02 | (y[31] & 1)
            for i in 0..<32 { out[i + 1] = x[i] }
            return out
        }

        /// Parses SEC 1 compressed (33) or uncompressed (65) bytes; the point must be on the curve.
        public init(sec1 bytes: UnsafeRawBufferPointer) throws(FirmwareCryptoError) {
            var xb = Bytes32(repeating: 0)
            for i in 0..<32 where bytes.count > i + 1 { xb[i] = bytes[i + 1] }
            let f = P256Point.f
            if bytes.count == 65 && bytes[0] == 0x04 {
                var yb = Bytes32(repeating: 0)
                for i in 0..<32 { yb[i] = bytes[i + 33] }
                guard P256Point(affineX: U256(bigEndian: xb), y: U256(bigEndian: yb)) != nil else { throw .invalidPublicKey }
                x = xb
                y = yb
            } else if bytes.count == 33 && (bytes[0] == 0x02 || bytes[0] == 0x03) {
                let ax = U256(bigEndian: xb)
                guard ax.lessThanMask(f.m) != 0 else { throw .invalidPublicKey }
                let mx = f.enter(ax)
                let rhs = P256Point.rhs(mx)
                var my = f.pow(rhs, P256Constants.sqrtExponent)
                guard f.square(my).equalMask(rhs) != 0 else { throw .invalidPublicKey }
                var ay = f.leave(my)
                if ay.bit(0) != UInt32(bytes[0] & 1) { my = f.neg(my); ay = f.leave(my) }
                x = xb
                y = ay.bigEndianBytes
            } else {
                throw .invalidPublicKey
            }
        }

        init(x: Bytes32, y: Bytes32) {
            self.x = x
            self.y = y
        }

        var point: P256Point? { P256Point(affineX: U256(bigEndian: x), y: U256(bigEndian: y)) }
    }

    /// A private key: the scalar d, 1 ≤ d < n, big-endian.
    public struct PrivateKey {
        public private(set) var scalar: Bytes32
        /// Q = dG, computed once (a scalar multiplication costs as much as a signature).
        public let publicKey: PublicKey

        /// A key from 32 bytes; refuses 0 and values not below n.
        public init(scalar: Bytes32) throws(FirmwareCryptoError) {
            let d = U256(bigEndian: scalar)
            guard d.isZeroMask == 0, d.lessThanMask(MontgomeryField.p256Order.m) != 0 else { throw .invalidPrivateKey }
            self.scalar = scalar
            let (x, y) = P256Point.generator.multiplied(by: d).affine
            publicKey = PublicKey(x: x.bigEndianBytes, y: y.bigEndianBytes)
        }

        /// ECDSA of the 32-byte `digest` used as the hash value as is, with the RFC 6979 nonce
        /// (HMAC-SHA-256) and s normalised to the lower half (s ≤ n/2): `r ‖ s`, 64 bytes.
        public func sign(digest: Bytes32) -> Bytes64 {
            let n = MontgomeryField.p256Order
            var d = U256(bigEndian: scalar)
            let e = n.leave(n.enter(U256(bigEndian: digest)))     // bits2octets: e mod n
            var nonces = RFC6979(key: scalar, message: e.bigEndianBytes)
            while true {
                var k = nonces.next()
                defer { k.wipe() }
                let r = n.leave(n.enter(P256Point.generator.multiplied(by: k).affine.x))
                if r.isZeroMask != 0 { continue }
                let km = n.enter(k)
                let sum = n.add(n.enter(e), n.mul(n.enter(r), n.enter(d)))
                let sm = n.mul(n.invert(km), sum)
                var s = n.leave(sm)
                if s.isZeroMask != 0 { continue }
                let high = P256Constants.halfOrder.lessThanMask(s)
                s = U256.select(high, n.m.subtracting(s).0, s)
                d.wipe()
                var out = Bytes64(repeating: 0)
                let rb = r.bigEndianBytes, sb = s.bigEndianBytes
                for i in 0..<32 { out[i] = rb[i]; out[i + 32] = sb[i] }
                return out
            }
        }

        /// A key from an entropy source (see ``Entropy``).
        public static func generate<E: EntropySource>(_ entropy: inout E) throws(FirmwareCryptoError) -> PrivateKey {
            for counter in 0..<64 {
                let candidate = try Entropy.keyCandidate(&entropy, counter: UInt8(counter))
                if let key = try? PrivateKey(scalar: candidate) { return key }
            }
            throw .entropyFailed
        }
    }

    /// Plain ECDSA verification of `signature` (`r ‖ s`) over the hash value `digest`: r and s
    /// in [1, n − 1], any s (the caller applies a low-s rule where it has one).
    public static func verify(signature: Bytes64, digest: Bytes32, publicKey: PublicKey) -> Bool {
        guard let q = publicKey.point else { return false }
        let n = MontgomeryField.p256Order
        var rb = Bytes32(repeating: 0), sb = Bytes32(repeating: 0)
        for i in 0..<32 { rb[i] = signature[i]; sb[i] = signature[i + 32] }
        let r = U256(bigEndian: rb), s = U256(bigEndian: sb)
        guard r.isZeroMask == 0, s.isZeroMask == 0, r.lessThanMask(n.m) != 0, s.lessThanMask(n.m) != 0 else { return false }
        let w = n.invert(n.enter(s))
        let u1 = n.leave(n.mul(n.enter(U256(bigEndian: digest)), w))
        let u2 = n.leave(n.mul(n.enter(r), w))
        let point = P256Point.generator.multiplied(by: u1).adding(q.multiplied(by: u2))
        guard point.z.isZeroMask == 0 else { return false }
        let x = n.leave(n.enter(point.affine.x))
        return x.equalMask(r) != 0
    }
}

/// RFC 6979 §3.2 nonces with HMAC-SHA-256 for a 256-bit order (qlen = hlen = 256, so
/// bits2int is the identity and one HMAC output is one candidate).
struct RFC6979 {
    private var k = Bytes32(repeating: 0)
    private var v = Bytes32(repeating: 0x01)
    private var first = true

    /// `key`: int2octets(x); `message`: bits2octets(h1), the digest reduced mod n.
    init(key: Bytes32, message: Bytes32) {
        for separator in 0..<2 {
            var mac = HMACSHA256(key: k)
            mac.update(contentsOf: v)
            mac.update(UInt8(separator))
            mac.update(contentsOf: key)
            mac.update(contentsOf: message)
            k = mac.finalize()
            v = Self.hmac(k, v)
        }
    }

    private static func hmac(_ key: Bytes32, _ data: Bytes32) -> Bytes32 {
        var mac = HMACSHA256(key: key)
        mac.update(contentsOf: data)
        return mac.finalize()
    }

    /// The next candidate in [1, n − 1] (step h; a candidate out of range, probability about
    /// 2⁻³², moves K and V on as the RFC says).
    mutating func next() -> U256 {
        let n = MontgomeryField.p256Order.m
        while true {
            if !first {
                var mac = HMACSHA256(key: k)
                mac.update(contentsOf: v)
                mac.update(0x00)
                k = mac.finalize()
                v = Self.hmac(k, v)
            }
            first = false
            v = Self.hmac(k, v)
            let candidate = U256(bigEndian: v)
            if candidate.isZeroMask == 0 && candidate.lessThanMask(n) != 0 { return candidate }
        }
    }
}
