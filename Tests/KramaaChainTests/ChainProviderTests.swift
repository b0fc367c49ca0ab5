import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaTestSupport
import Testing

/// `ChainProvider` over a chain in memory: reads, logs, state at a block, and waits for the
/// head that wake on new blocks or on a clock the test moves.
@Suite struct ChainProviderTests {
    @Test func theInMemoryChainAnswersReadsAsTheNodeDoes() throws {
        let chain = ContractChain(contracts: .none)
        let recipient = Address(word: UInt256(0xaa))
        let block = chain.mine([(0, recipient, [])])
        let provider = chain.provider
        let tx = block.block.transactions[0].hash
        #expect(provider.latest.number == 1)
        #expect(try provider.header(number: 2) == nil)
        #expect(try provider.number(ofHash: block.block.hash) == 1)
        #expect(try provider.transactionLocation(tx)?.number == 1)
        #expect(try provider.includedReceipt(tx)?.receipt.success == true)
        #expect(try provider.withState(at: 0) { s, _ in s.account(chain.addresses[0])?.nonce } == 0)
        #expect(try provider.withState(at: 1) { s, _ in s.account(chain.addresses[0])?.nonce } == 1)
        #expect(throws: ChainReadError.unknownBlock(5)) { try provider.withState(at: 5) { _, _ in () } }
        #expect(try provider.logs(LogFilter(fromBlock: 0, toBlock: 10), limit: 10).isEmpty)
    }

    @Test func waitingForTheHeadWakesOnANewBlock() async throws {
        let chain = ContractChain(contracts: .none)
        let clock = ManualTime()
        let provider = chain.provider
        async let waited = provider.waitForHead(after: 0, timeout: .seconds(30), clock: clock)
        // Let the waiter register, then store a block: it wakes with no time passing.
        while clock.pendingTimers == 0 { await Task.yield() }
        chain.mine()
        let head = await waited
        #expect(head.number == 1)
        #expect(clock.uptime == .zero)
    }

    @Test func waitingForTheHeadEndsWhenTheClockPassesTheTimeout() async throws {
        let chain = ContractChain(contracts: .none)
        let clock = ManualTime()
        async let waited = chain.provider.waitForHead(after: 0, timeout: .seconds(30), clock: clock)
        while clock.pendingTimers == 0 { await Task.yield() }
        clock.advance(by: .seconds(29))
        clock.advance(by: .seconds(1))
        let head = await waited
        #expect(head.number == 0, "timed out on the test's clock, not the machine's")
    }

    @Test func aHeadAlreadyPastReturnsAtOnce() async {
        let chain = ContractChain(contracts: .none)
        chain.mine()
        let head = await chain.provider.waitForHead(after: 0, timeout: .seconds(30), clock: ManualTime())
        #expect(head.number == 1)
    }
}
