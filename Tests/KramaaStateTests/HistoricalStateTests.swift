import KramaaEVM
import KramaaPrimitives
import KramaaState
import Testing

/// A view through the undo records of later blocks must read exactly what the state held
/// after the viewed block.
@Suite struct HistoricalStateTests {
    @Test(arguments: [11, 12, 13, 14, 15, 16] as [UInt64])
    func viewOfEveryEarlierBlockReadsWhatTheStateThenHeld(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let addresses = (0..<10).map { Address(word: UInt256($0 + 1) << 90) }
        let state = InMemoryState()
        for a in addresses.prefix(5) {
            state.set(a, nonce: 1, balance: UInt256(rng.next() % 1000), code: [], storage: [UInt256(1): UInt256(4), UInt256(3): UInt256(2)])
        }
        _ = state.takeChanges()
        var snapshots = [state.accounts]
        var undos: [StateUndo] = []
        for _ in 0..<15 {
            // Sometimes two commits (two journals) make one block, as with a re-executed block.
            IncrementalRootTests.commitRandomBlock(to: state, addresses: addresses, rng: &rng)
            if rng.next() % 3 == 0 { IncrementalRootTests.commitRandomBlock(to: state, addresses: addresses, rng: &rng) }
            undos.append(state.takeChanges().undo)
            snapshots.append(state.accounts)
        }
        for block in snapshots.indices {
            let view = HistoricalState(live: state, undos: Array(undos[block...]))
            let then = snapshots[block]
            for a in addresses {
                #expect(view.account(a) == then[a]?.info, "seed \(seed) block \(block) account \(a)")
                for slot in 0..<8 {
                    #expect(view.storage(a, slot: UInt256(slot)) == then[a]?.storage[UInt256(slot)] ?? .zero,
                            "seed \(seed) block \(block) \(a) slot \(slot)")
                }
                #expect(view.storageSnapshot(a) == (then[a]?.storage ?? [:]), "seed \(seed) block \(block) \(a) storage")
            }
        }
    }

    /// A copy of the live state with later undo records reverted has the earlier block's root
    /// (proofs at kept blocks, eth_getProof); the live state is left as it was.
    @Test(arguments: [31, 32, 33] as [UInt64])
    func aCopyRevertedToAnEarlierBlockHasItsRoot(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let addresses = (0..<10).map { Address(word: UInt256($0 + 1) << 90) }
        let state = InMemoryState()
        for a in addresses.prefix(5) { state.set(a, nonce: 1, balance: UInt256(rng.next() % 1000), code: [], storage: [UInt256(1): UInt256(4)]) }
        _ = state.takeChanges()
        var roots = [state.stateRoot]
        var undos: [StateUndo] = []
        for _ in 0..<10 {
            IncrementalRootTests.commitRandomBlock(to: state, addresses: addresses, rng: &rng)
            undos.append(state.takeChanges().undo)
            roots.append(state.stateRoot)
        }
        for block in roots.indices {
            let past = state.copy()
            for undo in undos[block...].reversed() { past.revert(undo) }
            #expect(past.stateRoot == roots[block], "seed \(seed) block \(block)")
            #expect(state.stateRoot == roots.last!, "seed \(seed): the live state changed")
        }
    }

    @Test func setOverAnAccountIsUndoneWholly() {
        let state = InMemoryState()
        let a = Address(word: UInt256(7))
        state.set(a, nonce: 1, balance: UInt256(5), code: [], storage: [UInt256(1): UInt256(9)])
        _ = state.takeChanges()
        state.set(a, nonce: 2, balance: UInt256(6), code: [0x00], storage: [UInt256(2): UInt256(3)])
        let view = HistoricalState(live: state, undos: [state.takeChanges().undo])
        #expect(view.account(a)?.nonce == 1)
        #expect(view.storage(a, slot: UInt256(1)) == UInt256(9))
        #expect(view.storage(a, slot: UInt256(2)) == .zero)
        #expect(view.hasStorage(a))
    }
}

@Suite struct OverriddenStateTests {
    @Test func overridesReplaceOnlyWhatTheyName() {
        let base = InMemoryState()
        let a = Address(word: UInt256(1)), b = Address(word: UInt256(2))
        base.set(a, nonce: 3, balance: UInt256(10), code: [0x00], storage: [UInt256(1): UInt256(5), UInt256(2): UInt256(6)])
        base.set(b, nonce: 1, balance: UInt256(1), code: [], storage: [UInt256(1): UInt256(7)])
        let code: [UInt8] = [0x60, 0x01, 0x00]
        let view = OverriddenState(base: base, overrides: [
            a: AccountOverride(balance: UInt256(99), stateDiff: [UInt256(2): UInt256(8)]),
            b: AccountOverride(nonce: 9, code: code, state: [UInt256(4): UInt256(4)]),
        ])
        #expect(view.account(a) == AccountInfo(nonce: 3, balance: UInt256(99), codeHash: Keccak256.hash([0x00] as [UInt8])))
        #expect(view.storage(a, slot: UInt256(1)) == UInt256(5))
        #expect(view.storage(a, slot: UInt256(2)) == UInt256(8))
        #expect(view.account(b)?.nonce == 9)
        #expect(view.code(hash: view.account(b)!.codeHash) == code)
        #expect(view.storage(b, slot: UInt256(1)) == .zero, "a full state override hides the old slots")
        #expect(view.storage(b, slot: UInt256(4)) == UInt256(4))
        #expect(base.account(a)?.balance == UInt256(10) && base.storage(b, slot: UInt256(1)) == UInt256(7), "the base is untouched")
        let fresh = Address(word: UInt256(3))
        let funded = OverriddenState(base: base, overrides: [fresh: AccountOverride(balance: UInt256(5))])
        #expect(funded.account(fresh) == AccountInfo(balance: UInt256(5)), "an override creates a missing account")
    }
}

@Suite struct DiscardChangesTests {
    @Test(arguments: [21, 22, 23, 24] as [UInt64])
    func discardingABlockRestoresAccountsStorageAndRoot(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let addresses = (0..<10).map { Address(word: UInt256($0 + 1) << 70) }
        let state = InMemoryState()
        for a in addresses.prefix(5) {
            state.set(a, nonce: 1, balance: UInt256(rng.next() % 1000), code: [], storage: [UInt256(1): UInt256(4)])
        }
        for _ in 0..<3 { IncrementalRootTests.commitRandomBlock(to: state, addresses: addresses, rng: &rng) }
        _ = state.takeChanges()
        let accounts = state.accounts, root = state.stateRoot
        for _ in 0..<5 {
            IncrementalRootTests.commitRandomBlock(to: state, addresses: addresses, rng: &rng)
            if rng.next() % 2 == 0 { _ = state.stateRoot }  // sometimes the tries saw the block
            state.discardChanges()
            #expect(state.accounts == accounts, "seed \(seed)")
            #expect(state.stateRoot == root, "seed \(seed)")
            #expect(state.takeChanges().isEmpty)
        }
    }
}
