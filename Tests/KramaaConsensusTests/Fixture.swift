import KramaaConsensus
import KramaaPrimitives

/// Four (or more) validators of power 10 with deterministic keys, on chain 7, and helpers that sign
/// messages as any of them.
struct Fixture {
    static let chainId: UInt64 = 7
    static let hashBlock: @Sendable ([UInt8]) -> Bytes32 = { Keccak256.hash($0) }

    let signers: [PrivateKeySigner]
    let set: ValidatorSet
    let outsider: PrivateKeySigner = Fixture.key(99)

    init(validators: Int = 4, power: UInt64 = 10) {
        signers = (0..<validators).map { Fixture.key($0) }
        set = try! ValidatorSet(signers.map { Validator(address: $0.address, power: power) })
    }

    static func key(_ i: Int) -> PrivateKeySigner {
        PrivateKeySigner(try! Secp256k1.PrivateKey(Keccak256.hash(Array("consensus test validator \(i)".utf8))))
    }

    func signer(for address: Address) -> PrivateKeySigner { signers.first { $0.address == address }! }

    func proposer(height: UInt64 = 1, round: Int) -> PrivateKeySigner {
        signer(for: set.proposer(height: height, round: round).address)
    }

    /// A validator that proposes none of `rounds` at `height`.
    func nonProposer(height: UInt64 = 1, rounds: ClosedRange<Int>) -> PrivateKeySigner {
        let proposers = Set(rounds.map { set.proposer(height: height, round: $0).address })
        return signers.first { !proposers.contains($0.address) }!
    }

    /// Validators other than `me`.
    func others(than me: PrivateKeySigner) -> [PrivateKeySigner] { signers.filter { $0.address != me.address } }

    func core(_ me: PrivateKeySigner, safety: SafetyState? = nil) -> ConsensusCore {
        ConsensusCore(chainId: Fixture.chainId, signer: me, safety: safety, hashBlock: Fixture.hashBlock)
    }

    /// A core started at `height`, with the start actions returned.
    func started(_ me: PrivateKeySigner, height: UInt64 = 1) -> (ConsensusCore, [ConsensusAction]) {
        var c = core(me)
        let actions = c.handle(.start(height: height, validatorSet: set))
        return (c, actions)
    }

    static func block(_ tag: String, height: UInt64 = 1) -> (bytes: [UInt8], hash: Bytes32) {
        let bytes = Array("block \(tag) at \(height)".utf8)
        return (bytes, Keccak256.hash(bytes))
    }

    func vote(_ kind: VoteKind, _ hash: Bytes32?, by signer: PrivateKeySigner, height: UInt64 = 1, round: Int = 0,
              chainId: UInt64 = Fixture.chainId) -> Vote {
        Vote(signing: kind, height: height, round: round, blockHash: hash, chainId: chainId, signer: signer)
    }

    func proposal(_ block: (bytes: [UInt8], hash: Bytes32), height: UInt64 = 1, round: Int = 0, validRound: Int = -1,
                  by signer: PrivateKeySigner? = nil) -> Proposal {
        Proposal(signing: block.bytes, blockHash: block.hash, height: height, round: round, validRound: validRound,
                 chainId: Fixture.chainId, signer: signer ?? proposer(height: height, round: round))
    }
}

extension [ConsensusAction] {
    var votes: [Vote] { compactMap { if case .broadcastVote(let v) = $0 { return v } else { return nil } } }
    var proposals: [Proposal] { compactMap { if case .broadcastProposal(let p) = $0 { return p } else { return nil } } }
    var timeouts: [(Timeout, Duration)] {
        compactMap { if case .scheduleTimeout(let t, let d) = $0 { return (t, d) } else { return nil } }
    }
    var validations: [Bytes32] { compactMap { if case .validateBlock(_, let h, _) = $0 { return h } else { return nil } } }
    var commits: [CommitCertificate] { compactMap { if case .commit(_, _, _, let c) = $0 { return c } else { return nil } } }
    var persisted: [SafetyState] { compactMap { if case .persist(let s) = $0 { return s } else { return nil } } }
    var firstPersistIndex: Int? { firstIndex { if case .persist = $0 { return true } else { return false } } }
    var firstBroadcastIndex: Int? {
        firstIndex {
            switch $0 {
            case .broadcastVote, .broadcastProposal: return true
            default: return false
            }
        }
    }
}

extension ConsensusCore {
    /// Delivers a proposal and the application's verdict on its block.
    mutating func receiveValidated(_ p: Proposal, valid: Bool = true) -> [ConsensusAction] {
        var actions = handle(.proposal(p))
        actions += handle(.blockValidated(height: p.height, hash: p.blockHash, valid: valid))
        return actions
    }

    mutating func deliver(_ votes: [Vote]) -> [ConsensusAction] { votes.flatMap { handle(.vote($0)) } }
}
