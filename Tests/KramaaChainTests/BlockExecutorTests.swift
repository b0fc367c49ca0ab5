import Foundation
import KramaaChain
import KramaaPrimitives
import KramaaState
import KramaaTrie
import Testing

@Suite struct BlockExecutorTests {
    typealias F = ChainFixtures

    @Test func buildsABlockWhoseHeaderCommitsToItsContents() throws {
        let (state, genesis) = F.chain()
        let executor = BlockExecutor(config: F.genesis().config)
        let txs = [F.transfer(from: 0, nonce: 0, value: 5), F.transfer(from: 1, nonce: 0, value: 7), F.transfer(from: 0, nonce: 1, value: 1)]
        let header = executor.childHeader(of: genesis, timestamp: 10, coinbase: Address(word: UInt256(0xc0)))
        let built = executor.build(header, candidates: txs.enumerated().map { SignedTransaction($1, sender: F.addresses[$0 == 1 ? 1 : 0]) },
                                   state: state)
        let block = built.block
        #expect(block.transactions.count == 3 && built.rejected.isEmpty)
        #expect(block.header.gasUsed == 63_000)
        #expect(built.receipts.map(\.cumulativeGasUsed) == [21_000, 42_000, 63_000])
        #expect(block.header.transactionsRoot == MerklePatriciaTrie.orderedRoot(txs.map(\.encoded)))
        #expect(block.header.receiptsRoot == Receipt.root(built.receipts))
        #expect(block.header.stateRoot == state.stateRoot)
        #expect(block.header.parentHash == genesis.hash && block.header.number == 1)
        #expect(state.account(Address(word: UInt256(0xbeef)))?.balance == UInt256(13))
        #expect(try BlockHeader.decode(block.header.encoded) == block.header)
        #expect(try Block.decodeBody(block.encodedBody) == block.transactions)
        for r in built.receipts { #expect(try Receipt.decode(r.encoded) == r) }
        // Storage indexes the block by these: they must be the transactions' own hashes.
        #expect(built.transactionHashes == txs.map(\.hash))
    }

    /// A proposed block's transaction hashes are read off its bytes while decoding (the node uses
    /// them instead of encoding each transaction again): they must be the transactions' own
    /// hashes for every type a body holds (a legacy one as a list, a typed one as a string), and
    /// the block the same as plain decoding gives.
    @Test func decodingABlockWithHashesGivesEachTransactionsOwnHash() throws {
        let legacy = Transaction(type: .legacy, chainId: F.chainId, nonce: 3, maxFeePerGas: UInt256(7), gasLimit: 21_000,
                                 to: Address(word: UInt256(0xbeef)), value: UInt256(1)).signed(with: F.keys[2])
        let accessList = Transaction(type: .accessList, chainId: F.chainId, nonce: 0, maxFeePerGas: UInt256(9), gasLimit: 60_000,
                                     to: Address(word: UInt256(0xcafe)), value: .zero, data: [1, 2, 3],
                                     accessList: [AccessListEntry(address: Address(word: UInt256(0xcafe)), storageKeys: [Bytes32(UInt256(5))])])
            .signed(with: F.keys[3])
        let txs = [F.transfer(from: 0, nonce: 0, value: 5), legacy, accessList, F.transfer(from: 1, nonce: 4, data: Array(repeating: 0xab, count: 300))]
        let block = Block(header: BlockHeader(parentHash: .zero, coinbase: .zero, stateRoot: .zero, number: 9, gasLimit: 30_000_000,
                                              timestamp: 1, baseFeePerGas: .zero), transactions: txs)
        let (decoded, hashes) = try Block.decodeHashingTransactions(block.encoded)
        #expect(decoded == block)
        #expect(decoded == (try Block.decode(block.encoded)))
        #expect(hashes == txs.map(\.hash))
        #expect(hashes == (try Block.transactionHashes(ofBody: block.encodedBody)))
        #expect(try Block.decodeHashingTransactions(Block(header: block.header, transactions: []).encoded).transactionHashes.isEmpty)
        var truncated = block.encoded
        truncated.removeLast()
        #expect(throws: TransactionError.self) { try Block.decodeHashingTransactions(truncated) }
    }

    /// The node runs a block's transactions without its lock: the draft must only read the state,
    /// and its seal must give what building at once gives.
    @Test func aDraftOnlyReadsTheStateAndItsSealIsTheBuiltBlock() throws {
        let (state, genesis) = F.chain(), (twin, _) = F.chain()
        let executor = BlockExecutor(config: F.genesis().config)
        let header = executor.childHeader(of: genesis, timestamp: 10, coinbase: Address(word: UInt256(0xc0)))
        let candidates = [SignedTransaction(F.transfer(from: 0, nonce: 0, value: 5), sender: F.addresses[0]),
                          SignedTransaction(F.transfer(from: 1, nonce: 0, value: 7), sender: F.addresses[1])]
        _ = state.takeChanges()  // the genesis allocations
        let rootBefore = state.stateRoot, accountsBefore = state.accounts
        let draft = executor.draft(header, candidates: candidates, state: state)
        #expect(state.accounts == accountsBefore && state.takeChanges().isEmpty, "the draft wrote the state")
        #expect(state.stateRoot == rootBefore)
        #expect(draft.body.block.header.gasUsed == 42_000 && draft.body.block.transactions.count == 2)
        #expect(draft.body.block.header.receiptsRoot == Receipt.root(draft.body.receipts))
        let sealed = executor.seal(draft, historyRoot: nil)
        let built = executor.build(header, candidates: candidates, state: twin)
        #expect(sealed.block == built.block)
        #expect(sealed.block.header.stateRoot == state.stateRoot && state.stateRoot != rootBefore)
        #expect(state.account(Address(word: UInt256(0xbeef)))?.balance == UInt256(12))
    }

    /// A block whose body does not give its roots is refused by the draft, before the state is
    /// written; one whose state root alone is wrong, by the seal (the caller discards its changes).
    @Test func anImportedBlocksBodyIsCheckedBeforeItsStateIsWritten() throws {
        let (source, genesis) = F.chain(), (target, _) = F.chain()
        let executor = BlockExecutor(config: F.genesis().config)
        let tx = SignedTransaction(F.transfer(from: 0, nonce: 0, value: 5), sender: F.addresses[0])
        let block = executor.build(executor.childHeader(of: genesis, timestamp: 10, coinbase: .zero), candidates: [tx], state: source).block
        var badReceipts = block
        badReceipts.header.receiptsRoot = Keccak256.hash([1])
        _ = target.takeChanges()  // the genesis allocations
        let accountsBefore = target.accounts
        #expect(throws: BlockValidationError.mismatch(field: "receipts root", expected: block.header.receiptsRoot, got: badReceipts.header.receiptsRoot)) {
            try executor.draft(importing: badReceipts, senders: [tx.sender], parent: genesis, state: target)
        }
        #expect(target.accounts == accountsBefore && target.takeChanges().isEmpty)
        var badState = block
        badState.header.stateRoot = Keccak256.hash([2])
        let draft = try executor.draft(importing: badState, senders: [tx.sender], parent: genesis, state: target)
        #expect(target.accounts == accountsBefore, "the draft wrote the state")
        #expect(throws: BlockValidationError.mismatch(field: "state root", expected: block.header.stateRoot, got: badState.header.stateRoot)) {
            try executor.seal(draft, of: badState, historyRoot: nil)
        }
        target.discardChanges()
        #expect(target.accounts == accountsBefore)
        let good = try executor.seal(executor.draft(importing: block, senders: [tx.sender], parent: genesis, state: target), of: block, historyRoot: nil)
        #expect(good.block == block && target.stateRoot == block.header.stateRoot)
    }

    @Test func aSendersGapOrFailureSkipsItsLaterNoncesAndDropsOnlyHopelessOnes() {
        let (state, genesis) = F.chain()
        let executor = BlockExecutor(config: F.genesis().config)
        let header = executor.childHeader(of: genesis, timestamp: 10, coinbase: .zero)
        let candidates = [
            SignedTransaction(F.transfer(from: 0, nonce: 1), sender: F.addresses[0]),  // gap: kept for later
            SignedTransaction(F.transfer(from: 0, nonce: 2), sender: F.addresses[0]),
            SignedTransaction(F.transfer(from: 1, nonce: 0, value: UInt64.max), sender: F.addresses[1]),  // can never pay
        ]
        let built = executor.build(header, candidates: candidates, state: state)
        #expect(built.block.transactions.isEmpty)
        #expect(built.rejected.map(\.hash) == [candidates[2].hash])
    }

    /// Chain time follows the wall clock: blocks within one second share it (a +1 s rule ran the
    /// chain's time ahead of the clock when blocks came faster than one a second), never earlier.
    @Test func blocksInTheSameSecondShareItsTimeAndAnEarlierTimeIsRefused() throws {
        let (built, imported) = (F.chain(), F.chain())
        var parent = built.1
        parent.timestamp = 10
        let executor = BlockExecutor(config: F.genesis().config)
        #expect(executor.childHeader(of: parent, timestamp: 10, coinbase: .zero).timestamp == 10)
        #expect(executor.childHeader(of: parent, timestamp: 3, coinbase: .zero).timestamp == 10, "never before the parent")
        #expect(executor.childHeader(of: parent, timestamp: 12, coinbase: .zero).timestamp == 12)
        let tx = SignedTransaction(F.transfer(from: 0, nonce: 0, value: 5), sender: F.addresses[0])
        let block = executor.build(executor.childHeader(of: parent, timestamp: 10, coinbase: .zero), candidates: [tx], state: built.0).block
        var earlier = block
        earlier.header.timestamp = 9
        let before = imported.0.stateRoot
        #expect(throws: BlockValidationError.timestampBeforeParent(parent: 10, got: 9)) {
            try executor.execute(earlier, senders: [F.addresses[0]], parent: parent, state: imported.0)
        }
        #expect(imported.0.stateRoot == before, "a refused block changes nothing")
        #expect(BlockValidationError.timestampBeforeParent(parent: 10, got: 9).description == "timestamp 9 is before the parent's 10")
        let executed = try executor.execute(block, senders: [F.addresses[0]], hashes: [tx.hash], parent: parent, state: imported.0)
        #expect(imported.0.stateRoot == block.header.stateRoot)
        #expect(executed.transactionHashes == block.transactions.map(\.hash))
    }

    @Test func baseFeeFollowsEIP1559AndStaysZeroUnderTheZeroFeePolicy() {
        var parent = BlockHeader(parentHash: .zero, coinbase: .zero, stateRoot: .zero, number: 1, gasLimit: 30_000_000,
                                 timestamp: 1, baseFeePerGas: UInt256(1_000_000_000))
        parent.gasUsed = 30_000_000
        #expect(FeeMarket.nextBaseFee(parent: parent, policy: .eip1559) == UInt256(1_125_000_000))
        parent.gasUsed = 0
        #expect(FeeMarket.nextBaseFee(parent: parent, policy: .eip1559) == UInt256(875_000_000))
        parent.gasUsed = 15_000_000
        #expect(FeeMarket.nextBaseFee(parent: parent, policy: .eip1559) == UInt256(1_000_000_000))
        #expect(FeeMarket.nextBaseFee(parent: parent, policy: .zero) == .zero)
    }

    @Test func zeroFeeChainAcceptsGasPriceZero() {
        let genesis = F.genesis(policy: .zero)
        let (state, head) = F.chain(genesis)
        let executor = BlockExecutor(config: genesis.config)
        let tx = F.transfer(from: 0, nonce: 0, value: 3, tip: 0, feeCap: 0)
        let built = executor.build(executor.childHeader(of: head, timestamp: 5, coinbase: .zero),
                                   candidates: [SignedTransaction(tx, sender: F.addresses[0])], state: state)
        #expect(built.block.transactions.count == 1)
        #expect(state.account(F.addresses[0])?.balance == F.funds &- UInt256(3))
    }

    @Test func genesisFileParsesAndNamesTheBadField() throws {
        let good = """
        {"config":{"chainId":99,"kramaa":{"blockPeriodSeconds":0,"emptyBlocks":true,"feePolicy":"zero",
         "validators":["0x0000000000000000000000000000000000000001"],"allowList":["0x00000000000000000000000000000000000000aa"]}},
         "gasLimit":"0x1c9c380","alloc":{"00000000000000000000000000000000000000aa":{"balance":"1000","storage":{"0x1":"0x2"}}}}
        """
        let g = try Genesis.parse(Data(good.utf8))
        #expect(g.config.chainId == 99 && g.config.blockPeriodSeconds == 0 && g.config.emptyBlocks && g.config.feePolicy == .zero)
        #expect(g.baseFeePerGas == .zero && g.gasLimit == 30_000_000)
        #expect(g.alloc[Address(word: UInt256(0xaa))]?.storage[UInt256(1)] == UInt256(2))
        let bad: [(String, String)] = [
            ("[]", "(document)"),
            (#"{"alloc":{}}"#, "config"),
            (#"{"config":{"chainId":0}}"#, "config.chainId"),
            (#"{"config":{"chainId":1,"kramaa":{"feePolicy":"free"}}}"#, "config.kramaa.feePolicy"),
            (#"{"config":{"chainId":1},"alloc":{"0x12":{}}}"#, "alloc[0x12]"),
            (#"{"config":{"chainId":1},"gasLimit":"lots"}"#, "gasLimit"),
        ]
        for (text, field) in bad {
            #expect(throws: Genesis.FormatError.self) { try Genesis.parse(Data(text.utf8)) }
            do { _ = try Genesis.parse(Data(text.utf8)) } catch { #expect(error.field == field, "\(error)") }
        }
    }
}
