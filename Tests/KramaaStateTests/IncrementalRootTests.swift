import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaTrie
import Testing

/// The state root kept up to date block by block must equal the root computed from scratch,
/// and the changes handed to storage must rebuild the same state.
@Suite struct IncrementalRootTests {
    /// The root of the same accounts and storage, built from nothing.
    static func rootFromScratch(_ state: InMemoryState) -> Bytes32 {
        let fresh = InMemoryState()
        for (address, account) in state.accounts {
            fresh.set(address, nonce: account.info.nonce, balance: account.info.balance,
                      code: state.code(hash: account.info.codeHash), storage: account.storage)
        }
        return fresh.stateRoot
    }

    /// Commits one block of random writes: balances, slots, nonces, contract creation over
    /// existing accounts, and accounts emptied so EIP-161 deletes them.
    static func commitRandomBlock(to state: InMemoryState, addresses: [Address], rng: inout SplitMix64) {
        let journaled = JournaledState(backend: state)
        for _ in 0..<(1 + rng.next() % 30) {
            let a = addresses[Int(rng.next() % UInt64(addresses.count))]
            switch rng.next() % 6 {
            case 0: journaled.setBalance(a, UInt256(rng.next() % 100))
            case 1, 2: journaled.setStorage(a, UInt256(rng.next() % 8), UInt256(rng.next() % 3))
            case 3: journaled.setNonce(a, journaled.nonce(a) + 1)
            case 4: journaled.createContractAccount(a)
            default:  // an empty touched account is deleted at the end of the transaction (EIP-161)
                if journaled.code(a).bytes.isEmpty { journaled.setBalance(a, .zero); journaled.setNonce(a, 0) }
            }
            if rng.next() % 4 == 0 { journaled.finishTransaction() }
        }
        journaled.finishTransaction()
        state.commit(journaled)
    }

    /// Blocks with enough changes to one contract's storage, or to accounts, are hashed on
    /// several threads: their roots equal the roots from scratch, block after block, also when
    /// a busy block follows quiet ones (hashes cached on one thread, then on several).
    @Test func busyBlocksHashedOnSeveralThreadsMatchTheRootFromScratch() {
        var rng = SplitMix64(seed: 99)
        let contract = Address(word: UInt256(0xC0DE as UInt64))
        let state = InMemoryState()
        state.set(contract, nonce: 1, balance: .zero, code: [0x00], storage: [:])
        for block in 0..<8 {
            let journaled = JournaledState(backend: state)
            let busy = block % 3 != 0
            for _ in 0..<(busy ? 700 : 20) {
                journaled.setStorage(contract, UInt256(rng.next() % 5_000), UInt256(rng.next() % 4))  // zero deletes
            }
            for i in 0..<(busy ? 400 : 3) { journaled.setBalance(Address(word: UInt256(UInt64(i + 1)) << 40), UInt256(rng.next() % 9 + 1)) }
            journaled.finishTransaction()
            state.commit(journaled)
            #expect(state.stateRoot == Self.rootFromScratch(state), "block \(block)")
            _ = state.takeChanges()
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func incrementalRootMatchesRootFromScratch(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let addresses = (0..<12).map { Address(word: UInt256($0 + 1) << 80) }
        let state = InMemoryState()
        for a in addresses.prefix(6) {
            state.set(a, nonce: 1, balance: UInt256(rng.next() % 1000), code: [0x60, UInt8(rng.next() % 255)],
                      storage: [UInt256(1): UInt256(rng.next() % 5)])
        }
        // Persisted model: what storage would hold after applying every change set.
        var model: [Address: InMemoryState.Account] = [:]
        func persist(_ changes: StateChanges) {
            for (address, info) in changes.accounts {
                if let info { model[address, default: .init(info: info)].info = info } else { model[address] = nil }
            }
            for address in changes.clearedStorage { model[address]?.storage = [:] }
            for (address, slots) in changes.storage {
                for (slot, value) in slots { model[address]?.storage[slot] = value.isZero ? nil : value }
            }
        }
        persist(state.takeChanges())
        for block in 0..<20 {
            Self.commitRandomBlock(to: state, addresses: addresses, rng: &rng)
            if block % 3 != 2 {  // sometimes two commits share one root computation
                #expect(state.stateRoot == Self.rootFromScratch(state), "seed \(seed) block \(block)")
            }
            persist(state.takeChanges())
            #expect(model == state.accounts, "seed \(seed) block \(block): persisted changes differ from the state")
        }
    }

    @Test func proofsVerifyAgainstTheIncrementalRoot() throws {
        let state = InMemoryState()
        let a = Address(word: UInt256(0xabc))
        state.set(a, nonce: 1, balance: UInt256(5), code: [0x00], storage: [UInt256(7): UInt256(9)])
        _ = state.stateRoot
        let journaled = JournaledState(backend: state)
        journaled.setStorage(a, UInt256(8), UInt256(10))
        journaled.finishTransaction()
        state.commit(journaled)
        let root = state.stateRoot
        let proof = state.proof(a, slots: [UInt256(7), UInt256(8), UInt256(99)])
        let accountValue = try KramaaTrie.SecureTrie.verifyProof(root: root, key: a.bytes, proof: proof.accountProof)
        #expect(accountValue != nil)
        for storageProof in proof.storageProofs {
            let value = try KramaaTrie.SecureTrie.verifyProof(root: proof.storageRoot, key: storageProof.slot.bigEndianBytes,
                                                               proof: storageProof.proof)
            #expect((value != nil) == !storageProof.value.isZero)
        }
    }
}

@Suite struct TrieUpdateTests {
    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func rootAfterUpdatesMatchesAFreshTrie(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var trie = SecureTrie()
        var model: [UInt256: [UInt8]] = [:]
        for round in 0..<40 {
            for _ in 0..<(1 + rng.next() % 10) {
                let key = UInt256(rng.next() % 24)
                if rng.next() % 3 == 0 {
                    _ = trie.removeValue(forKey: key.bigEndianBytes)
                    model[key] = nil
                } else {
                    let value = [UInt8(1 + rng.next() % 200)]
                    _ = trie.updateValue(value, forKey: key.bigEndianBytes)
                    model[key] = value
                }
            }
            let fresh = SecureTrie.root(of: model.map { (key: $0.key.bigEndianBytes, value: $0.value) })
            #expect(trie.rootHash == fresh, "seed \(seed) round \(round)")
        }
    }
}
