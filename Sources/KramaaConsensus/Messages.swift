import KramaaPrimitives

/// Signs consensus messages for one validator. Signatures are secp256k1 recoverable signatures
/// over a 32-byte digest (keccak256 of the sign-bytes), so verifying a message is recovering its
/// signer's address.
///
/// The core calls `sign` only after its double-sign checks; an implementation may add its own
/// (a remote signer, an HSM). Tests use deterministic keys; the simulator uses the same protocol
/// to forge conflicting messages for Byzantine validators.
public protocol ConsensusSigner: Sendable {
    var address: Address { get }
    func sign(digest: Bytes32) -> Secp256k1.RecoverableSignature
}

/// A signer holding a secp256k1 private key in memory.
public struct PrivateKeySigner: ConsensusSigner {
    public let key: Secp256k1.PrivateKey
    public let address: Address

    public init(_ key: Secp256k1.PrivateKey) {
        self.key = key
        self.address = key.publicKey.address
    }

    public func sign(digest: Bytes32) -> Secp256k1.RecoverableSignature { key.sign(digest: digest) }
}

/// The steps of a round.
public enum RoundStep: UInt8, Sendable, Hashable, Comparable, CustomStringConvertible {
    case propose = 0, prevote = 1, precommit = 2

    public static func < (a: RoundStep, b: RoundStep) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self {
        case .propose: return "propose"
        case .prevote: return "prevote"
        case .precommit: return "precommit"
        }
    }
}

/// Prevote or precommit.
public enum VoteKind: UInt8, Sendable, Hashable, Comparable, CustomStringConvertible {
    case prevote = 1, precommit = 2

    public static func < (a: VoteKind, b: VoteKind) -> Bool { a.rawValue < b.rawValue }
    public var description: String { self == .prevote ? "prevote" : "precommit" }
}

/// Domain tag that starts every consensus sign-bytes list, so a consensus signature can never be
/// mistaken for a signature of an Ethereum transaction or of another protocol.
let signDomain: [UInt8] = Array("kramaa/consensus/v1".utf8)

/// A prevote or precommit for a block hash (or nil) at (height, round), signed by `validator`.
public struct Vote: Sendable, Hashable, CustomStringConvertible, ConsensusRLP {
    public let kind: VoteKind
    public let height: UInt64
    public let round: Int
    /// The block voted for; nil is a vote for nothing ("nil vote").
    public let blockHash: Bytes32?
    public let validator: Address
    public let signature: Secp256k1.RecoverableSignature

    public init(kind: VoteKind, height: UInt64, round: Int, blockHash: Bytes32?, validator: Address,
                signature: Secp256k1.RecoverableSignature) {
        self.kind = kind
        self.height = height
        self.round = round
        self.blockHash = blockHash
        self.validator = validator
        self.signature = signature
    }

    /// Signs a vote with `signer` (no double-sign check: that is the core's job).
    public init(signing kind: VoteKind, height: UInt64, round: Int, blockHash: Bytes32?, chainId: UInt64,
                signer: some ConsensusSigner) {
        let digest = Vote.signDigest(chainId: chainId, kind: kind, height: height, round: round, blockHash: blockHash)
        self.init(kind: kind, height: height, round: round, blockHash: blockHash, validator: signer.address,
                  signature: signer.sign(digest: digest))
    }

    /// `RLP(["kramaa/consensus/v1", chainId, kind, height, round, blockHash or ""])`, kind 1 = prevote, 2 = precommit.
    public static func signBytes(chainId: UInt64, kind: VoteKind, height: UInt64, round: Int, blockHash: Bytes32?) -> [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            w.append(bytes: signDomain)
            w.append(uint: chainId)
            w.append(uint: UInt64(kind.rawValue))
            w.append(uint: height)
            w.append(round: round)
            w.append(optionalHash: blockHash)
        }
        return w.bytes
    }

    /// keccak256 of the sign-bytes: what the validator signs.
    public static func signDigest(chainId: UInt64, kind: VoteKind, height: UInt64, round: Int, blockHash: Bytes32?) -> Bytes32 {
        Keccak256.hash(signBytes(chainId: chainId, kind: kind, height: height, round: round, blockHash: blockHash))
    }

    public func signDigest(chainId: UInt64) -> Bytes32 {
        Vote.signDigest(chainId: chainId, kind: kind, height: height, round: round, blockHash: blockHash)
    }

    /// The address that signed this vote on `chainId` (nil if the signature does not recover).
    public func signer(chainId: UInt64) -> Address? {
        signature.signer(of: signDigest(chainId: chainId))
    }

    /// True when `validator` signed this vote on `chainId`.
    public func hasValidSignature(chainId: UInt64) -> Bool { signer(chainId: chainId) == validator }

    /// True when both votes are for the same (height, round, kind) from the same validator.
    public func sameSlot(as other: Vote) -> Bool {
        kind == other.kind && height == other.height && round == other.round && validator == other.validator
    }

    public var description: String {
        "\(kind)(h\(height) r\(round) \(blockHash.map { String($0.description.prefix(10)) } ?? "nil") by \(String(validator.description.prefix(8))))"
    }

    // MARK: RLP: [kind, height, round, blockHash or "", validator, signature(65)]

    public func append(to w: inout RLPWriter) {
        w.appendList { w in
            w.append(uint: UInt64(kind.rawValue))
            w.append(uint: height)
            w.append(round: round)
            w.append(optionalHash: blockHash)
            w.append(address: validator)
            w.append(signature: signature)
        }
    }

    public init(reader r: inout RLPReader) throws(ConsensusDecodingError) {
        var l = try r.list()
        let k = try l.uint64()
        guard k <= 0xff, let kind = VoteKind(rawValue: UInt8(k)) else { throw .unknownVoteKind(k) }
        let height = try l.uint64()
        let round = try l.round()
        let hash = try l.optionalHash()
        let validator = try l.address()
        let signature = try l.signature()
        try l.end()
        self.init(kind: kind, height: height, round: round, blockHash: hash, validator: validator, signature: signature)
    }
}

/// A block proposed at (height, round) by that round's proposer. `validRound` is the round of the
/// polka the proposer saw for this block (-1 if none): a re-proposal of its valid value.
public struct Proposal: Sendable, Hashable, CustomStringConvertible, ConsensusRLP {
    public let height: UInt64
    public let round: Int
    /// -1 = none.
    public let validRound: Int
    public let blockHash: Bytes32
    /// The block, opaque to consensus (the application encodes, hashes and validates it).
    public let block: [UInt8]
    public let signature: Secp256k1.RecoverableSignature

    public init(height: UInt64, round: Int, validRound: Int, blockHash: Bytes32, block: [UInt8],
                signature: Secp256k1.RecoverableSignature) {
        self.height = height
        self.round = round
        self.validRound = validRound
        self.blockHash = blockHash
        self.block = block
        self.signature = signature
    }

    /// Signs a proposal with `signer` (no double-sign check: that is the core's job).
    public init(signing block: [UInt8], blockHash: Bytes32, height: UInt64, round: Int, validRound: Int,
                chainId: UInt64, signer: some ConsensusSigner) {
        let digest = Proposal.signDigest(chainId: chainId, height: height, round: round, validRound: validRound,
                                         blockHash: blockHash)
        self.init(height: height, round: round, validRound: validRound, blockHash: blockHash, block: block,
                  signature: signer.sign(digest: digest))
    }

    /// `RLP(["kramaa/consensus/v1", chainId, 3, height, round, validRound + 1, blockHash])`.
    /// The block itself is bound through its hash (the application checks that they match).
    public static func signBytes(chainId: UInt64, height: UInt64, round: Int, validRound: Int, blockHash: Bytes32) -> [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            w.append(bytes: signDomain)
            w.append(uint: chainId)
            w.append(uint: UInt64(3))
            w.append(uint: height)
            w.append(round: round)
            w.append(optionalRound: validRound)
            w.append(bytes32: blockHash)
        }
        return w.bytes
    }

    public static func signDigest(chainId: UInt64, height: UInt64, round: Int, validRound: Int, blockHash: Bytes32) -> Bytes32 {
        Keccak256.hash(signBytes(chainId: chainId, height: height, round: round, validRound: validRound, blockHash: blockHash))
    }

    public func signDigest(chainId: UInt64) -> Bytes32 {
        Proposal.signDigest(chainId: chainId, height: height, round: round, validRound: validRound, blockHash: blockHash)
    }

    /// The address that signed this proposal on `chainId` (nil if the signature does not recover).
    public func signer(chainId: UInt64) -> Address? {
        signature.signer(of: signDigest(chainId: chainId))
    }

    public var description: String {
        "proposal(h\(height) r\(round) vr\(validRound) \(String(blockHash.description.prefix(10))), \(block.count) bytes)"
    }

    // MARK: RLP: [height, round, validRound + 1, blockHash, block, signature(65)]

    public func append(to w: inout RLPWriter) {
        w.appendList { w in
            w.append(uint: height)
            w.append(round: round)
            w.append(optionalRound: validRound)
            w.append(bytes32: blockHash)
            w.append(bytes: block)
            w.append(signature: signature)
        }
    }

    public init(reader r: inout RLPReader) throws(ConsensusDecodingError) {
        var l = try r.list()
        let height = try l.uint64()
        let round = try l.round()
        let validRound = try l.optionalRound()
        guard validRound < round else { throw .roundOutOfRange(UInt64(validRound + 1)) }
        let hash = try l.bytes32()
        let block = try l.byteArray()
        let signature = try l.signature()
        try l.end()
        self.init(height: height, round: round, validRound: validRound, blockHash: hash, block: block, signature: signature)
    }
}

/// What validators send each other: `RLP([1, proposal])` or `RLP([2, vote])`.
public enum ConsensusMessage: Sendable, Hashable, CustomStringConvertible {
    case proposal(Proposal)
    case vote(Vote)

    public var height: UInt64 {
        switch self {
        case .proposal(let p): return p.height
        case .vote(let v): return v.height
        }
    }

    public var round: Int {
        switch self {
        case .proposal(let p): return p.round
        case .vote(let v): return v.round
        }
    }

    public var description: String {
        switch self {
        case .proposal(let p): return p.description
        case .vote(let v): return v.description
        }
    }

    public var encoded: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            switch self {
            case .proposal(let p):
                w.append(uint: UInt64(1))
                p.append(to: &w)
            case .vote(let v):
                w.append(uint: UInt64(2))
                v.append(to: &w)
            }
        }
        return w.bytes
    }

    public init(rlp bytes: [UInt8]) throws(ConsensusDecodingError) {
        self = try decodeWhole(bytes) { (r: inout RLPReader) throws(ConsensusDecodingError) -> ConsensusMessage in
            var l = try r.list()
            let type = try l.uint64()
            let message: ConsensusMessage
            switch type {
            case 1: message = .proposal(try Proposal(reader: &l))
            case 2: message = .vote(try Vote(reader: &l))
            default: throw .unknownMessageType(type)
            }
            try l.end()
            return message
        }
    }
}
