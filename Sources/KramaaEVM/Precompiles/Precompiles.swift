import Crypto
import KramaaPrimitives

/// The precompiled contracts, each as a ``PrecompileFunction``.
///
/// Every function charges its price first and returns nil when the gas given is below it
/// (the caller then treats the call as out of gas). Inputs shorter than a precompile reads
/// are padded with zeros, longer ones are ignored past what it reads, unless the
/// precompile's EIP says otherwise (blake2f, the pairing check, P256VERIFY).
public enum Precompiles {
    /// The precompiles of Cancun (0x01-0x0a, with EIP-4844's KZG point evaluation at 0x0a),
    /// plus RIP-7212's P256VERIFY at 0x100.
    public static let cancun: [Address: PrecompileFunction] = [
        address(0x01): ecrecover,
        address(0x02): sha256,
        address(0x03): ripemd160,
        address(0x04): identity,
        address(0x05): modexp,
        address(0x06): bn254Add,
        address(0x07): bn254Mul,
        address(0x08): bn254Pairing,
        address(0x09): blake2f,
        address(0x0a): pointEvaluation,
        address(0x100): p256Verify,
    ]

    /// Ethereum's Cancun precompiles (0x01-0x0a): `cancun` without RIP-7212's P256VERIFY,
    /// which Ethereum does not have (there 0x100 is a plain, cold account).
    public static let ethereumCancun: [Address: PrecompileFunction] = cancun.filter { $0.key != address(0x100) }

    /// The address `0x00…00n`.
    public static func address(_ n: UInt16) -> Address {
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes[18] = UInt8(n >> 8)
        bytes[19] = UInt8(truncatingIfNeeded: n)
        return try! Address(bytes)
    }

    /// `base + perWord·⌈length/32⌉`, the price shape of the hash and copy precompiles.
    static func wordPrice(base: Int64, perWord: Int64, length: Int) -> Int64 {
        base + perWord * Int64((length + 31) / 32)
    }

    // MARK: - 0x01 ecrecover

    /// The 0x01 precompile price.
    public static let ecrecoverGas: Int64 = 3000

    /// 0x01: `hash ‖ v ‖ r ‖ s` → the signer's address, left-padded to 32 bytes. A bad
    /// signature (v other than 27 or 28, r or s out of range, no such key) is not a failure:
    /// the call succeeds with empty output.
    @Sendable
    public static func ecrecover(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        guard gas >= ecrecoverGas else { return nil }
        let padded = rightPadded(input, to: 128)
        let word = { (i: Int) in try! Bytes32(padded[32 * i ..< 32 * i + 32]) }
        guard let signer = try? Secp256k1.ecrecover(digest: word(0), v: word(1), r: word(2), s: word(3)) else {
            return (ecrecoverGas, [])
        }
        return (ecrecoverGas, [UInt8](repeating: 0, count: 12) + signer.bytes)
    }

    // MARK: - 0x02 sha256, 0x03 ripemd160, 0x04 identity

    /// 0x02: SHA-256 of the input; 60 gas plus 12 a word.
    @Sendable
    public static func sha256(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        let price = wordPrice(base: 60, perWord: 12, length: input.count)
        guard gas >= price else { return nil }
        return (price, Array(SHA256.hash(data: input)))
    }

    /// 0x03: RIPEMD-160 of the input, left-padded to 32 bytes; 600 gas plus 120 a word.
    @Sendable
    public static func ripemd160(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        let price = wordPrice(base: 600, perWord: 120, length: input.count)
        guard gas >= price else { return nil }
        return (price, [UInt8](repeating: 0, count: 12) + RIPEMD160.hash(input))
    }

    /// 0x04: the input itself; 15 gas plus 3 a word.
    @Sendable
    public static func identity(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        let price = wordPrice(base: 15, perWord: 3, length: input.count)
        guard gas >= price else { return nil }
        return (price, input)
    }

    // MARK: - 0x100 P256VERIFY (RIP-7212)

    /// The P256VERIFY price.
    public static let p256VerifyGas: Int64 = 3450

    /// 0x100: verifies a P-256 ECDSA signature, input `hash ‖ r ‖ s ‖ x ‖ y` (160 bytes).
    /// Returns the 32-byte word 1 when valid. Any invalid input (wrong length, r or s
    /// outside `1 ..< n`, a public key off the curve, a wrong signature) gives empty output
    /// and still succeeds: the price is charged, never all the gas.
    @Sendable
    public static func p256Verify(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        guard gas >= p256VerifyGas else { return nil }
        guard input.count == 160,
              let signature = try? Secp256r1.Signature(r: try! Bytes32(input[32..<64]), s: try! Bytes32(input[64..<96])),
              let key = try? Secp256r1.PublicKey(uncompressedXY: input[96..<160]),
              key.isValidSignature(signature, digest: try! Bytes32(input[0..<32]))
        else { return (p256VerifyGas, []) }
        return (p256VerifyGas, [UInt8](repeating: 0, count: 31) + [1])
    }

    // MARK: - Signature checks elsewhere

    /// Ed25519 verification, priced as EIP-665's proposed precompile. Kramaa has no such
    /// precompile, but device transactions and system contracts charge this for each check.
    public static let ed25519VerifyGas: Int64 = 2_000

    /// What one signature check of `type` costs wherever the chain makes one outside the
    /// precompiles (device transactions, system contracts): secp256k1 as ECRECOVER, P-256 as
    /// P256VERIFY, Ed25519 as ``ed25519VerifyGas``; the one table of these prices.
    public static func signatureCheckGas(_ type: KeyType) -> Int64 {
        switch type {
        case .secp256k1: ecrecoverGas
        case .p256: p256VerifyGas
        case .ed25519: ed25519VerifyGas
        }
    }

    // MARK: - Helpers

    /// `bytes` cut or zero-padded on the right to exactly `length`.
    static func rightPadded(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        if bytes.count == length { return bytes }
        if bytes.count > length { return Array(bytes[0..<length]) }
        return bytes + [UInt8](repeating: 0, count: length - bytes.count)
    }
}
