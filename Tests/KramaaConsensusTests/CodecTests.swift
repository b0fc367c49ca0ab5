import Testing
import KramaaConsensus
import KramaaPrimitives

/// RLP encodings of the wire and storage types, and typed decoding errors.
@Suite struct CodecTests {
    let f = Fixture()
    let a = Fixture.block("A")

    @Test func votesProposalsAndMessagesRoundTrip() throws {
        for vote in [f.vote(.prevote, a.hash, by: f.signers[0], height: 1 << 40, round: 70000), f.vote(.precommit, nil, by: f.signers[1])] {
            #expect(try Vote(rlp: vote.encoded) == vote)
            #expect(try ConsensusMessage(rlp: ConsensusMessage.vote(vote).encoded) == .vote(vote))
            #expect(try Vote(rlp: vote.encoded).hasValidSignature(chainId: Fixture.chainId))
        }
        for p in [f.proposal(a), f.proposal((bytes: [], hash: Keccak256.hash([UInt8]())), round: 3, validRound: 2)] {
            #expect(try Proposal(rlp: p.encoded) == p)
            #expect(try ConsensusMessage(rlp: ConsensusMessage.proposal(p).encoded) == .proposal(p))
        }
        let set = f.set
        #expect(try ValidatorSet(rlp: set.encoded) == set)
    }

    @Test func signBytesSeparateChainsKindsAndFields() {
        let base = Vote.signBytes(chainId: 7, kind: .prevote, height: 1, round: 0, blockHash: a.hash)
        #expect(base != Vote.signBytes(chainId: 8, kind: .prevote, height: 1, round: 0, blockHash: a.hash))
        #expect(base != Vote.signBytes(chainId: 7, kind: .precommit, height: 1, round: 0, blockHash: a.hash))
        #expect(base != Vote.signBytes(chainId: 7, kind: .prevote, height: 1, round: 0, blockHash: nil))
        #expect(base != Proposal.signBytes(chainId: 7, height: 1, round: 0, validRound: -1, blockHash: a.hash))
        // RLP(["kramaa/consensus/v1", 7, 1, 1, 0, hash]).
        var w = RLPWriter()
        w.appendList { w in
            w.append(bytes: Array("kramaa/consensus/v1".utf8))
            w.append(uint: UInt64(7)); w.append(uint: UInt64(1)); w.append(uint: UInt64(1)); w.append(uint: UInt64(0))
            w.append(bytes32: a.hash)
        }
        #expect(base == w.bytes)
        #expect(f.vote(.prevote, a.hash, by: f.signers[0]).signer(chainId: 8) != f.signers[0].address)
    }

    @Test func malformedBytesGiveTypedErrors() throws {
        let vote = f.vote(.prevote, a.hash, by: f.signers[0])
        #expect(throws: ConsensusDecodingError.rlp(.emptyInput)) { try Vote(rlp: []) }
        #expect(throws: ConsensusDecodingError.self) { try Vote(rlp: vote.encoded + [0x00]) }
        #expect(throws: ConsensusDecodingError.self) { try Vote(rlp: Array(vote.encoded.dropLast())) }

        func encode(kind: UInt64 = 1, hash: [UInt8]? = nil, signature: [UInt8]? = nil, round: UInt64 = 0) -> [UInt8] {
            var w = RLPWriter()
            w.appendList { w in
                w.append(uint: kind); w.append(uint: UInt64(1)); w.append(uint: round)
                w.append(bytes: hash ?? a.hash.bytes)
                w.append(address: vote.validator)
                w.append(bytes: signature ?? vote.signature.rawRepresentation)
            }
            return w.bytes
        }
        #expect(try Vote(rlp: encode()) == vote)
        #expect(throws: ConsensusDecodingError.unknownVoteKind(3)) { try Vote(rlp: encode(kind: 3)) }
        #expect(throws: ConsensusDecodingError.badBlockHash(length: 31)) { try Vote(rlp: encode(hash: Array(repeating: 1, count: 31))) }
        #expect(throws: ConsensusDecodingError.roundOutOfRange(1 << 40)) { try Vote(rlp: encode(round: 1 << 40)) }
        #expect(throws: ConsensusDecodingError.badSignature(.wrongLength(expected: 65, actual: 64))) {
            try Vote(rlp: encode(signature: Array(vote.signature.rawRepresentation.prefix(64))))
        }
        // The same signature with s' = n - s (high S) is refused: no malleable second encoding.
        let n = UInt256(Secp256k1.order), s = UInt256(vote.signature.s)
        let highS = vote.signature.r.bytes + n.subtractingReportingOverflow(s).partialValue.bytes32.bytes + [vote.signature.recoveryId ^ 1]
        #expect(throws: ConsensusDecodingError.badSignature(.highS)) { try Vote(rlp: encode(signature: highS)) }

        var w = RLPWriter()
        w.appendList { w in w.append(uint: UInt64(9)); w.append(bytes: [1, 2, 3]) }
        #expect(throws: ConsensusDecodingError.unknownMessageType(9)) { try ConsensusMessage(rlp: w.bytes) }
        #expect(throws: ConsensusDecodingError.self) { try CommitCertificate(rlp: [0xc0]) }
        #expect(throws: ConsensusDecodingError.self) { try SafetyState(rlp: [0xc1, 0x01]) }
        #expect(throws: ConsensusDecodingError.badValidatorSet(.empty)) { try ValidatorSet(rlp: [0xc0]) }
    }

    @Test func randomBytesNeverCrashTheDecoders() {
        var rng = SplitMix64(seed: 42)
        let samples = [f.vote(.prevote, a.hash, by: f.signers[0]).encoded, ConsensusMessage.proposal(f.proposal(a)).encoded]
        for _ in 0..<2000 {
            var bytes = samples[Int(rng.next() % 2)]
            let flips = Int(rng.next() % 4) + 1
            for _ in 0..<flips { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            _ = try? ConsensusMessage(rlp: bytes)
            _ = try? Vote(rlp: bytes)
        }
    }
}

@Suite struct ValidatorSetTests {
    let f = Fixture()

    @Test func thresholdsAreStrictlyMoreThanTwoThirdsAndOneThird() throws {
        #expect(f.set.quorumPower == 27 && f.set.skipPower == 14)
        let three = Fixture(validators: 3).set
        #expect(three.quorumPower == 21 && !three.isQuorum(20) && three.isQuorum(21))
        #expect(three.skipPower == 11 && !three.exceedsOneThird(10))
        let one = try ValidatorSet([Validator(address: f.signers[0].address, power: 1)])
        #expect(one.isQuorum(1))
    }

    @Test func invalidSetsAreRefused() {
        let x = f.signers[0].address
        #expect(throws: ValidatorSetError.empty) { try ValidatorSet([]) }
        #expect(throws: ValidatorSetError.zeroPower(x)) { try ValidatorSet([Validator(address: x, power: 0)]) }
        #expect(throws: ValidatorSetError.duplicate(x)) { try ValidatorSet([Validator(address: x, power: 1), Validator(address: x, power: 2)]) }
        #expect(throws: ValidatorSetError.totalPowerTooLarge) {
            try ValidatorSet([Validator(address: x, power: .max), Validator(address: f.signers[1].address, power: 1)])
        }
    }

    @Test func proposersRotateInProportionToPower() throws {
        let powers: [UInt64] = [10, 20, 30, 40]
        let set = try ValidatorSet(zip(f.signers, powers).map { Validator(address: $0.address, power: $1) })
        // Reduced weights 1, 2, 3, 4: in any 10 consecutive (height + round) slots, exactly 1, 2, 3, 4 proposals.
        for start in [UInt64(0), 7, 1_000_003] {
            var counts: [Address: Int] = [:]
            for k in 0..<10 { counts[set.proposer(height: start, round: k).address, default: 0] += 1 }
            #expect(zip(f.signers, [1, 2, 3, 4]).allSatisfy { counts[$0.address] == $1 })
        }
        // Height h round r and height h+1 round r-1 share a slot; it is a pure function.
        #expect(set.proposer(height: 5, round: 3) == set.proposer(height: 6, round: 2))
        // Equal powers: consecutive rounds have different proposers.
        for r in 0..<20 { #expect(f.set.proposer(height: 9, round: r) != f.set.proposer(height: 9, round: r + 1)) }
        let large = try ValidatorSet((0..<7).map { Validator(address: Fixture.key($0).address, power: 1_000_000_007) })
        #expect(Set((0..<7).map { large.proposer(height: .max - 3, round: $0).address }).count == 7)
    }
}
