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
}
