import KramaaChain
import KramaaPrimitives
import Testing

@Suite struct TxPoolTests {
    typealias F = ChainFixtures


    @Test func futureNonceWaitsUntilTheGapCloses() throws {
        let (state, head) = F.chain()
        let pool = TxPool(chain: F.genesis().config)
        #expect(!pool.hasPending(state: state))
        try pool.add(F.transfer(from: 0, nonce: 1), encodedSize: 100, state: state, head: head)
        #expect(pool.counts(state: state) == (pending: 0, queued: 1))
        #expect(!pool.hasPending(state: state), "a nonce gap: nothing can run")
        #expect(pool.pending(state: state, baseFee: head.baseFeePerGas).isEmpty)
        try pool.add(F.transfer(from: 1, nonce: 2), encodedSize: 100, state: state, head: head)
        #expect(!pool.hasPending(state: state))
        try pool.add(F.transfer(from: 0, nonce: 0), encodedSize: 100, state: state, head: head)
        #expect(pool.hasPending(state: state))
        #expect(pool.counts(state: state) == (pending: 2, queued: 1))
        pool.remove(hash: F.transfer(from: 1, nonce: 2).hash)
        #expect(pool.pending(state: state, baseFee: head.baseFeePerGas).map(\.transaction.nonce) == [0, 1])
        #expect(pool.nextNonce(F.addresses[0], state: state) == 2)
    }

    /// Answers cached against the pool's version stay right only if every change moves it.
    @Test func theVersionMovesWithEveryChangeAndNoRead() throws {
        let (state, head) = F.chain()
        let pool = TxPool(chain: F.genesis().config)
        var seen = pool.version
        func changed() -> Bool { defer { seen = pool.version }; return pool.version != seen }
        try pool.add(F.transfer(from: 0, nonce: 0), encodedSize: 100, state: state, head: head)
        #expect(changed())
        _ = pool.hasPending(state: state)
        _ = pool.pending(state: state, baseFee: head.baseFeePerGas)
        _ = pool.counts(state: state)
        #expect(!changed(), "reads leave it")
        #expect(throws: TxPoolError.self) { try pool.add(F.transfer(from: 0, nonce: 0), encodedSize: 100, state: state, head: head) }
        #expect(!changed(), "a refused transaction leaves it")
        pool.remove(hash: F.transfer(from: 0, nonce: 0).hash)
        #expect(changed())
    }

    @Test func refusalsCarryGethsMessagesAndLeaveThePoolUnchanged() throws {
        let (state, head) = F.chain(F.genesis(allowList: Set(F.addresses.prefix(3))))
        let pool = TxPool(chain: F.genesis(allowList: Set(F.addresses.prefix(3))).config)
        try pool.add(F.transfer(from: 0, nonce: 0), encodedSize: 100, state: state, head: head)
        let legacy = Transaction(type: .legacy, chainId: nil, nonce: 0, maxFeePerGas: UInt256(10_000_000_000), gasLimit: 21_000,
                                 to: .zero).signed(with: F.keys[1])
        let cases: [(Transaction, Int, String)] = [
            (F.transfer(from: 0, nonce: 0), 100, "already known"),
            (F.transfer(from: 1, nonce: 0, chainId: 1), 100, "invalid chain id for signer"),
            (F.transfer(from: 1, nonce: 0, gas: 20_000), 100, "intrinsic gas too low"),
            (F.transfer(from: 1, nonce: 0, gas: 40_000_000), 100, "exceeds block gas limit"),
            (F.transfer(from: 1, nonce: 0, value: UInt64.max, feeCap: UInt64.max / 1_000_000), 100, "insufficient funds for gas * price + value"),
            (F.transfer(from: 1, nonce: 0, tip: 1, feeCap: 1), 100, "transaction underpriced"),
            (F.transfer(from: 1, nonce: 0), 200_000, "oversized data"),
            (F.transfer(from: 3, nonce: 0), 100, "sender not allowed"),
            (legacy, 100, "only replay-protected (EIP-155) transactions allowed over RPC"),
        ]
        for (tx, size, message) in cases {
            do {
                try pool.add(tx, encodedSize: size, state: state, head: head)
                Issue.record("accepted a transaction that should fail with \(message)")
            } catch {
                #expect(error.description.hasPrefix(message), "\(error.description)")
            }
            #expect(pool.count == 1)
        }
    }

    @Test func nonceBelowTheAccountsIsRefused() throws {
        let (state, head) = F.chain()
        let executor = BlockExecutor(config: F.genesis().config)
        let built = executor.build(executor.childHeader(of: head, timestamp: 1, coinbase: .zero),
                                   candidates: [SignedTransaction(F.transfer(from: 0, nonce: 0), sender: F.addresses[0])], state: state)
        #expect(built.block.transactions.count == 1)
        let pool = TxPool(chain: F.genesis().config)
        #expect(throws: TxPoolError.nonceTooLow(next: 1, got: 0)) {
            try pool.add(F.transfer(from: 0, nonce: 0, value: 2), encodedSize: 100, state: state, head: built.block.header)
        }
    }

    @Test func replacementNeedsTenPercentMoreOnTipAndFeeCap() throws {
        let (state, head) = F.chain()
        let pool = TxPool(chain: F.genesis().config)
        try pool.add(F.transfer(from: 0, nonce: 0, tip: 1_000_000_000, feeCap: 10_000_000_000), encodedSize: 100, state: state, head: head)
        #expect(throws: TxPoolError.replacementUnderpriced) {
            try pool.add(F.transfer(from: 0, nonce: 0, tip: 1_050_000_000, feeCap: 11_000_000_000), encodedSize: 100, state: state, head: head)
        }
        let better = F.transfer(from: 0, nonce: 0, tip: 1_100_000_000, feeCap: 11_000_000_000)
        let replaced = try pool.add(better, encodedSize: 100, state: state, head: head)
        #expect(replaced != nil && pool.count == 1)
        #expect(pool.pending(state: state, baseFee: head.baseFeePerGas).first?.hash == better.hash)
    }

    /// The pool's summed gas limits follow every addition, replacement, removal and prune.
    @Test func gasLimitTotalFollowsWhatThePoolHolds() throws {
        let (state, head) = F.chain()
        let pool = TxPool(chain: F.genesis().config)
        try pool.add(F.transfer(from: 0, nonce: 0, gas: 21_000), encodedSize: 100, state: state, head: head)
        try pool.add(F.transfer(from: 0, nonce: 1, gas: 50_000), encodedSize: 100, state: state, head: head)
        let second = F.transfer(from: 1, nonce: 0, gas: 30_000)
        try pool.add(second, encodedSize: 100, state: state, head: head)
        #expect(pool.gasLimitTotal == 101_000)
        // A replacement counts its own gas limit instead of the one it replaced.
        try pool.add(F.transfer(from: 0, nonce: 1, tip: 2_000_000_000, feeCap: 20_000_000_000, gas: 60_000), encodedSize: 100, state: state, head: head)
        #expect(pool.gasLimitTotal == 111_000)
        pool.remove(hash: second.hash)
        #expect(pool.gasLimitTotal == 81_000)
        // Refused: nothing changes.
        #expect(throws: TxPoolError.self) { try pool.add(F.transfer(from: 0, nonce: 1, gas: 90_000), encodedSize: 100, state: state, head: head) }
        #expect(pool.gasLimitTotal == 81_000)
        let funded = try #require(state.account(F.addresses[0]))
        state.set(F.addresses[0], nonce: 2, balance: funded.balance, code: [], storage: [:])
        pool.prune(state: state)
        #expect(pool.count == 0 && pool.gasLimitTotal == 0)
    }

    @Test func fullPoolEvictsOnlyForABetterPrice() throws {
        let (state, head) = F.chain()
        var config = TxPoolConfig()
        config.capacity = 2
        let pool = TxPool(chain: F.genesis().config, config: config)
        try pool.add(F.transfer(from: 0, nonce: 0, feeCap: 5_000_000_000), encodedSize: 100, state: state, head: head)
        try pool.add(F.transfer(from: 1, nonce: 0, feeCap: 6_000_000_000), encodedSize: 100, state: state, head: head)
        #expect(throws: TxPoolError.full) {
            try pool.add(F.transfer(from: 2, nonce: 0, feeCap: 4_000_000_000), encodedSize: 100, state: state, head: head)
        }
        try pool.add(F.transfer(from: 2, nonce: 0, feeCap: 7_000_000_000), encodedSize: 100, state: state, head: head)
        #expect(pool.count == 2)
        #expect(!pool.pending(state: state, baseFee: head.baseFeePerGas).contains { $0.sender == F.addresses[0] })
    }

    @Test func aPoolAtItsByteLimitEvictsCheaperTransactionsOrRefusesChangingNothing() throws {
        let (state, head) = F.chain()
        var config = TxPoolConfig()
        config.maxBytes = 10_000
        let pool = TxPool(chain: F.genesis().config, config: config)
        // Three senders, 3,000 bytes each at 5, 6 and 7 gwei: nearly full by bytes, far below the count.
        for key in 0..<3 {
            try pool.add(F.transfer(from: key, nonce: 0, feeCap: UInt64(5 + key) * 1_000_000_000), encodedSize: 3_000, state: state, head: head)
        }
        #expect(pool.count == 3 && pool.byteCount == 9_000)
        // 7,000 bytes need 6,000 freed; at 5.5 gwei only the 5 gwei one is cheaper: refused, nothing dropped.
        #expect(throws: TxPoolError.full) {
            try pool.add(F.transfer(from: 3, nonce: 0, feeCap: 5_500_000_000), encodedSize: 7_000, state: state, head: head)
        }
        #expect(pool.count == 3 && pool.byteCount == 9_000)
        // At 6.5 gwei it takes the place of the two cheapest, and only theirs.
        try pool.add(F.transfer(from: 3, nonce: 0, feeCap: 6_500_000_000), encodedSize: 7_000, state: state, head: head)
        #expect(pool.count == 2 && pool.byteCount == 10_000)
        #expect(Set(pool.all.map(\.sender)) == [F.addresses[2], F.addresses[3]])
        // A replacement counts its new size instead of the old one; removal gives the bytes back.
        try pool.add(F.transfer(from: 2, nonce: 0, tip: 1_100_000_000, feeCap: 9_000_000_000), encodedSize: 1_000, state: state, head: head)
        #expect(pool.count == 2 && pool.byteCount == 8_000)
        for signed in pool.all { pool.remove(hash: signed.hash) }
        #expect(pool.count == 0 && pool.byteCount == 0)
    }

    @Test func pendingOrderPrefersHigherTipsThenArrival() throws {
        let (state, head) = F.chain()
        let pool = TxPool(chain: F.genesis().config)
        try pool.add(F.transfer(from: 0, nonce: 0, tip: 1), encodedSize: 100, state: state, head: head)
        try pool.add(F.transfer(from: 0, nonce: 1, tip: 9_000_000_000), encodedSize: 100, state: state, head: head)
        try pool.add(F.transfer(from: 1, nonce: 0, tip: 2), encodedSize: 100, state: state, head: head)
        try pool.add(F.transfer(from: 2, nonce: 0, tip: 2), encodedSize: 100, state: state, head: head)
        let order = pool.pending(state: state, baseFee: head.baseFeePerGas).map { ($0.sender, $0.transaction.nonce) }
        let a = F.addresses
        #expect(order.map(\.0) == [a[1], a[2], a[0], a[0]])
        #expect(order.map(\.1) == [0, 0, 0, 1])
    }
}
