import KramaaPrimitives
import KramaaState
import Testing
@testable import KramaaEVM

@Suite struct JournaledStateTests {
    @Test func originalValueIsTheValueEachTransactionStartedWith() {
        let a = Address(word: UInt256(0xa))
        let backend = InMemoryState()
        backend.set(a, nonce: 1, balance: .zero, code: [0x00], storage: [UInt256(1): UInt256(7)])
        let state = JournaledState(backend: backend)
        // Transaction 1: writes slot 0 twice and slot 1 once, then a reverted write.
        #expect(state.originalStorage(a, .zero) == .zero)
        state.setStorage(a, .zero, UInt256(1))
        state.setStorage(a, .zero, UInt256(2))
        state.setStorage(a, .one, UInt256(8))
        let snapshot = state.snapshot()
        state.setStorage(a, .one, UInt256(9))
        state.revert(to: snapshot)
        #expect(state.originalStorage(a, .zero) == .zero)
        #expect(state.originalStorage(a, .one) == UInt256(7))
        state.finishTransaction()
        // Transaction 2: the originals are what transaction 1 left.
        #expect(state.originalStorage(a, .zero) == UInt256(2))
        #expect(state.originalStorage(a, .one) == UInt256(8))
        state.setStorage(a, .zero, .zero)
        #expect(state.originalStorage(a, .zero) == UInt256(2))
        state.finishTransaction()
        #expect(state.originalStorage(a, .zero) == .zero)
        #expect(state.storage(a, .one) == UInt256(8))
    }

    @Test func anEmptyTouchedAccountIsDeletedOnlyAtTheEndOfItsTransaction() {
        let a = Address(word: UInt256(0xb))
        let state = JournaledState(backend: InMemoryState())
        state.addBalance(a, .zero)
        #expect(state.exists(a))
        state.finishTransaction()
        #expect(!state.exists(a))
        state.addBalance(a, .one)
        state.finishTransaction()
        #expect(state.exists(a) && state.balance(a) == .one)
    }
}
