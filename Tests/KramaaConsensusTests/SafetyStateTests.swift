import Testing
import KramaaConsensus
import KramaaPrimitives

/// The persisted SafetyState keeps a restarted validator from signing a conflicting message.
@Suite struct SafetyStateTests {
    let f = Fixture()
    let a = Fixture.block("A")
    let b = Fixture.block("B")

    @Test func aRestartedValidatorDoesNotSignAConflictingPrevote() throws {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        let actions = core.receiveValidated(f.proposal(a))
        let persisted = try #require(actions.persisted.last)
        #expect(persisted.signedVote(height: 1, round: 0, kind: .prevote)?.blockHash == a.hash)
        // Crash; restart from what was persisted (through its encoding, as from disk).
        var restarted = f.core(me, safety: try SafetyState(rlp: persisted.encoded))
        let boot = restarted.handle(.start(height: 1, validatorSet: f.set))
        #expect(boot.votes.map(\.blockHash) == [a.hash], "re-sends the same prevote")
        #expect(restarted.step == .prevote && restarted.round == 0)
        // A conflicting proposal for the same round and the propose timeout get no new prevote.
        let p2 = f.proposal(b)
        let later = restarted.receiveValidated(p2) + restarted.handle(.timeout(Timeout(height: 1, round: 0, step: .propose)))
        #expect(later.votes.isEmpty)
        #expect(restarted.safety.signedVotes.map(\.blockHash) == [a.hash])
    }

    @Test func theSigningGuardRefusesAConflictingVoteEvenFromAStateWhoseStepIsBehind() throws {
        let me = f.nonProposer(rounds: 0...0)
        let signed = f.vote(.prevote, a.hash, by: me)
        // A state that remembers the prevote for A but (wrongly) says the step is still propose.
        let state = SafetyState(height: 1, round: 0, step: .propose, signedVotes: [signed])
        var core = f.core(me, safety: state)
        _ = core.handle(.start(height: 1, validatorSet: f.set))
        let actions = core.receiveValidated(f.proposal(b))
        #expect(actions.votes.allSatisfy { $0.blockHash == a.hash }, "never a prevote for B")
        #expect(!actions.votes.contains { $0.blockHash == b.hash })
        #expect(core.refusedSignatures == 1)
        #expect(core.safety.signedVotes == [signed])
        // The same vote is allowed again (a re-send, not a new signature).
        var again = f.core(me, safety: state)
        _ = again.handle(.start(height: 1, validatorSet: f.set))
        #expect(again.receiveValidated(f.proposal(a)).votes == [signed])
        #expect(again.refusedSignatures == 0)
    }

    @Test func theSigningGuardRefusesVotesBelowTheLastSignedSlot() {
        let me = f.nonProposer(rounds: 0...0)
        let later = f.vote(.precommit, nil, by: me, round: 2)
        var core = f.core(me, safety: SafetyState(height: 1, round: 0, step: .propose, signedVotes: [later]))
        _ = core.handle(.start(height: 1, validatorSet: f.set))
        let actions = core.handle(.timeout(Timeout(height: 1, round: 0, step: .propose)))
        #expect(actions.votes.isEmpty)
        #expect(core.refusedSignatures == 1)
    }

    @Test func aRestartedProposerReproposesTheSameBlockOnly() throws {
        let proposer = f.proposer(round: 0)
        var (core, _) = f.started(proposer)
        let built = core.handle(.blockBuilt(height: 1, round: 0, block: a.bytes, hash: a.hash))
        let state = try #require(built.persisted.last)
        var restarted = f.core(proposer, safety: state)
        let boot = restarted.handle(.start(height: 1, validatorSet: f.set))
        #expect(boot.proposals == built.proposals || boot.proposals.isEmpty)
        #expect(!boot.contains(.buildBlock(height: 1, round: 0)), "no second block for round 0")
        #expect(restarted.handle(.blockBuilt(height: 1, round: 0, block: b.bytes, hash: b.hash)).proposals.isEmpty)
    }

    @Test func aRestartInTheProposeStepAsTheProposerResendsItsProposal() throws {
        let proposer = f.proposer(round: 0)
        let p = f.proposal(a)
        var core = f.core(proposer, safety: SafetyState(height: 1, signedProposal: p))
        let boot = core.handle(.start(height: 1, validatorSet: f.set))
        #expect(boot.proposals == [p])
        #expect(boot.votes.map(\.blockHash) == [a.hash])
    }

    @Test func aStartBelowThePersistedHeightIsRefused() {
        var core = f.core(f.signers[0], safety: SafetyState(height: 5, round: 2, step: .precommit))
        #expect(core.handle(.start(height: 4, validatorSet: f.set)).isEmpty)
        #expect(!core.isStarted)
        _ = core.handle(.start(height: 5, validatorSet: f.set))
        #expect(core.isStarted && core.height == 5 && core.round == 2 && core.step == .precommit)
    }

    @Test func aStartAboveThePersistedHeightResetsTheState() {
        let state = SafetyState(height: 5, round: 2, step: .precommit, lockedRound: 1, lockedHash: a.hash,
                                validRound: 1, validHash: a.hash, validBlock: a.bytes)
        var core = f.core(f.signers[0], safety: state)
        let actions = core.handle(.start(height: 6, validatorSet: f.set))
        #expect(core.height == 6 && core.round == 0 && core.lockedRound == -1 && core.validHash == nil)
        #expect(actions.firstPersistIndex == 0)
    }

    @Test func aRestartedValidatorKeepsItsLockAndReproposesItsValidValue() throws {
        let me = f.nonProposer(rounds: 0...0)
        var (core, _) = f.started(me)
        let others = f.others(than: me)
        let actions = core.receiveValidated(f.proposal(a)) + core.deliver(others.prefix(2).map { f.vote(.prevote, a.hash, by: $0) })
        let state = try #require(actions.persisted.last)
        #expect(state.lockedHash == a.hash && state.validBlock == a.bytes)
        // Restarted at a round it proposes: it re-proposes A with validRound 0.
        var round = 1
        while f.set.proposer(height: 1, round: round).address != me.address { round += 1 }
        var moved = state
        moved.round = round
        moved.step = .propose
        var restarted = f.core(me, safety: try SafetyState(rlp: moved.encoded))
        let boot = restarted.handle(.start(height: 1, validatorSet: f.set))
        #expect(boot.proposals.map(\.blockHash) == [a.hash])
        #expect(boot.proposals.first?.validRound == 0)
        #expect(restarted.lockedHash == a.hash && restarted.lockedRound == 0)
    }

    @Test func aSafetyStateRoundTripsThroughRLP() throws {
        let me = f.signers[0]
        let state = SafetyState(height: 9, round: 3, step: .precommit, lockedRound: 2, lockedHash: a.hash, validRound: 3,
                                validHash: b.hash, validBlock: b.bytes, signedProposal: f.proposal(a, height: 9, round: 3, validRound: 2, by: me),
                                signedVotes: [f.vote(.prevote, nil, by: me, height: 9, round: 3), f.vote(.precommit, b.hash, by: me, height: 9, round: 3)])
        #expect(try SafetyState(rlp: state.encoded) == state)
        let empty = SafetyState(height: 0)
        #expect(try SafetyState(rlp: empty.encoded) == empty)
        let emptyBlock = SafetyState(height: 1, validRound: 0, validHash: a.hash, validBlock: [])
        #expect(try SafetyState(rlp: emptyBlock.encoded) == emptyBlock, "an empty valid block is not nil")
    }
}
