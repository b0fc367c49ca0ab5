// The curves' constants, precomputed (tools: the moduli's −m⁻¹ mod 2³², R² and R mod m; the
// curve constants in Montgomery form). Checked by the host tests against their definitions.

extension MontgomeryField {
    /// P-256's field, p = 2²⁵⁶ − 2²²⁴ + 2¹⁹² + 2⁹⁶ − 1.
    static let p256Field = MontgomeryField(
        m: U256(limbs: [0xffffffff, 0xffffffff, 0xffffffff, 0x00000000, 0x00000000, 0x00000000, 0x00000001, 0xffffffff]),
        m0inv: 0x00000001,
        r2: U256(limbs: [0x00000003, 0x00000000, 0xffffffff, 0xfffffffb, 0xfffffffe, 0xffffffff, 0xfffffffd, 0x00000004]),
        one: U256(limbs: [0x00000001, 0x00000000, 0x00000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xfffffffe, 0x00000000]))
    /// P-256's group order n.
    static let p256Order = MontgomeryField(
        m: U256(limbs: [0xfc632551, 0xf3b9cac2, 0xa7179e84, 0xbce6faad, 0xffffffff, 0xffffffff, 0x00000000, 0xffffffff]),
        m0inv: 0xee00bc4f,
        r2: U256(limbs: [0xbe79eea2, 0x83244c95, 0x49bd6fa6, 0x4699799c, 0x2b6bec59, 0x2845b239, 0xf3d95620, 0x66e12d94]),
        one: U256(limbs: [0x039cdaaf, 0x0c46353d, 0x58e8617b, 0x43190552, 0x00000000, 0x00000000, 0xffffffff, 0x00000000]))
    /// Curve25519's field, p = 2²⁵⁵ − 19.
    static let curve25519Field = MontgomeryField(
        m: U256(limbs: [0xffffffed, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x7fffffff]),
        m0inv: 0x286bca1b,
        r2: U256(limbs: [0x000005a4, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000]),
        one: U256(limbs: [0x00000026, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000]))
    /// Ed25519's group order L = 2²⁵² + 27742317777372353535851937790883648493.
    static let ed25519Order = MontgomeryField(
        m: U256(limbs: [0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de, 0x00000000, 0x00000000, 0x00000000, 0x10000000]),
        m0inv: 0x12547e1b,
        r2: U256(limbs: [0x449c0f01, 0xa40611e3, 0x68859347, 0xd00e1ba7, 0x17f5be65, 0xceec73d2, 0x7c309a3d, 0x0399411b]),
        one: U256(limbs: [0x8d98951d, 0xd6ec3174, 0x737dcf70, 0xc6ef5bf4, 0xfffffffe, 0xffffffff, 0xffffffff, 0x0fffffff]))
}

enum P256Constants {
    /// b of y² = x³ − 3x + b, Montgomery form.
    static let b = U256(limbs: [0x29c4bddf, 0xd89cdf62, 0x78843090, 0xacf005cd, 0xf7212ed6, 0xe5a220ab, 0x04874834, 0xdc30061d])
    /// The base point G, Montgomery form.
    static let gx = U256(limbs: [0x18a9143c, 0x79e730d4, 0x5fedb601, 0x75ba95fc, 0x77622510, 0x79fb732b, 0xa53755c6, 0x18905f76])
    static let gy = U256(limbs: [0xce95560a, 0xddf25357, 0xba19e45c, 0x8b4ab8e4, 0xdd21f325, 0xd2e88688, 0x25885d85, 0x8571ff18])
    /// ⌊n/2⌋: the largest low s.
    static let halfOrder = U256(limbs: [0x7e3192a8, 0x79dce561, 0xd38bcf42, 0xde737d56, 0xffffffff, 0x7fffffff, 0x80000000, 0x7fffffff])
    /// (p + 1)/4: the square-root exponent (p ≡ 3 mod 4).
    static let sqrtExponent = U256(limbs: [0x00000000, 0x00000000, 0x40000000, 0x00000000, 0x00000000, 0x40000000, 0xc0000000, 0x3fffffff])
}

enum Ed25519Constants {
    /// 2d, d = −121665/121666, Montgomery form.
    static let d2 = U256(limbs: [0xbe8fd3f4, 0x01db17fd, 0x5f8c52e7, 0x21430eef, 0x78310d20, 0xcb27240f, 0xe53f8a4d, 0x590456b4])
    static let d = U256(limbs: [0xdf47e9fa, 0x80ed8bfe, 0xafc62973, 0x10a18777, 0xbc188690, 0xe5939207, 0x729fc526, 0x2c822b5a])
    /// √−1 = 2^((p−1)/4), Montgomery form.
    static let sqrtMinusOne = U256(limbs: [0xfe2bdb04, 0x3b5807d4, 0xb51be9ed, 0x03f590fd, 0x336202d1, 0x6d6e16bf, 0xd6c71ba8, 0x75776b0b])
    /// The base point B (x, y = 4/5, t = xy), Montgomery form.
    static let bx = U256(limbs: [0x3f9da287, 0xe2cabc55, 0x2396e489, 0x9ca59856, 0xade4b5b7, 0x9879936b, 0x7e6077d0, 0x759e2370])
    static let by = U256(limbs: [0x3333334a, 0x33333333, 0x33333333, 0x33333333, 0x33333333, 0x33333333, 0x33333333, 0x33333333])
    static let bt = U256(limbs: [0x994ae86c, 0x4f0896aa, 0xb612506e, 0xe3b7ad11, 0xf183c492, 0x46c7a922, 0xfeb3930d, 0x5e181c59])
    /// (p − 5)/8, for square roots.
    static let sqrtExponent = U256(limbs: [0xfffffffd, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x0fffffff])
}
