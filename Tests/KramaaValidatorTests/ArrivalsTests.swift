import KramaaChain
import KramaaPrimitives
import Testing

@testable import KramaaValidator

/// Transactions the pool took reach the consensus thread in one hand-off per run, in order.
@Suite struct ArrivalsTests {
    @Test func onlyTheFirstOfARunAsksForAWakeAndTakeGivesAllInOrder() throws {
        let arrivals = Arrivals<SignedTransaction>()
        let transactions = try (0..<5 as Range<UInt64>).map { SignedTransaction(try Transaction.decode(BlockGatherTests.transfer($0)), sender: .zero) }
        #expect(arrivals.add(transactions[0]), "the first wakes the thread")
        for signed in transactions[1...] { #expect(!arrivals.add(signed), "the rest join that wake") }
        #expect(arrivals.take().map(\.hash) == transactions.map(\.hash))
        #expect(arrivals.take().isEmpty)
        #expect(arrivals.add(transactions[0]), "after a take, the next run wakes it again")
    }

    /// Added from many threads at once, every transaction is taken exactly once.
    @Test func concurrentAddsAreTakenExactlyOnce() async throws {
        let arrivals = Arrivals<SignedTransaction>()
        let signed = SignedTransaction(try Transaction.decode(BlockGatherTests.transfer(0)), sender: .zero)
        let wakes = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { (0..<500).reduce(0) { n, _ in n + (arrivals.add(signed) ? 1 : 0) } } }
            return await group.reduce(0, +)
        }
        #expect(wakes == 1, "nothing was taken meanwhile: one wake")
        #expect(arrivals.take().count == 4_000)
    }
}
