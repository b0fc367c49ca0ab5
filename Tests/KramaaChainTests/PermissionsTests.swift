import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import Testing

/// The permission lists on a chain of two validators (keys 0 and 1; both must approve: two of
/// two is more than two thirds): a restriction approved in block N applies from block N+1, a
/// block builder leaves refused transactions out, and a block that carries one is refused on
/// import, naming the list; genesis lists seed the contract.
@Suite struct PermissionsTests {
    typealias F = ChainFixtures
    typealias M = PermissionsContract.Method

    struct Chain {
        let executor: BlockExecutor
        let state: InMemoryState
        var head: BlockHeader
        var nonces: [Int: UInt64] = [:]

        init(senders: Set<Address>? = nil, deployers: Set<Address>? = nil) {
            var genesis = F.genesis()
            genesis.config.validators = Array(F.addresses.prefix(2))
            genesis.config.allowList = senders
            genesis.config.deployerAllowList = deployers
            genesis = genesis.installing(.governance)
            executor = BlockExecutor(config: genesis.config, systemContracts: .governance)
            (state, head) = F.chain(genesis)
        }

        func tx(_ key: Int, nonce: UInt64, to: Address?, data: [UInt8] = [], gas: UInt64 = 300_000) -> SignedTransaction {
            let tx = Transaction(type: .dynamicFee, chainId: F.chainId, nonce: nonce, maxPriorityFeePerGas: UInt256(1_000_000_000),
                                 maxFeePerGas: UInt256(10_000_000_000), gasLimit: gas, to: to, data: data).signed(with: F.keys[key])
            return SignedTransaction(tx, sender: F.addresses[key])
        }

        /// Builds and keeps a block of the calls; returns it.
        @discardableResult
        mutating func mine(_ calls: [(key: Int, to: Address?, data: [UInt8])]) -> ExecutedBlock {
            let txs = calls.map { c -> SignedTransaction in
                let n = nonces[c.key, default: 0]
                nonces[c.key] = n + 1
                return tx(c.key, nonce: n, to: c.to, data: c.data)
            }
            let built = executor.build(executor.childHeader(of: head, timestamp: head.timestamp + 1, coinbase: .zero), candidates: txs, state: state)
            _ = state.takeChanges()
            head = built.block.header
            return built
        }
    }

    static let deployment: [UInt8] = [0x60, 0x01, 0x60, 0x00, 0x81, 0x60, 0x09, 0x82, 0x39, 0xf3, 0x00]

    @Test func aRestrictionApprovedInOneBlockAppliesFromTheNext() throws {
        var chain = Chain()
        let restrict = M.proposeRestriction.callData([.uint(UInt256(1)), .bool(true)])
        let proposed = chain.mine([(0, PermissionsContract.address, restrict)])
        #expect(proposed.receipts[0].success && proposed.receipts[0].logs.map(\.topics[0]) == [PermissionsContract.Event.proposed, PermissionsContract.Event.approved])
        // The second approval passes it; key 2's deployment in the same block still runs (the block started open).
        let approved = chain.mine([(1, PermissionsContract.address, M.approve.callData([.uint(.one)])), (2, nil, Self.deployment)])
        #expect(approved.block.transactions.count == 2 && approved.receipts.allSatisfy(\.success))
        #expect(approved.receipts[0].logs.contains { $0.topics[0] == PermissionsContract.Event.restrictionChanged })
        // From the next block: the builder leaves key 2's deployment out; its transfer goes in.
        let next = chain.mine([(2, nil, Self.deployment), (3, Address(word: UInt256(0xbeef)), [])])
        #expect(next.block.transactions.count == 1 && next.senders == [F.addresses[3]])
        // A block that carries a refused deployment is refused on import, naming the list.
        let parent = chain.head
        let crafted = chain.executor.build(chain.executor.childHeader(of: parent, timestamp: parent.timestamp + 1, coinbase: .zero),
                                           candidates: [], state: chain.state)
        chain.state.discardChanges()
        var header = crafted.block.header
        let refused = chain.tx(2, nonce: 1, to: nil, data: Self.deployment)
        header.transactionsRoot = Block.transactionsRoot([refused.transaction])
        #expect(throws: BlockValidationError.deployerNotAllowed(index: 0, F.addresses[2])) {
            _ = try chain.executor.execute(Block(header: header, transactions: [refused.transaction]), senders: [F.addresses[2]],
                                           parent: parent, state: chain.state)
        }
        chain.state.discardChanges()
    }

    /// The validators send whatever the senders list holds (the chain must be able to govern
    /// itself); anyone else must be on it, in the pool as in a block.
    @Test func aRestrictedSendersListStillLetsTheValidatorsSend() throws {
        var chain = Chain(senders: [F.addresses[3]])
        let pool = TxPool(chain: chain.executor.config)
        let to = Address(word: UInt256(0xbeef))
        try pool.add(checked: chain.tx(0, nonce: 0, to: to), encodedSize: 100, state: chain.state, head: chain.head)  // a validator, not listed
        try pool.add(checked: chain.tx(3, nonce: 0, to: to), encodedSize: 100, state: chain.state, head: chain.head)  // listed
        #expect(throws: TxPoolError.self) {
            try pool.add(checked: chain.tx(2, nonce: 0, to: to), encodedSize: 100, state: chain.state, head: chain.head)
        }
        #expect(pool.count == 2)
        let block = chain.mine([(0, to, []), (2, to, []), (3, to, [])])
        #expect(block.senders == [F.addresses[0], F.addresses[3]])
    }

    @Test func genesisListsSeedTheContractAndOutsidersCannotPropose() throws {
        var chain = Chain(deployers: [F.addresses[3]])
        let storage = SlotReader { chain.state.storage(PermissionsContract.address, slot: $0) }
        #expect(PermissionsContract.restricted(.deployers, in: storage, configured: nil))
        #expect(PermissionsContract.allows(.deployers, F.addresses[3], in: storage, configured: nil))
        #expect(!PermissionsContract.allows(.deployers, F.addresses[2], in: storage, configured: nil))
        #expect(!PermissionsContract.restricted(.senders, in: storage, configured: nil))
        let outsider = chain.mine([(2, PermissionsContract.address, M.proposeRestriction.callData([.uint(UInt256(0)), .bool(true)]))])
        #expect(!outsider.receipts[0].success)
        #expect(Opcodes.revertReason(outsider.outcomes[0].output) == "only a current validator may propose a permission change")
        let unknown = chain.mine([(0, PermissionsContract.address, M.proposeRestriction.callData([.uint(UInt256(7)), .bool(true)]))])
        #expect(Opcodes.revertReason(unknown.outcomes[0].output) == "list 7 does not exist: 0 senders, 1 deployers, 2 nodes")
        let twice = chain.mine([(0, PermissionsContract.address, M.proposePermission.callData([.uint(UInt256(0)), .address(F.addresses[2]), .bool(true)])),
                                (0, PermissionsContract.address, M.approve.callData([.uint(.one)]))])
        #expect(twice.receipts[0].success && Opcodes.revertReason(twice.outcomes[1].output) == "\(F.addresses[0]) has already approved proposal 1")
    }
}
