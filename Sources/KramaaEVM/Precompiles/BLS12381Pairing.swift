import KramaaPrimitives

/// The optimal ate pairing on BLS12-381, as far as the KZG point evaluation needs it: a check
/// that a product of pairings is 1, with one shared Miller loop and one final exponentiation.
///
/// The Miller loop runs over |x| = 0xd201000000010000 (x, the curve parameter, is negative)
/// with T kept in affine coordinates on the twist: each step costs an Fp2 inversion but the
/// lines come out directly, with no projective bookkeeping. The final exponentiation raises
/// to `(p¹² − 1)/r` as `(p⁶ − 1)` (a conjugate over an inverse) followed by one fixed-window
/// power to `(p² + 1)(p⁴ − p² + 1)/r`, which needs no Frobenius constants.
enum BLS12381Pairing {
    /// |x|, the absolute value of the curve parameter x = −0xd201000000010000.
    static let xAbs: UInt64 = 0xd201_0000_0001_0000

    /// True when `∏ e(Pᵢ, Qᵢ) = 1`. Pairs with a point at infinity contribute 1.
    static func check(_ pairs: [(BLSG1Affine, BLSG2Affine)]) -> Bool {
        let active = pairs.filter { !$0.0.isInfinity && !$0.1.isInfinity }
        if active.isEmpty { return true }
        return finalExponentiation(millerLoop(active)).isOne
    }

    /// The pairing value `e(P, Q)` itself (tests use it to check bilinearity).
    static func pairing(_ p: BLSG1Affine, _ q: BLSG2Affine) -> BLSFp12 {
        if p.isInfinity || q.isInfinity { return .one }
        return finalExponentiation(millerLoop([(p, q)]))
    }

    // MARK: - Miller loop

    /// The product of the Miller functions `f_{x,Q}(P)` of every pair, sharing the squarings.
    /// Vertical lines are left out: their values lie in Fp6, which the final exponentiation
    /// sends to 1.
    static func millerLoop(_ pairs: [(BLSG1Affine, BLSG2Affine)]) -> BLSFp12 {
        var ts = pairs.map { $0.1 }
        var f = BLSFp12.one
        let topBit = 63 - xAbs.leadingZeroBitCount
        for bit in stride(from: topBit - 1, through: 0, by: -1) {
            f = f.squared()
            for k in pairs.indices {
                let t = ts[k]
                let slope = (t.x.squared().doubled() + t.x.squared()) * t.y.doubled().inverse()
                f = f * line(slope: slope, through: t, at: pairs[k].0)
                let x3 = slope.squared() - t.x.doubled()
                ts[k] = BLSG2Affine(x: x3, y: slope * (t.x - x3) - t.y)
            }
            if (xAbs >> UInt64(bit)) & 1 == 1 {
                for k in pairs.indices {
                    let t = ts[k], q = pairs[k].1
                    let slope = (q.y - t.y) * (q.x - t.x).inverse()
                    f = f * line(slope: slope, through: t, at: pairs[k].0)
                    let x3 = slope.squared() - t.x - q.x
                    ts[k] = BLSG2Affine(x: x3, y: slope * (t.x - x3) - t.y)
                }
            }
        }
        // x < 0: f_{−|x|} is 1/f_{|x|} up to a vertical line; after the final exponentiation
        // the inverse is the conjugate.
        return f.conjugate
    }

    /// The line with slope λ (on the twist) through T, evaluated at P and scaled by w³.
    ///
    /// Untwisted, T is (x_T/w², y_T/w³) and the slope λ/w, so the line
    /// `y_P − y_T/w³ − (λ/w)(x_P − x_T/w²)` times w³ is `(λx_T − y_T) − λx_P·v + y_P·v·w`
    /// (w² = v); the factor w³ lies in a subfield of degree 4, which the final exponentiation
    /// also removes.
    @inline(__always)
    static func line(slope: BLSFp2, through t: BLSG2Affine, at p: BLSG1Affine) -> BLSFp12 {
        BLSFp12(BLSFp6(slope * t.x - t.y, -slope.scaled(by: p.x), .zero),
                BLSFp6(.zero, BLSFp2(p.y, .zero), .zero))
    }

    // MARK: - Final exponentiation

    /// `(p² + 1)(p⁴ − p² + 1)/r`, 2030 bits, least significant limb first (derived from p and r).
    static let hardExponent: [UInt64] = [
        0x8739_e1cd_c070_5d6a, 0x09a5_256d_e038_1a16, 0x9cf0_f70a_61c7_91e2, 0x3a09_c449_7903_f76e,
        0x2d72_7156_3890_f133, 0x2247_41b3_6fec_7760, 0x3382_59c2_2a12_bd40, 0x38ee_1cd4_778e_0de7,
        0xc3b5_ef4b_188a_20b0, 0x1d61_5d49_e276_4d7b, 0x8161_01dd_d076_117d, 0xf007_c01e_7ebe_3afc,
        0x27d7_bd90_9350_21c3, 0xc3b5_e2f5_57c0_b15f, 0x5e88_6c94_c4f8_2384, 0xee6a_95db_11e6_3f56,
        0x2b82_2f51_4a9c_4f6f, 0x12d6_a874_d21b_73da, 0x1304_275e_f499_dffb, 0x9678_78fe_bcb9_5d1f,
        0x4744_497f_8b2f_2922, 0x85a2_e707_f084_1855, 0x9f0c_5012_6c80_2eec, 0xfb46_e197_bd2f_a489,
        0x548c_e080_9bc5_f61a, 0xcf56_fb15_73be_aa8c, 0xad73_75a3_763b_df7c, 0xe0ec_9031_179b_decc,
        0x6579_aea8_3c48_c1da, 0xdbf8_5ae6_64cf_5bb3, 0x7b6f_235c_55ca_7566, 0x0000_28b3_1487_7503,
    ]

    /// `f^((p¹² − 1)/r)`.
    static func finalExponentiation(_ f: BLSFp12) -> BLSFp12 {
        // f^(p⁶ − 1) = conj(f)/f.
        let t = f.conjugate * f.inverse()
        return t.power(limbs: hardExponent)
    }
}
