import Testing
import KramaaConsensus
import KramaaPrimitives

/// The upon-rules of Algorithm 1 (arXiv:1807.04938), one behaviour per test, on 4 validators of power
/// 10 (quorum 27, round-skip threshold 14).
@Suite struct UponRuleTests {
    let f = Fixture()
    let a = Fixture.block("A")
    let b = Fixture.block("B")

    @Test func startingARoundSchedulesTheProposeTimeoutAndTheProposerAsksForABlock() {
        let proposer = f.proposer(round: 0)
        let (_, actions) = f.started(proposer)
        #expect(actions.contains(.buildBlock(height: 1, round: 0)))
        #expect(actions.timeouts.map(\.0) == [Timeout(height: 1, round: 0, step: .propose)])
        let (_, other) = f.started(f.nonProposer(rounds: 0...0))
        #expect(!other.contains(.buildBlock(height: 1, round: 0)))
    }

    @Test func theProposerSignsTheBuiltBlockPersistsFirstAndPrevotesIt() {
        let proposer = f.proposer(round: 0)
        var (core, _) = f.started(proposer)
        let actions = core.handle(.blockBuilt(height: 1, round: 0, block: a.bytes, hash: a.hash))
        #expect(actions.proposals.map(\.blockHash) == [a.hash])
        #expect(actions.proposals.first?.signer(chainId: Fixture.chainId) == proposer.address)
        #expect(actions.votes.map(\.blockHash) == [a.hash])
        #expect(actions.votes.first?.kind == .prevote)
        let persistAt = try! #require(actions.firstPersistIndex)
        #expect(persistAt < actions.firstBroadcastIndex!, "persist comes before the broadcast of what it signed")
        #expect(actions.persisted.last?.signedProposal == actions.proposals.first)
        #expect(actions.persisted.last?.signedVotes == actions.votes)
    }

    @Test func aValidProposalIsPrevotedOnceTheApplicationAcceptsIt() {
        var (core, _) = f.started(f.nonProposer(rounds: 0...0))
        let first = core.handle(.proposal(f.proposal(a)))
        #expect(first.validations == [a.hash])
        #expect(first.votes.isEmpty, "no prevote before the verdict")
        let actions = core.handle(.blockValidated(height: 1, hash: a.hash, valid: true))
        #expect(actions.votes.map(\.blockHash) == [a.hash])
        #expect(core.step == .prevote)
    }

    @Test func anInvalidProposalGetsANilPrevote() {
        var (core, _) = f.started(f.nonProposer(rounds: 0...0))
        let actions = core.receiveValidated(f.proposal(a), valid: false)
        #expect(actions.votes.count == 1)
        #expect(actions.votes.first?.blockHash == nil)
    }

    @Test func theProposeTimeoutPrevotesNil() {
        var (core, _) = f.started(f.nonProposer(rounds: 0...0))
        let actions = core.handle(.timeout(Timeout(height: 1, round: 0, step: .propose)))
        #expect(actions.votes.map(\.blockHash) == [nil])
        #expect(actions.votes.first?.kind == .prevote)
        #expect(core.step == .prevote)
        #expect(core.handle(.timeout(Timeout(height: 1, round: 0, step: .propose))).isEmpty, "only once")
    }

    @Test func aPolkaLocksTheValueAndPrecommitsIt() {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        _ = core.receiveValidated(f.proposal(a))
        let others = f.others(than: me)
        let one = core.deliver([f.vote(.prevote, a.hash, by: others[0])])
        #expect(one.votes.isEmpty, "two prevotes (20) are no quorum")
        let actions = core.deliver([f.vote(.prevote, a.hash, by: others[1])])
        #expect(actions.votes.map(\.kind) == [.precommit])
        #expect(actions.votes.first?.blockHash == a.hash)
        #expect(core.lockedHash == a.hash && core.lockedRound == 0)
        #expect(core.validHash == a.hash && core.validRound == 0)
        #expect(actions.persisted.last?.lockedHash == a.hash)
    }

    @Test func twoThirdsOfAnyPrevotesScheduleThePrevoteTimeoutWhichPrecommitsNil() {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        _ = core.handle(.timeout(Timeout(height: 1, round: 0, step: .propose)))
        let others = f.others(than: me)
        let actions = core.deliver([f.vote(.prevote, a.hash, by: others[0]), f.vote(.prevote, b.hash, by: others[1])])
        #expect(actions.timeouts.map(\.0) == [Timeout(height: 1, round: 0, step: .prevote)])
        let fired = core.handle(.timeout(Timeout(height: 1, round: 0, step: .prevote)))
        #expect(fired.votes.map(\.kind) == [.precommit])
        #expect(fired.votes.first?.blockHash == nil)
        #expect(core.step == .precommit)
    }

    @Test func aNilPolkaPrecommitsNil() {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        _ = core.handle(.timeout(Timeout(height: 1, round: 0, step: .propose)))
        let others = f.others(than: me)
        let actions = core.deliver([f.vote(.prevote, nil, by: others[0]), f.vote(.prevote, nil, by: others[1])])
        #expect(actions.votes.map(\.kind) == [.precommit])
        #expect(actions.votes.first?.blockHash == nil)
        #expect(core.lockedRound == -1)
    }

    @Test func thePrecommitTimeoutStartsTheNextRoundWithLongerTimeouts() {
        let me = f.nonProposer(rounds: 0...1)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        let actions = core.deliver(others.map { f.vote(.precommit, nil, by: $0) })
        #expect(actions.timeouts.map(\.0) == [Timeout(height: 1, round: 0, step: .precommit)])
        let next = core.handle(.timeout(Timeout(height: 1, round: 0, step: .precommit)))
        #expect(core.round == 1 && core.step == .propose)
        let config = ConsensusConfig()
        #expect(next.timeouts.map(\.0) == [Timeout(height: 1, round: 1, step: .propose)])
        #expect(next.timeouts.first?.1 == config.timeoutPropose + config.timeoutProposeDelta)
        #expect(config.timeout(.prevote, round: 3) == config.timeoutPrevote + config.timeoutPrevoteDelta * 3)
        #expect(config.timeout(.precommit, round: 2) == config.timeoutPrecommit + config.timeoutPrecommitDelta * 2)
    }

    @Test func stalePrecommitTimeoutsAreIgnored() {
        var (core, _) = f.started(f.nonProposer(rounds: 0...0))
        #expect(core.handle(.timeout(Timeout(height: 1, round: 3, step: .precommit))).isEmpty)
        #expect(core.handle(.timeout(Timeout(height: 0, round: 0, step: .precommit))).isEmpty)
        #expect(core.round == 0)
    }

    @Test func messagesOfAHigherRoundFromMoreThanOneThirdSkipToThatRound() {
        let me = f.nonProposer(rounds: 5...5)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        let one = core.deliver([f.vote(.prevote, a.hash, by: others[0], round: 5)])
        #expect(core.round == 0 && one.isEmpty, "10 of 40 is not more than 1/3")
        let two = core.deliver([f.vote(.precommit, nil, by: others[1], round: 5)])
        #expect(core.round == 5 && core.step == .propose)
        #expect(two.timeouts.map(\.0) == [Timeout(height: 1, round: 5, step: .propose)])
    }

    @Test func aValidatorLockedOnAnotherValuePrevotesNil() {
        let me = f.nonProposer(rounds: 0...1)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        _ = core.receiveValidated(f.proposal(a))
        _ = core.deliver(others.prefix(2).map { f.vote(.prevote, a.hash, by: $0) })
        #expect(core.lockedHash == a.hash)
        // Round 0 ends without a commit.
        _ = core.deliver(others.map { f.vote(.precommit, nil, by: $0) })
        _ = core.handle(.timeout(Timeout(height: 1, round: 0, step: .precommit)))
        #expect(core.round == 1)
        let actions = core.receiveValidated(f.proposal(b, round: 1))
        #expect(actions.votes.count == 1)
        #expect(actions.votes.first?.blockHash == nil, "locked on A at round 0, B has no polka")
        // The same value it is locked on is prevoted.
        var (core2, _) = f.started(me)
        _ = core2.receiveValidated(f.proposal(a))
        _ = core2.deliver(others.prefix(2).map { f.vote(.prevote, a.hash, by: $0) })
        _ = core2.deliver(others.map { f.vote(.precommit, nil, by: $0) })
        _ = core2.handle(.timeout(Timeout(height: 1, round: 0, step: .precommit)))
        #expect(core2.receiveValidated(f.proposal(a, round: 1)).votes.first?.blockHash == a.hash)
    }

    @Test func aLaterPolkaUnlocksAValidatorForARepropose() {
        let me = f.nonProposer(rounds: 0...2)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        // Round 0: lock on A.
        _ = core.receiveValidated(f.proposal(a))
        _ = core.deliver(others.prefix(2).map { f.vote(.prevote, a.hash, by: $0) })
        #expect(core.lockedHash == a.hash && core.lockedRound == 0)
        _ = core.deliver(others.map { f.vote(.precommit, nil, by: $0) })
        _ = core.handle(.timeout(Timeout(height: 1, round: 0, step: .precommit)))
        // Round 1: B proposed; this validator prevotes nil, then times out to precommit nil.
        #expect(core.receiveValidated(f.proposal(b, round: 1)).votes.first?.blockHash == nil)
        _ = core.deliver(others.prefix(2).map { f.vote(.prevote, b.hash, by: $0, round: 1) })
        _ = core.handle(.timeout(Timeout(height: 1, round: 1, step: .prevote)))
        #expect(core.step == .precommit && core.lockedRound == 0)
        // The third prevote for B arrives late: a polka for B in round 1 makes it the valid value.
        _ = core.deliver([f.vote(.prevote, b.hash, by: others[2], round: 1)])
        #expect(core.validHash == b.hash && core.validRound == 1)
        #expect(core.lockedHash == a.hash, "no relock at the precommit step")
        _ = core.deliver(others.map { f.vote(.precommit, nil, by: $0, round: 1) })
        _ = core.handle(.timeout(Timeout(height: 1, round: 1, step: .precommit)))
        #expect(core.round == 2)
        // Round 2: B re-proposed with validRound 1; lockedRound 0 ≤ 1, so B is prevoted.
        let actions = core.receiveValidated(f.proposal(b, round: 2, validRound: 1))
        #expect(actions.votes.map(\.blockHash) == [b.hash])
    }

    @Test func aReproposalWithoutAVisiblePolkaIsNotPrevoted() {
        let me = f.nonProposer(rounds: 0...1)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        _ = core.deliver(others.map { f.vote(.precommit, nil, by: $0) })
        _ = core.handle(.timeout(Timeout(height: 1, round: 0, step: .precommit)))
        let actions = core.receiveValidated(f.proposal(b, round: 1, validRound: 0))
        #expect(actions.votes.isEmpty, "waits for the polka of round 0 (or the propose timeout)")
        let polka = core.deliver(others.map { f.vote(.prevote, b.hash, by: $0, round: 0) })
        #expect(polka.votes.map(\.blockHash) == [b.hash])
    }

    @Test func aPolkaAtThePrecommitStepOnlyUpdatesTheValidValue() {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        _ = core.handle(.proposal(f.proposal(a)))
        _ = core.handle(.timeout(Timeout(height: 1, round: 0, step: .propose)))
        _ = core.handle(.timeout(Timeout(height: 1, round: 0, step: .prevote)))
        #expect(core.step == .precommit)
        _ = core.handle(.blockValidated(height: 1, hash: a.hash, valid: true))
        _ = core.deliver(others.map { f.vote(.prevote, a.hash, by: $0) })
        #expect(core.lockedRound == -1)
        #expect(core.validHash == a.hash && core.validRound == 0)
    }

    @Test func aValueWithTwoThirdsOfPrecommitsIsCommittedWithAVerifyingCertificate() throws {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        _ = core.receiveValidated(f.proposal(a))
        let actions = core.deliver(others.map { f.vote(.precommit, a.hash, by: $0) })
        let certificate = try #require(actions.commits.first)
        #expect(actions.contains(.commit(height: 1, block: a.bytes, hash: a.hash, certificate: certificate)))
        try certificate.verify(against: f.set, chainId: Fixture.chainId)
        #expect(certificate.precommits.count >= 3)
        #expect(core.decision == certificate)
        #expect(core.deliver([f.vote(.prevote, a.hash, by: others[0], round: 3)]).isEmpty, "decided: waits for the next start")
    }

    @Test func aCommitInAnEarlierRoundIsStillDecided() throws {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        _ = core.handle(.proposal(f.proposal(a)))
        _ = core.deliver(others.map { f.vote(.prevote, nil, by: $0, round: 2) })
        #expect(core.round == 2)
        let actions = core.handle(.blockValidated(height: 1, hash: a.hash, valid: true))
            + core.deliver(others.map { f.vote(.precommit, a.hash, by: $0, round: 0) })
        #expect(try #require(actions.commits.first).round == 0)
    }

    @Test func aCommitLearnedFromAPeerIsCheckedAndApplied() throws {
        let me = f.nonProposer(rounds: 0...0)
        let others = f.others(than: me)
        let certificate = CommitCertificate(height: 1, round: 4, blockHash: a.hash, precommits: others.map {
            CommitSignature(validator: $0.address, signature: f.vote(.precommit, a.hash, by: $0, round: 4).signature)
        })
        var (core, _) = f.started(me)
        #expect(core.handle(.commitReceived(certificate, block: b.bytes)).isEmpty, "block does not match the hash")
        let forged = CommitCertificate(height: 1, round: 4, blockHash: b.hash, precommits: certificate.precommits)
        #expect(core.handle(.commitReceived(forged, block: b.bytes)).isEmpty, "signatures are for A")
        let asks = core.handle(.commitReceived(certificate, block: a.bytes))
        #expect(asks.validations == [a.hash])
        let actions = core.handle(.blockValidated(height: 1, hash: a.hash, valid: true))
        #expect(actions.commits == [certificate])
    }

    @Test func theNextHeightStartsFreshAfterACommit() {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        _ = core.receiveValidated(f.proposal(a))
        _ = core.deliver(others.map { f.vote(.prevote, a.hash, by: $0) } + others.map { f.vote(.precommit, a.hash, by: $0) })
        #expect(core.decision != nil)
        let actions = core.handle(.start(height: 2, validatorSet: f.set))
        #expect(core.height == 2 && core.round == 0 && core.lockedRound == -1 && core.decision == nil)
        #expect(actions.persisted.last == SafetyState(height: 2))
    }
}
