import KramaaPrimitives

extension Precompiles {
    /// Istanbul (EIP-1108) prices of the BN254 precompiles.
    public static let bn254AddGas: Int64 = 150
    public static let bn254MulGas: Int64 = 6000
    public static let bn254PairingBaseGas: Int64 = 45000
    public static let bn254PairingPerPairGas: Int64 = 34000

    /// 0x06 (EIP-196): the sum of two G1 points, input `x1 ‖ y1 ‖ x2 ‖ y2` (zero-padded to
    /// 128 bytes), output `x ‖ y` (64 bytes; infinity is zeros). A coordinate ≥ p or a point
    /// off the curve is a failure.
    @Sendable
    public static func bn254Add(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        guard gas >= bn254AddGas else { return nil }
        let padded = rightPadded(input, to: 128)
        guard let a = try? BN254.decodeG1(padded[0..<64]),
              let b = try? BN254.decodeG1(padded[64..<128])
        else { return nil }
        let sum = (JacobianPoint(a) + JacobianPoint(b)).affine
        return (bn254AddGas, BN254.encodeG1(sum))
    }

    /// 0x07 (EIP-196): a G1 point times a 256-bit scalar, input `x ‖ y ‖ k` (zero-padded to
    /// 96 bytes), output `x ‖ y`. The scalar is used as is, not reduced.
    @Sendable
    public static func bn254Mul(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        guard gas >= bn254MulGas else { return nil }
        let padded = rightPadded(input, to: 96)
        guard let point = try? BN254.decodeG1(padded[0..<64]) else { return nil }
        let scalar = padded[64..<96].withUnsafeBytes { UInt256(bigEndian: $0) }
        let product = JacobianPoint(point).multiplied(by: scalar).affine
        return (bn254MulGas, BN254.encodeG1(product))
    }

    /// 0x08 (EIP-197): checks `∏ e(Pᵢ, Qᵢ) = 1` over k pairs of 192 bytes each (a G1 point,
    /// then a G2 point as `x.im ‖ x.re ‖ y.im ‖ y.re`). Output: the 32-byte word 1 or 0;
    /// empty input gives 1. Price: 45000 + 34000·k. A length that is not a multiple of 192,
    /// a coordinate ≥ p, a point off its curve or a G2 point outside the order-r subgroup
    /// is a failure.
    @Sendable
    public static func bn254Pairing(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        let k = input.count / 192
        let price = bn254PairingBaseGas + bn254PairingPerPairGas * Int64(k)
        guard gas >= price, input.count % 192 == 0 else { return nil }
        var pairs = [(G1Affine, G2Affine)]()
        pairs.reserveCapacity(k)
        for i in 0..<k {
            let offset = 192 * i
            guard let p = try? BN254.decodeG1(input[offset ..< offset + 64]),
                  let q = try? BN254.decodeG2(input[offset + 64 ..< offset + 192])
            else { return nil }
            pairs.append((p, q))
        }
        var output = [UInt8](repeating: 0, count: 32)
        if BN254Pairing.check(pairs) { output[31] = 1 }
        return (price, output)
    }
}
