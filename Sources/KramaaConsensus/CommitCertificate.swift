import KramaaPrimitives

/// One precommit inside a certificate: the validator's address and its signature of
/// `Vote.signBytes(chainId, .precommit, height, round, blockHash)`.
public struct CommitSignature: Sendable, Hashable {
    public let validator: Address
    public let signature: Secp256k1.RecoverableSignature

    public init(validator: Address, signature: Secp256k1.RecoverableSignature) {
        self.validator = validator
        self.signature = signature
    }
}

/// Why a commit certificate does not prove a commit.
public enum CertificateError: Error, Hashable, CustomStringConvertible {
    /// A signer that is not in the validator set of the height.
    case unknownValidator(Address)
    /// The same validator twice.
    case duplicateSigner(Address)
    /// A signature that does not recover to its validator for this chain, height, round and hash
    /// (wrong chain id, tampered field, or a forged signature).
    case badSignature(Address)
    /// The signers hold no more than 2/3 of the voting power.
    case insufficientPower(signed: UInt64, total: UInt64)

    public var description: String {
        switch self {
        case .unknownValidator(let a): return "certificate: \(a) is not a validator of this height"
        case .duplicateSigner(let a): return "certificate: \(a) signs twice"
        case .badSignature(let a): return "certificate: the signature of \(a) does not verify"
        case .insufficientPower(let signed, let total): return "certificate: signed power \(signed) of \(total) is not more than 2/3"
        }
    }
}

/// Proof that `blockHash` was committed at `height`: precommits for it in `round` from validators
/// holding more than 2/3 of the voting power. Anyone with the height's validator set and the chain
/// id can check it.
public struct CommitCertificate: Sendable, Hashable, CustomStringConvertible, ConsensusRLP {
    public let height: UInt64
    public let round: Int
    public let blockHash: Bytes32
    public let precommits: [CommitSignature]

    public init(height: UInt64, round: Int, blockHash: Bytes32, precommits: [CommitSignature]) {
        self.height = height
        self.round = round
        self.blockHash = blockHash
        self.precommits = precommits
    }

    /// The precommits as votes (each still to be verified).
    public var votes: [Vote] {
        precommits.map {
            Vote(kind: .precommit, height: height, round: round, blockHash: blockHash, validator: $0.validator, signature: $0.signature)
        }
    }

    /// Checks every signature, that no validator appears twice, that every signer is in `validatorSet`,
    /// and that the signers hold more than 2/3 of its power.
    public func verify(against validatorSet: ValidatorSet, chainId: UInt64) throws(CertificateError) {
        let digest = Vote.signDigest(chainId: chainId, kind: .precommit, height: height, round: round, blockHash: blockHash)
        var seen = Set<Address>()
        var power: UInt64 = 0
        for p in precommits {
            guard validatorSet.contains(p.validator) else { throw .unknownValidator(p.validator) }
            guard seen.insert(p.validator).inserted else { throw .duplicateSigner(p.validator) }
            guard p.signature.signer(of: digest) == p.validator else { throw .badSignature(p.validator) }
            power += validatorSet.power(of: p.validator)
        }
        guard validatorSet.isQuorum(power) else { throw .insufficientPower(signed: power, total: validatorSet.totalPower) }
    }

    public var description: String {
        "certificate(h\(height) r\(round) \(String(blockHash.description.prefix(10))), \(precommits.count) precommits)"
    }

    // MARK: RLP: [height, round, blockHash, [[validator, signature(65)], ...]]

    public func append(to w: inout RLPWriter) {
        w.appendList { w in
            w.append(uint: height)
            w.append(round: round)
            w.append(bytes32: blockHash)
            w.appendList { w in
                for p in precommits {
                    w.appendList { w in
                        w.append(address: p.validator)
                        w.append(signature: p.signature)
                    }
                }
            }
        }
    }

    public init(reader r: inout RLPReader) throws(ConsensusDecodingError) {
        var l = try r.list()
        let height = try l.uint64()
        let round = try l.round()
        let hash = try l.bytes32()
        var list = try l.list()
        var precommits: [CommitSignature] = []
        while !list.isAtEnd {
            var item = try list.list()
            let validator = try item.address()
            let signature = try item.signature()
            try item.end()
            precommits.append(CommitSignature(validator: validator, signature: signature))
        }
        try l.end()
        self.init(height: height, round: round, blockHash: hash, precommits: precommits)
    }
}
