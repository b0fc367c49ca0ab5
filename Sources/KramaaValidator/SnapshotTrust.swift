import KramaaChain
import KramaaConsensus
import KramaaEVM
import KramaaNode
import KramaaPrimitives
import KramaaStorage

/// What a node joining from a snapshot trusts, as CometBFT's light client does: validators whose
/// signatures it believes (by default the genesis set), or a block hash its operator vouches for.
/// The snapshot's block is accepted when its commit certificate carries a quorum of the trusted
/// validators, or a quorum of the validators the snapshot's own state names for that height of
/// whom the trusted ones hold more than a third (so at least one honest trusted validator signed,
/// while the set changed since genesis).
public struct SnapshotTrust: Sendable {
    public var validators: [Address]
    public var blockHash: Bytes32?

    public init(validators: [Address], blockHash: Bytes32? = nil) {
        self.validators = validators
        self.blockHash = blockHash
    }

    /// Throws `.notCertified` with the reason unless the snapshot's block is certified as above.
    public func check(_ snapshot: Node.VerifiedSnapshot, chainId: UInt64) throws(SnapshotError) {
        let block = snapshot.block
        if let blockHash {
            guard block.hash == blockHash else {
                throw .notCertified("block \(block.number) is \(block.hash), the trusted hash is \(blockHash)")
            }
            return
        }
        guard !snapshot.manifest.certificate.isEmpty else {
            throw .notCertified("block \(block.number) comes without a commit certificate (a chain without consensus): give the hash you trust")
        }
        let certificate: CommitCertificate
        do { certificate = try CommitCertificate(rlp: snapshot.manifest.certificate) } catch {
            throw .notCertified("its commit certificate does not decode: \(error)")
        }
        guard certificate.height == block.number, certificate.blockHash == block.hash else {
            throw .notCertified("the certificate is for block \(certificate.height) \(certificate.blockHash), not \(block.number) \(block.hash)")
        }
        guard let trusted = Self.set(validators) else { throw .notCertified("no trusted validators to check its certificate against") }
        do {
            try certificate.verify(against: trusted, chainId: chainId)
            return
        } catch {
            // The set may have changed since the trusted one: try the state's own.
        }
        let named = (try? ValidatorSetContract.validators(forHeight: block.number, in: SlotReader {
            snapshot.state.storage(ValidatorSetContract.address, slot: $0)
        })).flatMap { $0.isEmpty ? nil : $0 } ?? validators
        do {
            guard let namedSet = Self.set(named) else { throw CertificateError.insufficientPower(signed: 0, total: 0) }
            try certificate.verify(against: namedSet, chainId: chainId)
        } catch {
            throw .notCertified("its commit certificate does not verify: \(error)")
        }
        let trustedPower = certificate.precommits.reduce(UInt64(0)) { $0 + trusted.power(of: $1.validator) }
        guard trusted.exceedsOneThird(trustedPower) else {
            throw .notCertified("the validators that signed it hold \(trustedPower) of the trusted set's \(trusted.totalPower): no more than a third")
        }
    }

    /// The set of `addresses`, one vote each, as the chain counts them; nil for none or duplicates.
    static func set(_ addresses: [Address]) -> ValidatorSet? {
        try? ValidatorSet(addresses.map { Validator(address: $0, power: 1) })
    }
}
