import KramaaChain
import KramaaEVM
import KramaaPrimitives
import Testing

/// A receipt's bloom hashes each distinct address and topic of its logs once; the bits must be
/// those of every log added on its own.
@Suite struct BloomTests {
    static func randomLogs(_ rng: inout SplitMix64) -> [Log] {
        // Few distinct values, so logs repeat emitters and topics as a batch of events does.
        let addresses = (0..<3).map { _ in Address(word: UInt256(rng.next())) }
        let topics = (0..<6).map { _ in Bytes32(UInt256(rng.next())) }
        return (0..<Int(rng.next() % 12)).map { _ in
            Log(address: addresses[Int(rng.next() % 3)], topics: (0..<Int(rng.next() % 5)).map { _ in topics[Int(rng.next() % 6)] }, data: [])
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func aBloomOfManyLogsHasTheBitsOfEachLogAlone(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<50 {
            let logs = Self.randomLogs(&rng)
            var expected = Bloom()
            for log in logs { expected.formUnion(Bloom(logs: [log])) }
            let bloom = Bloom(logs: logs)
            #expect(bloom == expected)
            for log in logs {
                #expect(bloom.mayContain(log.address.bytes))
                for topic in log.topics { #expect(bloom.mayContain(topic.bytes)) }
            }
        }
    }

    @Test func anEmptyListGivesTheEmptyBloomAndOneLogSetsThreeBitsPerValue() {
        #expect(Bloom(logs: [Log]()) == Bloom.empty)
        let log = Log(address: Address(word: UInt256(7 as UInt64)), topics: [], data: [])
        let bits = Bloom(logs: [log]).bytes.reduce(0) { $0 + $1.nonzeroBitCount }
        #expect((1...3).contains(bits))
    }

    /// A block's receipts share one memo: each receipt's bloom must be what it is alone, whatever
    /// the receipts before it left in the memo (and past the memo's capacity).
    @Test(arguments: [11, 12, 13] as [UInt64])
    func bloomsMadeWithABlocksMemoEqualBloomsMadeAlone(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var memo = Bloom.Memo()
        for round in 0..<400 {
            var logs = Self.randomLogs(&rng)
            // Later rounds bring ever-new values too, so the memo fills and then stops growing.
            if round % 2 == 1 {
                logs.append(Log(address: Address(word: UInt256(rng.next())), topics: (0..<4).map { _ in Bytes32(UInt256(rng.next())) }, data: []))
            }
            #expect(Bloom(logs: logs, memo: &memo) == Bloom(logs: logs))
        }
    }

    /// A stored receipt keeps the bloom it was stored with (decoding does not hash its logs again).
    @Test func aDecodedReceiptHasItsStoredBloom() throws {
        let log = Log(address: Address(word: UInt256(9 as UInt64)), topics: [Bytes32(UInt256(3 as UInt64))], data: [1, 2])
        let receipt = Receipt(type: .dynamicFee, success: true, cumulativeGasUsed: 21_000, logs: [log])
        #expect(try Receipt.decode(receipt.encoded) == receipt)
        // A bloom that is not its logs' (a foreign encoder's) comes back as it was stored.
        var foreign = receipt
        foreign.bloom = Bloom.empty
        #expect(try Receipt.decode(foreign.encoded).bloom == Bloom.empty)
    }
}
