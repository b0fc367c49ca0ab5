import Foundation
import KramaaChain
import KramaaNode
import KramaaPrimitives
import KramaaState
import Testing

@Suite struct NodeTests {
    static let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [9])
    /// Calls itself with all its gas, as deep as gas allows (hundreds of frames).
    static let recursive: [UInt8] = [0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x30, 0x5a, 0xf1, 0x00]

    static func genesisDocument() -> Data {
        Data("""
        {"config":{"chainId":77,"kramaa":{"blockPeriodSeconds":0}},"gasLimit":"0x1c9c380",
         "alloc":{"\(key.publicKey.address)":{"balance":"0x3635c9adc5dea00000"},
                  "0x000000000000000000000000000000000000dEE9":{"code":"0x\(Hex.encode(recursive, prefix: false))"}}}
        """.utf8)
    }

    static func freshDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-node-\(UUID().uuidString)")
    }

    func tx(_ nonce: UInt64, to: String, gas: UInt64 = 21_000) -> [UInt8] {
        Transaction(type: .dynamicFee, chainId: 77, nonce: nonce, maxPriorityFeePerGas: .one, maxFeePerGas: UInt256(5_000_000_000),
                    gasLimit: gas, to: try! Address(hex: to.lowercased()), value: .one).signed(with: Self.key).encoded
    }

    @Test func blocksSurviveARestartWithTheSameHeadAndStateRoot() throws {
        let dir = Self.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: Self.genesisDocument())
        var head: BlockHeader
        do {
            let node = try Node(dataDirectory: dir)
            #expect(node.latest.number == 0)
            for n in 0..<3 { _ = try node.accept(raw: tx(UInt64(n), to: "0x00000000000000000000000000000000000000aa")) }
            #expect(node.pendingNonce(Self.key.publicKey.address) == 3)
            let built = try #require(try node.produceBlock(timestamp: 100, allowEmpty: false))
            #expect(built.block.transactions.count == 3)
            #expect(try node.produceBlock(timestamp: 101, allowEmpty: false) == nil)
            #expect(try node.produceBlock(timestamp: 102, allowEmpty: true)?.block.transactions.isEmpty == true)
            head = node.latest
        }
        let reopened = try Node(dataDirectory: dir)
        #expect(reopened.latest == head)
        #expect(reopened.withState { state, _ in state.stateRoot } == head.stateRoot)
        #expect(reopened.pendingNonce(Self.key.publicKey.address) == 3)
        #expect(throws: NodeError.self) { try Node.initialize(dataDirectory: dir, genesisDocument: Self.genesisDocument()) }
    }

    /// The answer to "can anything run?" is cached against the pool's version and the head:
    /// it must change with each transaction that comes or goes and each block.
    @Test func pendingTransactionsFollowThePoolAndTheHead() throws {
        let dir = Self.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: Self.genesisDocument())
        let node = try Node(dataDirectory: dir)
        let to = "0x00000000000000000000000000000000000000aa"
        #expect(!node.hasPendingTransactions)
        _ = try node.accept(raw: tx(1, to: to))
        #expect(!node.hasPendingTransactions, "nonce 1 waits for 0")
        _ = try node.accept(raw: tx(0, to: to))
        #expect(node.hasPendingTransactions)
        #expect(node.hasPendingTransactions, "asked again at the same version")
        _ = try #require(try node.produceBlock(timestamp: 100, allowEmpty: false))
        #expect(!node.hasPendingTransactions, "both were included")
        _ = try node.accept(raw: tx(3, to: to))
        #expect(!node.hasPendingTransactions)
        _ = try node.accept(raw: tx(2, to: to))
        #expect(node.hasPendingTransactions)
    }

    @Test func recentStatesStayReadableAfterARestart() throws {
        let dir = Self.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: Self.genesisDocument())
        let recipient = try Address(hex: "0x00000000000000000000000000000000000000aa")
        do {
            let node = try Node(dataDirectory: dir)
            for n in 0..<3 {
                _ = try node.accept(raw: tx(UInt64(n), to: "0x00000000000000000000000000000000000000aa"))
                try node.produceBlock(timestamp: UInt64(10 + n), allowEmpty: false)
            }
        }
        let node = try Node(dataDirectory: dir)
        for n in 0...3 as ClosedRange<UInt64> {
            #expect(try node.withState(at: n) { s, _ in s.account(recipient)?.balance ?? .zero } == UInt256(n), "block \(n)")
        }
    }

    @Test func refusedTransactionsChangeNothing() throws {
        let dir = Self.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: Self.genesisDocument())
        let node = try Node(dataDirectory: dir)
        #expect(throws: NodeError.self) { try node.accept(raw: [0xc0, 0x01]) }
        #expect(throws: NodeError.self) { try node.accept(raw: tx(5, to: "0x00000000000000000000000000000000000000aa", gas: 1_000)) }
        #expect(try node.produceBlock(timestamp: 1, allowEmpty: false) == nil)
        #expect(node.latest.number == 0)
    }

    @Test func deepContractRecursionRunsOnTheLargeStack() throws {
        let dir = Self.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: Self.genesisDocument())
        let node = try Node(dataDirectory: dir)
        _ = try node.accept(raw: tx(0, to: "0x000000000000000000000000000000000000dEE9", gas: 30_000_000))
        let built = try #require(try node.produceBlock(timestamp: 1, allowEmpty: false))
        #expect(built.receipts.first?.success == true)
        // Each frame spends at least 114 gas (five PUSH0, ADDRESS, GAS, a warm CALL): 500+ frames deep.
        #expect(built.outcomes[0].gasUsed >= 21_000 + 500 * 114)
    }

    /// A block's transactions run without the node's lock (only building, executing and
    /// committing blocks change the state): while a long transaction runs, a submission and a
    /// state read return at once, the read sees the state before the block, and what was
    /// submitted waits for the next block.
    @Test func submissionsAndReadsGoOnWhileABlockRuns() throws {
        // JUMPDEST PUSH0 JUMP: loops until its gas runs out.
        let spinner = "0x0000000000000000000000000000000000005b5b"
        let genesis = String(decoding: Self.genesisDocument(), as: UTF8.self)
            .replacingOccurrences(of: #""alloc":{"#, with: #""alloc":{"\#(spinner)":{"code":"0x5b5f56"},"#)
        let dir = Self.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: Data(genesis.utf8))
        let node = try Node(dataDirectory: dir)
        let sender = Self.key.publicKey.address
        // Nearly the block's whole gas (30M): what comes next cannot fit beside it.
        _ = try node.accept(raw: tx(0, to: spinner, gas: 29_990_000))
        let building = DispatchGroup()
        nonisolated(unsafe) var built: ExecutedBlock?
        let began = ContinuousClock.now
        DispatchQueue.global().async(group: building) { built = try? node.produceBlock(timestamp: 1, allowEmpty: false) }
        Thread.sleep(forTimeInterval: 0.05)
        try #require(building.wait(timeout: .now()) == .timedOut, "the block took under 50 ms: too short to see anything beside it")
        let started = ContinuousClock.now
        _ = try node.accept(raw: tx(1, to: "0x00000000000000000000000000000000000000aa"))
        let nonceMeanwhile = try node.withState(at: node.latest.number) { s, _ in s.account(sender)?.nonce }
        let waited = ContinuousClock.now - started
        building.wait()
        let whole = ContinuousClock.now - began
        #expect(waited * 4 < whole, "the submission and the read took \(waited) of the block's \(whole): they waited for it")
        #expect(nonceMeanwhile == 0, "a read during the block sees the state before it")
        let block = try #require(built)
        #expect(block.block.transactions.count == 1 && block.receipts[0].success == false, "the spinner alone, out of gas")
        #expect(block.outcomes[0].gasUsed == 29_990_000)
        #expect(node.pendingNonce(sender) == 2)
        let next = try #require(try node.produceBlock(timestamp: 2, allowEmpty: false))
        #expect(next.block.transactions.count == 1, "the transaction submitted meanwhile comes next")
        #expect(node.withState { s, _ in s.account(sender)?.nonce } == 2)
    }

    @Test func aMissingOrBadDataDirectoryIsExplained() {
        do {
            _ = try Node(dataDirectory: Self.freshDirectory())
            Issue.record("opened a node with no chain")
        } catch {
            #expect(error.description.contains("kramaa init"))
        }
        #expect(throws: NodeError.self) {
            try Node.initialize(dataDirectory: Self.freshDirectory(), genesisDocument: Data(#"{"config":{}}"#.utf8))
        }
    }
}

@Suite struct BlockProducerTests {
    /// A fresh node with a started producer on a clock the test moves.
    static func started(genesis: Data = NodeTests.genesisDocument()) throws -> (Node, BlockProducer, ManualTime) {
        let dir = NodeTests.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: genesis)
        let node = try Node(dataDirectory: dir)
        let clock = ManualTime()
        let producer = BlockProducer(node: node, clock: clock) { error in Issue.record("producer failed: \(error)") }
        producer.start()
        return (node, producer, clock)
    }

    /// The producer on a clock the test moves: nothing here waits on the real clock.
    @Test func aBurstOfTransactionsIsSealedTogetherAndEveryOneIncluded() throws {
        let (node, producer, clock) = try Self.started()
        let sent = 200
        let idle = clock.pendingTimers  // the once-a-second check for due triggers
        #expect(idle == 1)
        for n in 0..<sent {
            _ = try node.accept(raw: NodeTests().tx(UInt64(n), to: "0x00000000000000000000000000000000000000aa"))
            if n == 0 { #expect(clock.pendingTimers == idle + 1, "the first transaction arms one check") }
        }
        #expect(node.latest.number == 0, "nothing is sealed before the pool has been quiet for `settle`")
        clock.advance(by: .milliseconds(1))
        #expect(node.latest.number == 0)
        var steps = 0
        while node.hasPendingTransactions && steps < 100 {
            clock.advance(by: producer.settle)
            steps += 1
        }
        producer.stop()
        let head = node.latest.number
        var included = 0
        for n in 1...max(head, 1) { included += try node.block(number: n)?.transactions.count ?? 0 }
        #expect(included == sent)
        #expect(head >= 1 && head < 50, "\(sent) transactions sent at once went into \(head) blocks")
        #expect(node.withState { s, _ in s.account(NodeTests.key.publicKey.address)?.nonce } == UInt64(sent))
    }

    @Test func aBurstThatNeverGoesQuietIsSealedAfterMaxDelay() throws {
        let (node, producer, clock) = try Self.started()
        defer { producer.stop() }
        // A transaction every millisecond: never quiet for `settle` (2 ms), so `maxDelay` (50 ms) decides.
        var n: UInt64 = 0
        while node.latest.number == 0 && n < 200 {
            _ = try node.accept(raw: NodeTests().tx(n, to: "0x00000000000000000000000000000000000000aa"))
            n += 1
            clock.advance(by: .milliseconds(1))
        }
        #expect(node.latest.number == 1)
        #expect(clock.uptime == producer.maxDelay, "sealed when maxDelay had passed since the first transaction")
    }

    @Test func aFixedPeriodSealsEmptyBlocksWhenAsked() throws {
        let genesis = String(decoding: NodeTests.genesisDocument(), as: UTF8.self)
            .replacingOccurrences(of: #""blockPeriodSeconds":0"#, with: #""blockPeriodSeconds":1,"emptyBlocks":true"#)
        let (node, producer, clock) = try Self.started(genesis: Data(genesis.utf8))
        clock.advance(by: .milliseconds(2500))
        #expect(node.latest.number == 2, "one block a second for 2.5 s")
        #expect(node.latest.timestamp == clock.unixSeconds)
        producer.stop()
        clock.advance(by: .seconds(5))
        #expect(node.latest.number == 2, "nothing after stop")
        #expect(try node.block(number: 1)?.transactions.isEmpty == true)
    }

    @Test func withAPeriodTransactionsWaitForTheNextTick() throws {
        let genesis = String(decoding: NodeTests.genesisDocument(), as: UTF8.self)
            .replacingOccurrences(of: #""blockPeriodSeconds":0"#, with: #""blockPeriodSeconds":10"#)
        let (node, producer, clock) = try Self.started(genesis: Data(genesis.utf8))
        defer { producer.stop() }
        _ = try node.accept(raw: NodeTests().tx(0, to: "0x00000000000000000000000000000000000000aa"))
        clock.advance(by: .seconds(9))
        #expect(node.latest.number == 0, "no block before the period, however many transactions wait")
        clock.advance(by: .seconds(1))
        #expect(node.latest.number == 1)
        #expect(try node.block(number: 1)?.transactions.count == 1)
    }
}
