import Crypto
import KramaaPrimitives

/// Why a point evaluation input is rejected (each is a failure of the precompile: all the
/// gas given is consumed).
enum PointEvaluationError: Error, Equatable {
    /// The input is not exactly 192 bytes.
    case wrongInputLength(Int)
    /// The first 32 bytes are not `0x01 ‖ sha256(commitment)[1...]`.
    case versionedHashMismatch
    /// z or y is not below the BLS modulus r.
    case fieldElementOutOfRange
    /// The commitment is not a valid compressed G1 point.
    case invalidCommitment(BLS12381.DecodingError)
    /// The proof is not a valid compressed G1 point.
    case invalidProof(BLS12381.DecodingError)
    /// Well-formed, but the pairing check fails: the polynomial does not take y at z.
    case proofRejected
}

extension Precompiles {
    /// The EIP-4844 point evaluation price.
    public static let pointEvaluationGas: Int64 = 50_000
    /// FIELD_ELEMENTS_PER_BLOB.
    static let fieldElementsPerBlob: UInt64 = 4096
    /// The version byte of a KZG commitment's versioned hash.
    static let kzgVersionedHashVersion: UInt8 = 0x01

    /// 0x0a (EIP-4844): input `versioned_hash ‖ z ‖ y ‖ commitment ‖ proof` (32, 32, 32, 48,
    /// 48 bytes). Succeeds, with the output `FIELD_ELEMENTS_PER_BLOB ‖ BLS_MODULUS` (two
    /// 32-byte big-endian words), when the proof shows that the polynomial committed to takes
    /// the value y at z; any other input is a failure. 50000 gas.
    @Sendable
    public static func pointEvaluation(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        guard gas >= pointEvaluationGas else { return nil }
        guard (try? verifyPointEvaluation(input)) != nil else { return nil }
        return (pointEvaluationGas, pointEvaluationOutput)
    }

    /// `FIELD_ELEMENTS_PER_BLOB ‖ BLS_MODULUS`, the output of every successful call.
    static let pointEvaluationOutput: [UInt8] = UInt256(fieldElementsPerBlob).bigEndianBytes + BLS12381.order.bigEndianBytes

    /// The versioned hash of a commitment: `0x01 ‖ sha256(commitment)[1...]`.
    static func kzgVersionedHash(_ commitment: ArraySlice<UInt8>) -> [UInt8] {
        var hash = Array(SHA256.hash(data: commitment))
        hash[0] = kzgVersionedHashVersion
        return hash
    }

    /// Checks a point evaluation input; returns normally when the precompile succeeds.
    static func verifyPointEvaluation(_ input: [UInt8]) throws(PointEvaluationError) {
        guard input.count == 192 else { throw .wrongInputLength(input.count) }
        let commitmentBytes = input[96..<144]
        guard kzgVersionedHash(commitmentBytes)[...] == input[0..<32] else { throw .versionedHashMismatch }
        let z = input[32..<64].withUnsafeBytes { UInt256(bigEndian: $0) }
        let y = input[64..<96].withUnsafeBytes { UInt256(bigEndian: $0) }
        guard z < BLS12381.order, y < BLS12381.order else { throw .fieldElementOutOfRange }
        let commitment: BLSG1Affine
        do { commitment = try BLS12381.decodeG1(commitmentBytes) } catch { throw .invalidCommitment(error) }
        let proof: BLSG1Affine
        do { proof = try BLS12381.decodeG1(input[144..<192]) } catch { throw .invalidProof(error) }
        guard verifyKZGProof(commitment: commitment, z: z, y: y, proof: proof) else { throw .proofRejected }
    }

    /// `verify_kzg_proof_impl` of the consensus specs (polynomial-commitments.md): the
    /// pairing check `e(C − [y]₁, −[1]₂) · e(π, [s]₂ − [z]₂) = 1`, which holds when
    /// `p(X) − y = q(X)(X − z)` for the committed p and the quotient q that π commits to.
    static func verifyKZGProof(commitment: BLSG1Affine, z: UInt256, y: UInt256, proof: BLSG1Affine) -> Bool {
        let pMinusY = (JacobianPoint(commitment) + -JacobianPoint(BLS12381.g1Generator).multiplied(by: y)).affine
        let sMinusZ = (JacobianPoint(BLS12381.setupG2) + -JacobianPoint(BLS12381.g2Generator).multiplied(by: z)).affine
        return BLS12381Pairing.check([(pMinusY, -BLS12381.g2Generator), (proof, sMinusZ)])
    }
}
