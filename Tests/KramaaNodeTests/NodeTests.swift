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
    @Test func aBurstOfTransactionsIsSealedTogetherAndEveryOneIncluded() throws {
        let dir = NodeTests.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: NodeTests.genesisDocument())
        let node = try Node(dataDirectory: dir)
        let producer = BlockProducer(node: node) { error in Issue.record("producer failed: \(error)") }
        producer.start()
        let sent = 200
        for n in 0..<sent { _ = try node.accept(raw: NodeTests().tx(UInt64(n), to: "0x00000000000000000000000000000000000000aa")) }
        let deadline = Date().addingTimeInterval(10)
        while node.pendingNonce(NodeTests.key.publicKey.address) != UInt64(sent) || node.hasPendingTransactions {
            guard Date() < deadline else { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        producer.stop()
        let head = node.latest.number
        var included = 0
        for n in 1...max(head, 1) { included += try node.store.block(number: n)?.transactions.count ?? 0 }
        #expect(included == sent)
        #expect(head >= 1 && head < 50, "\(sent) transactions sent at once went into \(head) blocks")
        #expect(node.withState { s, _ in s.account(NodeTests.key.publicKey.address)?.nonce } == UInt64(sent))
    }

    @Test func aFixedPeriodSealsEmptyBlocksWhenAsked() throws {
        let dir = NodeTests.freshDirectory()
        let genesis = String(decoding: NodeTests.genesisDocument(), as: UTF8.self)
            .replacingOccurrences(of: #""blockPeriodSeconds":0"#, with: #""blockPeriodSeconds":1,"emptyBlocks":true"#)
        try Node.initialize(dataDirectory: dir, genesisDocument: Data(genesis.utf8))
        let node = try Node(dataDirectory: dir)
        let producer = BlockProducer(node: node) { error in Issue.record("producer failed: \(error)") }
        producer.start()
        Thread.sleep(forTimeInterval: 2.5)
        producer.stop()
        let head = node.latest.number
        #expect(head >= 2 && head <= 3, "one block a second for 2.5 s, got \(head)")
        #expect(try node.store.block(number: 1)?.transactions.isEmpty == true)
    }
}

@Suite struct ValidatorPathTests {
    /// Two nodes on the same genesis, as two validators.
    static func pair() throws -> (Node, Node) {
        let a = NodeTests.freshDirectory(), b = NodeTests.freshDirectory()
        try Node.initialize(dataDirectory: a, genesisDocument: NodeTests.genesisDocument())
        try Node.initialize(dataDirectory: b, genesisDocument: NodeTests.genesisDocument())
        return (try Node(dataDirectory: a), try Node(dataDirectory: b))
    }

    @Test func aProposedBlockValidatesAndCommitsOnAnotherNode() throws {
        let (proposer, follower) = try Self.pair()
        for n in 0..<5 { _ = try proposer.accept(raw: NodeTests().tx(UInt64(n), to: "0x00000000000000000000000000000000000000aa")) }
        let coinbase = Address(word: UInt256(0xc0))
        let block = try #require(proposer.propose(timestamp: 50, coinbase: coinbase, allowEmpty: false))
        #expect(block.transactions.count == 5)
        #expect(proposer.latest.number == 0, "a proposal is not the head until committed")
        #expect(try proposer.withState(at: 0) { s, _ in s.account(NodeTests.key.publicKey.address)?.nonce } == 0,
                "reads do not see the uncommitted block")
        try follower.validate(block)
        let certificate: [UInt8] = [0xc1, 0x01]
        try proposer.commit(block, certificate: certificate)
        try follower.commit(block, certificate: certificate)
        #expect(proposer.latest == follower.latest && follower.latest.hash == block.hash)
        #expect(follower.withState { s, _ in s.stateRoot } == block.header.stateRoot)
        #expect(try follower.certificate(number: 1) == certificate)
        // A follower that never validated it executes it at commit.
        let (_, late) = try Self.pair()
        try late.commit(block, certificate: certificate)
        #expect(late.latest.hash == block.hash)
    }

    @Test func aTamperedBlockIsRefusedAndChangesNothing() throws {
        let (proposer, follower) = try Self.pair()
        _ = try proposer.accept(raw: NodeTests().tx(0, to: "0x00000000000000000000000000000000000000aa"))
        let block = try #require(proposer.propose(timestamp: 50, coinbase: .zero, allowEmpty: false))
        let root = follower.withState { s, _ in s.stateRoot }
        var badRoot = block
        badRoot.header.stateRoot = Keccak256.hash([1] as [UInt8])
        var badGas = block
        badGas.header.gasUsed += 1
        var badParent = block
        badParent.header.parentHash = .zero
        var badTx = block
        badTx.transactions[0].value = UInt256(2)  // the signature no longer recovers the same sender
        for (bad, expected) in [(badRoot, "state root"), (badGas, "gas used"), (badParent, "parent"), (badTx, "transaction 0")] {
            do {
                try follower.validate(bad)
                Issue.record("accepted a block with a wrong \(expected)")
            } catch {
                #expect(error.description.hasPrefix("invalid block"), "\(error)")
                #expect(error.description.contains(expected), "\(error)")
            }
            #expect(follower.withState { s, _ in s.stateRoot } == root)
            #expect(follower.latest.number == 0)
        }
        try follower.validate(block)
        try follower.commit(block, certificate: [])
        #expect(follower.latest.hash == block.hash)
    }
}

@Suite struct BlockCodecTests {
    @Test func aBlockDecodesToItselfAndGarbageIsRefused() throws {
        let (proposer, idle) = try ValidatorPathTests.pair()
        for n in 0..<3 { _ = try proposer.accept(raw: NodeTests().tx(UInt64(n), to: "0x00000000000000000000000000000000000000aa")) }
        let block = try #require(proposer.propose(timestamp: 9, coinbase: .zero, allowEmpty: false))
        #expect(try Block.decode(block.encoded) == block)
        #expect(Block.hash(ofEncoded: block.encoded) == block.hash)
        #expect(Block.hash(ofEncoded: [0xc0]) == nil && Block.hash(ofEncoded: [0x80]) == nil)
        let empty = try #require(idle.propose(timestamp: 9, coinbase: .zero, allowEmpty: true))
        #expect(empty.transactions.isEmpty)
        #expect(try Block.decode(empty.encoded) == empty)
        #expect(throws: TransactionError.self) { try Block.decode(Array(block.encoded.dropLast())) }
        #expect(throws: TransactionError.self) { try Block.decode(block.encoded + [0x00]) }
        #expect(throws: TransactionError.self) { try Block.decode([0xc0]) }
    }
}
