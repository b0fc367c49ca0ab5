import Testing
import KramaaConsensus
import KramaaPrimitives

/// Bad input is ignored and changes nothing; equivocation is recorded as evidence.
@Suite struct InputValidationTests {
    let f = Fixture()
    let a = Fixture.block("A")
    let b = Fixture.block("B")

    /// A core at round 0 that has prevoted A, with one other prevote for A.
    func prepared() -> (ConsensusCore, PrivateKeySigner) {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        _ = core.receiveValidated(f.proposal(a))
        _ = core.deliver([f.vote(.prevote, a.hash, by: f.others(than: me)[0])])
        return (core, me)
    }

    func expectUnchanged(_ event: ConsensusEvent, _ comment: Comment) {
        var (core, _) = prepared()
        let before = (core.summary, core.safety, core.votes(round: 0, kind: .prevote), core.votes(round: 5, kind: .prevote),
                      core.evidence)
        let actions = core.handle(event)
        #expect(actions.isEmpty, comment)
        let after = (core.summary, core.safety, core.votes(round: 0, kind: .prevote), core.votes(round: 5, kind: .prevote),
                     core.evidence)
        #expect(before == after, comment)
    }

    @Test func aVoteFromOutsideTheValidatorSetChangesNothing() {
        expectUnchanged(.vote(f.vote(.prevote, a.hash, by: f.outsider)), "outsider")
        expectUnchanged(.vote(f.vote(.prevote, a.hash, by: f.outsider, round: 5)), "outsider, higher round")
    }

    @Test func aVoteWithABadSignatureChangesNothing() {
        let (_, me) = prepared()
        let honest = f.vote(.prevote, a.hash, by: f.others(than: me)[1])
        let tampered = Vote(kind: .prevote, height: 1, round: 0, blockHash: b.hash, validator: honest.validator, signature: honest.signature)
        expectUnchanged(.vote(tampered), "signature over another hash")
        let impostor = Vote(kind: .prevote, height: 1, round: 0, blockHash: a.hash, validator: honest.validator,
                            signature: f.vote(.prevote, a.hash, by: f.outsider).signature)
        expectUnchanged(.vote(impostor), "signed by another key")
        let wrongKind = Vote(kind: .precommit, height: 1, round: 0, blockHash: a.hash, validator: honest.validator, signature: honest.signature)
        expectUnchanged(.vote(wrongKind), "prevote signature on a precommit")
    }

    @Test func aVoteForAnotherChainChangesNothing() {
        let (_, me) = prepared()
        expectUnchanged(.vote(f.vote(.prevote, a.hash, by: f.others(than: me)[1], chainId: 8)), "chain 8")
        let p = Proposal(signing: b.bytes, blockHash: b.hash, height: 1, round: 0, validRound: -1, chainId: 8,
                         signer: f.proposer(round: 0))
        expectUnchanged(.proposal(p), "proposal for chain 8")
    }

    @Test func aValidatorCannotFillMemoryWithFarFutureRounds() {
        var (core, me) = prepared()
        let byzantine = f.others(than: me)[1]
        // Votes for many distinct future rounds: only the first two such rounds are kept.
        for r in [10, 20, 30, 40, 50] { _ = core.deliver([f.vote(.prevote, a.hash, by: byzantine, round: r)]) }
        #expect(core.votes(round: 10, kind: .prevote).count == 1 && core.votes(round: 20, kind: .prevote).count == 1)
        for r in [30, 40, 50] { #expect(core.votes(round: r, kind: .prevote).isEmpty, "round \(r) kept") }
        // More messages in a round it already holds are still taken; another validator has its own allowance.
        _ = core.deliver([f.vote(.precommit, a.hash, by: byzantine, round: 20)])
        #expect(core.votes(round: 20, kind: .precommit).count == 1)
        let other = f.others(than: me)[2]
        _ = core.deliver([f.vote(.prevote, a.hash, by: other, round: 30)])
        #expect(core.votes(round: 30, kind: .prevote).count == 1)
        // The next round is never limited.
        _ = core.deliver([f.vote(.prevote, a.hash, by: byzantine, round: 1)])
        #expect(core.votes(round: 1, kind: .prevote).count == 1)
    }

    @Test func votesForOtherHeightsChangeNothing() {
        let (_, me) = prepared()
        let other = f.others(than: me)[1]
        expectUnchanged(.vote(f.vote(.prevote, a.hash, by: other, height: 0)), "old height")
        expectUnchanged(.vote(f.vote(.precommit, a.hash, by: other, height: 2)), "future height")
        expectUnchanged(.proposal(f.proposal(b, height: 0)), "old height proposal")
    }

    @Test func aProposalFromANonProposerOrWithAWrongHashChangesNothing() {
        let notProposer = f.others(than: f.proposer(round: 1))[0]
        expectUnchanged(.proposal(f.proposal(b, round: 1, by: notProposer)), "not the proposer of round 1")
        let wrongHash = Proposal(signing: b.bytes, blockHash: a.hash, height: 1, round: 1, validRound: -1,
                                 chainId: Fixture.chainId, signer: f.proposer(round: 1))
        expectUnchanged(.proposal(wrongHash), "hash is not the block's")
        let badValidRound = Proposal(signing: b.bytes, blockHash: b.hash, height: 1, round: 1, validRound: 1,
                                     chainId: Fixture.chainId, signer: f.proposer(round: 1))
        expectUnchanged(.proposal(badValidRound), "validRound not below round")
    }

    @Test func duplicatesChangeNothing() {
        let (core0, me) = prepared()
        let vote = f.vote(.prevote, a.hash, by: f.others(than: me)[0])
        expectUnchanged(.vote(vote), "same vote again")
        expectUnchanged(.proposal(f.proposal(a)), "same proposal again")
        expectUnchanged(.blockValidated(height: 1, hash: b.hash, valid: true), "verdict for a block never asked about")
        _ = core0
    }

    @Test func eventsBeforeStartAreIgnored() {
        var core = f.core(f.signers[0])
        #expect(core.handle(.vote(f.vote(.prevote, a.hash, by: f.signers[1]))).isEmpty)
        #expect(core.handle(.timeout(Timeout(height: 0, round: 0, step: .propose))).isEmpty)
        #expect(!core.isStarted)
    }

    @Test func conflictingVotesAreEvidenceAndTheEquivocatorCountsOnceForAnyQuorum() {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        _ = core.handle(.timeout(Timeout(height: 1, round: 0, step: .propose)))
        let others = f.others(than: me)
        let first = f.vote(.prevote, a.hash, by: others[0])
        let second = f.vote(.prevote, b.hash, by: others[0])
        _ = core.deliver([first])
        let actions = core.deliver([second])
        #expect(core.evidence == [.conflictingVotes(first, second)])
        #expect(actions.timeouts.isEmpty, "own nil + one equivocator = 20 of any: no 2/3")
        #expect(core.votes(round: 0, kind: .prevote).first { $0.validator == others[0].address } == first, "first vote first")
        _ = core.deliver([second])
        #expect(core.evidence.count == 1, "recorded once")
    }

    @Test func conflictingProposalsAreEvidence() {
        var (core, _) = f.started(f.nonProposer(rounds: 0...0))
        let p1 = f.proposal(a), p2 = f.proposal(b)
        _ = core.handle(.proposal(p1))
        let actions = core.handle(.proposal(p2))
        #expect(core.evidence == [.conflictingProposals(p1, p2)])
        #expect(actions.validations == [b.hash], "both are kept: a polka may form on either")
        #expect(core.proposals(round: 0) == [p1, p2])
    }

    @Test func aValidatorOutsideTheSetFollowsWithoutSigning() {
        var core = f.core(f.outsider)
        _ = core.handle(.start(height: 1, validatorSet: f.set))
        let actions = core.receiveValidated(f.proposal(a))
            + core.deliver(f.signers.map { f.vote(.prevote, a.hash, by: $0) })
            + core.deliver(f.signers.map { f.vote(.precommit, a.hash, by: $0) })
        #expect(actions.votes.isEmpty && actions.proposals.isEmpty)
        #expect(actions.commits.count == 1)
    }
}
