import KramaaChain
import KramaaPrimitives
import Testing

@Suite struct HistoryAccumulatorTests {
    static func leaves(_ n: Int) -> [Bytes32] { (0..<n).map { Keccak256.hash(Array("block \($0)".utf8)) } }
    static func join(_ a: Bytes32, _ b: Bytes32) -> Bytes32 { Keccak256.hash(a.bytes + b.bytes) }

    @Test func theRootCommitsToTheCountAndThePeaksBuiltByHand() {
        let l = Self.leaves(7)
        // 7 = 4 + 2 + 1: peaks ((0 1)(2 3)), (4 5), 6
        let peaks = [Self.join(Self.join(l[0], l[1]), Self.join(l[2], l[3])), Self.join(l[4], l[5]), l[6]]
        let expected = Keccak256.hash(withUnsafeBytes(of: UInt64(7).bigEndian, Array.init) + peaks.flatMap(\.bytes))
        #expect(HistoryAccumulator(leaves: l).root == expected)
        #expect(HistoryAccumulator().root == Keccak256.hash(withUnsafeBytes(of: UInt64(0).bigEndian, Array.init)), "the empty history")
        #expect(HistoryAccumulator(leaves: l.prefix(6)).root != expected)
    }

    @Test func everyLeafOfEveryCountUpTo70ProvesAndNothingElseDoes() throws {
        let all = Self.leaves(70)
        var accumulator = HistoryAccumulator()
        for count in 1...70 {
            accumulator.append(all[count - 1])
            let root = accumulator.root
            #expect(accumulator.peaks.count == count.nonzeroBitCount)
            for index in 0..<count {
                let proof = try #require(accumulator.proof(of: UInt64(index)) { Array(all[Int($0.lowerBound)..<Int($0.upperBound)]) })
                #expect(proof.siblings.count <= 6, "logarithmic")
                #expect(HistoryAccumulator.verify(all[index], proof, root: root))
                // Another leaf, another position, another count, a changed sibling: refused.
                #expect(!HistoryAccumulator.verify(Keccak256.hash(all[index].bytes), proof, root: root))
                let other = HistoryAccumulator.Proof(index: UInt64((index + 1) % count), count: proof.count, siblings: proof.siblings, peaks: proof.peaks)
                #expect(count == 1 || !HistoryAccumulator.verify(all[index], other, root: root))
                let longer = HistoryAccumulator.Proof(index: proof.index, count: proof.count + 1, siblings: proof.siblings, peaks: proof.peaks)
                #expect(!HistoryAccumulator.verify(all[index], longer, root: root))
                if let first = proof.siblings.first {
                    var siblings = proof.siblings
                    siblings[0] = Keccak256.hash(first.bytes)
                    let tampered = HistoryAccumulator.Proof(index: proof.index, count: proof.count, siblings: siblings, peaks: proof.peaks)
                    #expect(!HistoryAccumulator.verify(all[index], tampered, root: root))
                }
            }
            #expect(accumulator.proof(of: UInt64(count)) { _ in [] } == nil)
        }
    }

    @Test func aProofReadsOnlyTheLeavesOfItsPeak() throws {
        let all = Self.leaves(1_000)
        let accumulator = HistoryAccumulator(leaves: all)  // 512 + 256 + 128 + 64 + 32 + 8
        var read: [Range<UInt64>] = []
        let proof = try #require(accumulator.proof(of: 990) { range in
            read.append(range)
            return Array(all[Int(range.lowerBound)..<Int(range.upperBound)])
        })
        #expect(read == [992 - 32..<992])
        #expect(HistoryAccumulator.verify(all[990], proof, root: accumulator.root))
    }
}

@Suite struct HeaderCommitmentTests {
    typealias F = ChainFixtures

    static func committing(validators: [Address]) -> Genesis {
        var genesis = F.genesis()
        genesis.config.commitsHistory = true
        genesis.config.validators = validators
        return genesis
    }

    @Test func aBuiltBlockCommitsToTheHistoryAndTheNextValidatorsAndImportChecksIt() throws {
        let validators = [Address(word: UInt256(0xa1)), Address(word: UInt256(0xa2))]
        let genesis = Self.committing(validators: validators)
        let (state, parent) = F.chain(genesis)
        let executor = BlockExecutor(config: genesis.config)
        let history = HistoryAccumulator(leaves: [parent.hash])
        let header = executor.childHeader(of: parent, timestamp: 10, coinbase: .zero)
        let built = executor.build(header, candidates: [SignedTransaction(F.transfer(from: 0, nonce: 0), sender: F.addresses[0])], state: state,
                                   historyRoot: history.root)
        // keccak256(abi.encode(address[])): offset 32, count, each address in a word.
        let encoded = UInt256(32).bigEndianBytes + UInt256(2).bigEndianBytes + validators.flatMap { [UInt8](repeating: 0, count: 12) + $0.bytes }
        let expected = HeaderCommitment(historyRoot: history.root, validatorsHash: Keccak256.hash(encoded))
        #expect(built.block.header.extraData == expected.extraData)
        #expect(built.block.header.extraData == Keccak256.hash(history.root.bytes + Keccak256.hash(encoded).bytes).bytes)

        // Another node importing it with the same history accepts it; a different history, or a
        // header whose extra data was changed, is refused and the state is left to be discarded.
        func importing(_ block: Block, root: Bytes32) throws(BlockValidationError) {
            let (fresh, _) = F.chain(genesis)
            _ = try executor.execute(block, senders: [F.addresses[0]], parent: parent, state: fresh, historyRoot: root)
        }
        try importing(built.block, root: history.root)
        #expect(throws: BlockValidationError.wrongCommitment(expected: HeaderCommitment(historyRoot: Keccak256.hash([1]), nextValidators: validators),
                                                             got: expected.extraData)) {
            try importing(built.block, root: Keccak256.hash([1]))
        }
        var forged = built.block
        forged.header = forged.header.with(extraData: HeaderCommitment(historyRoot: history.root, nextValidators: [validators[0]]).extraData)
        #expect(throws: BlockValidationError.wrongCommitment(expected: expected, got: forged.header.extraData)) { try importing(forged, root: history.root) }
    }

    @Test func aChainThatDoesNotCommitKeepsItsExtraDataEmpty() {
        let (state, parent) = F.chain()
        let executor = BlockExecutor(config: F.genesis().config)
        let header = executor.childHeader(of: parent, timestamp: 10, coinbase: .zero)
        #expect(executor.build(header, candidates: [], state: state, historyRoot: Keccak256.hash([1])).block.header.extraData.isEmpty)
    }
}
