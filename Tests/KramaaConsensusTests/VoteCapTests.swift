import KramaaConsensus
import KramaaPrimitives
import Testing

/// An equivocator's conflicting votes are capped per validator, but not at the expense of its
/// vote for a value that matters (found by the simulator driving the production driver).
@Suite struct VoteCapTests {
    @Test func anEquivocatorsVoteForTheProposalStillCountsAfterItSprayedMadeUpHashes() {
        let f = Fixture()
        let me = f.nonProposer(rounds: 0...0)
        let proposer = f.proposer(round: 0)
        let equivocator = f.others(than: me).first { $0.address != proposer.address }!
        var (core, _) = f.started(me)
        let block = Fixture.block("B")
        var actions = core.receiveValidated(f.proposal(block))
        #expect(actions.votes.map(\.blockHash) == [block.hash], "I prevote the proposal")
        // The equivocator's first vote and three conflicting ones for made-up hashes fill its slots…
        let spray = (0..<4).map { f.vote(.prevote, Keccak256.hash(Array("made up \($0)".utf8)), by: equivocator) }
        actions = core.deliver(spray)
        // …then its vote for the proposal, and the proposer's: with mine, 3 of 4 prevote the block.
        actions = core.deliver([f.vote(.prevote, block.hash, by: equivocator), f.vote(.prevote, block.hash, by: proposer)])
        #expect(actions.votes.contains { $0.kind == .precommit && $0.blockHash == block.hash }, "the polka is seen: I lock and precommit")
        #expect(core.lockedHash == block.hash)
    }

    @Test func madeUpHashesBeyondTheCapAreStillDropped() {
        let f = Fixture()
        let me = f.nonProposer(rounds: 0...0)
        let equivocator = f.others(than: me).first!
        var (core, _) = f.started(me)
        _ = core.deliver((0..<10).map { f.vote(.prevote, Keccak256.hash(Array("made up \($0)".utf8)), by: equivocator) })
        #expect(core.votes(round: 0, kind: .prevote).count == 4, "the first vote and 3 conflicting ones, no more")
    }
}
