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

    // MARK: EIP-6780

    static let contract = Address(word: UInt256(0xc0))
    static let other = Address(word: UInt256(0xbe))

    /// A state where `contract` was created in the current transaction holding `balance`.
    static func created(balance: UInt64) -> JournaledState {
        let state = JournaledState(backend: InMemoryState())
        state.createContractAccount(contract)
        state.addBalance(contract, UInt256(balance))
        return state
    }

    @Test func anAccountCreatedInTheTransactionThatNamesItselfBurnsItsBalanceAtOnce() {
        let state = Self.created(balance: 100)
        state.selfDestruct(Self.contract, beneficiary: Self.contract)
        #expect(state.balance(Self.contract) == .zero, "a later call in the same transaction sees the ether gone")
        state.finishTransaction()
        #expect(!state.exists(Self.contract))
    }

    @Test func aSecondSelfDestructMovesOnlyWhatArrivedSinceTheFirst() {
        let state = Self.created(balance: 100)
        state.selfDestruct(Self.contract, beneficiary: Self.contract)  // burns 100
        state.addBalance(Self.contract, UInt256(7))                    // a later call sends it 7
        state.selfDestruct(Self.contract, beneficiary: Self.other)
        #expect(state.balance(Self.other) == UInt256(7) && state.balance(Self.contract) == .zero)
        state.addBalance(Self.contract, UInt256(5))                    // ether sent after: lost with the account
        state.finishTransaction()
        #expect(!state.exists(Self.contract) && state.balance(Self.other) == UInt256(7))
    }

    @Test func selfDestructingTwiceToAnotherAccountPaysItEachTime() {
        let state = Self.created(balance: 100)
        state.selfDestruct(Self.contract, beneficiary: Self.other)
        state.addBalance(Self.contract, UInt256(3))
        state.selfDestruct(Self.contract, beneficiary: Self.other)
        #expect(state.balance(Self.other) == UInt256(103))
        state.finishTransaction()
        #expect(!state.exists(Self.contract) && state.balance(Self.other) == UInt256(103))
    }

    @Test func anOlderAccountNamingItselfKeepsItsBalanceAndItsCode() {
        let backend = InMemoryState()
        backend.set(Self.contract, nonce: 1, balance: UInt256(100), code: [0x00], storage: [.one: .one])
        let state = JournaledState(backend: backend)
        state.selfDestruct(Self.contract, beneficiary: Self.contract)
        #expect(state.balance(Self.contract) == UInt256(100))
        state.selfDestruct(Self.contract, beneficiary: Self.other)
        #expect(state.balance(Self.contract) == .zero && state.balance(Self.other) == UInt256(100))
        state.finishTransaction()
        #expect(state.exists(Self.contract) && state.storage(Self.contract, .one) == .one, "not deleted: created in an earlier transaction")
    }

    @Test func aRevertedSelfDestructLeavesTheAccountAsItWas() {
        let state = Self.created(balance: 100)
        let snapshot = state.snapshot()
        state.selfDestruct(Self.contract, beneficiary: Self.contract)
        state.revert(to: snapshot)
        #expect(state.balance(Self.contract) == UInt256(100))
        state.finishTransaction()
        #expect(state.exists(Self.contract) && state.balance(Self.contract) == UInt256(100))
    }
}
