import KramaaEVM
import KramaaPrimitives
import KramaaTrie

/// A complete world state held in memory: accounts, storage and code, with the Merkle
/// Patricia tries kept up to date incrementally, so a block's state root costs what the block
/// changed, not the size of the state. It backs the EVM's `JournaledState`, takes its changes
/// back with `commit(_:)`, answers EIP-1186 proofs, and hands what changed since the last call
/// to `takeChanges()` so storage can persist it.
public final class InMemoryState: StateBackend {
    public struct Account: Equatable, Sendable {
        public var info: AccountInfo
        public var storage: [UInt256: UInt256]

        public init(info: AccountInfo, storage: [UInt256: UInt256] = [:]) {
            self.info = info
            self.storage = storage
        }
    }

    public private(set) var accounts: [Address: Account] = [:]
    private var codes: [Bytes32: [UInt8]] = [AccountInfo.emptyCodeHash: []]
    /// The code by hash, for snapshots.
    var codeTable: [Bytes32: [UInt8]] { codes }
    /// Block hashes BLOCKHASH may return.
    public var blockHashes: [UInt64: Bytes32] = [:]

    private var accountTrie = SecureTrie()
    private var storageTries: [Address: SecureTrie] = [:]
    /// Accounts and slots changed since the tries were last brought up to date.
    private var dirtySlots: [Address: Set<UInt256>] = [:]
    private var dirtyAccounts: Set<Address> = []
    private var rebuildStorage: Set<Address> = []
    private var pending = StateChanges()

    public init() {}

    /// Records what `address` held before its first change since the last `takeChanges()`, so
    /// the state before a block can be viewed (`HistoricalState`).
    private func rememberAccount(_ address: Address) {
        if pending.undo.accounts[address] == nil { pending.undo.accounts[address] = .some(accounts[address]?.info) }
    }

    private func rememberStorage(_ address: Address) {
        guard pending.undo.clearedStorage[address] == nil else { return }
        var prior = accounts[address]?.storage ?? [:]
        for (slot, old) in pending.undo.storage.removeValue(forKey: address) ?? [:] { prior[slot] = old.isZero ? nil : old }
        pending.undo.clearedStorage[address] = prior
    }

    private func rememberSlot(_ address: Address, _ slot: UInt256, _ old: UInt256) {
        guard pending.undo.clearedStorage[address] == nil else { return }
        if pending.undo.storage[address]?[slot] == nil { pending.undo.storage[address, default: [:]][slot] = old }
    }

    /// Sets an account, its code and storage (genesis allocations, test pre-states, loading).
    public func set(_ address: Address, nonce: UInt64, balance: UInt256, code: [UInt8], storage: [UInt256: UInt256]) {
        let hash = Keccak256.hash(code)
        if codes[hash] == nil { codes[hash] = code; pending.code[hash] = code }
        let kept = storage.filter { !$0.value.isZero }
        rememberAccount(address)
        rememberStorage(address)
        accounts[address] = Account(info: AccountInfo(nonce: nonce, balance: balance, codeHash: hash), storage: kept)
        dirtyAccounts.insert(address)
        rebuildStorage.insert(address)
        pending.accounts[address] = accounts[address]!.info
        pending.clearedStorage.insert(address)
        pending.storage[address] = kept
    }

    // MARK: StateBackend

    public func account(_ address: Address) -> AccountInfo? { accounts[address]?.info }

    public func storage(_ address: Address, slot: UInt256) -> UInt256 { accounts[address]?.storage[slot] ?? .zero }

    public func code(hash: Bytes32) -> [UInt8] { codes[hash] ?? [] }

    public func blockHash(_ number: UInt64) -> Bytes32? { blockHashes[number] }

    public func hasStorage(_ address: Address) -> Bool { !(accounts[address]?.storage.isEmpty ?? true) }

    // MARK: Commit

    /// Writes every change a `JournaledState` holds (after `finishTransaction`) into this state.
    public func commit(_ journaled: JournaledState) {
        for (address, cached) in journaled.accounts {
            guard cached.exists else {
                if accounts[address] != nil {
                    rememberAccount(address)
                    rememberStorage(address)
                    accounts[address] = nil
                    dirtyAccounts.insert(address)
                    rebuildStorage.insert(address)
                    pending.accounts[address] = .some(nil)
                    pending.clearedStorage.insert(address)
                    pending.storage[address] = nil
                }
                continue
            }
            rememberAccount(address)
            var account: Account
            let existed = accounts[address] != nil
            if cached.storageCleared {
                rememberStorage(address)
                account = Account(info: cached.info)
                rebuildStorage.insert(address)
                pending.clearedStorage.insert(address)
                pending.storage[address] = [:]
            } else {
                // Taken out, not copied: while the table also held it, the first slot written
                // below would copy the account's whole storage (every block, for a contract
                // with millions of slots).
                account = accounts.removeValue(forKey: address) ?? Account(info: cached.info)
            }
            let infoChanged = account.info != cached.info || !existed
            account.info = cached.info
            var slots = dirtySlots[address] ?? []
            for (slot, entry) in cached.storage where account.storage[slot] ?? .zero != entry.value {
                let value = entry.value
                rememberSlot(address, slot, account.storage[slot] ?? .zero)
                account.storage[slot] = value.isZero ? nil : value
                slots.insert(slot)
                pending.storage[address, default: [:]][slot] = value
            }
            if !slots.isEmpty { dirtySlots[address] = slots }
            if let code = cached.code, !code.bytes.isEmpty, codes[code.hash] == nil {
                codes[code.hash] = code.bytes
                pending.code[code.hash] = code.bytes
            }
            if infoChanged || !slots.isEmpty || cached.storageCleared {
                dirtyAccounts.insert(address)
                pending.accounts[address] = account.info
            }
            accounts[address] = account
        }
    }

    /// What the changes since the last `takeChanges()` overwrote: a view through it reads the
    /// state without them (a validator's executed but uncommitted block).
    public var uncommittedUndo: StateUndo { pending.undo }

    /// Undoes every change since the last `takeChanges()` (a block that failed validation, or
    /// a proposal that was not committed): accounts, storage and tries return to what they
    /// were; code stays known (it is keyed by hash and harmless).
    public func discardChanges() {
        revert(pending.undo)
        pending = StateChanges()
    }

    /// Applies an undo record: the accounts and slots it names get their earlier values
    /// back. Used to undo a block whose changes were taken but could not be stored.
    public func revert(_ undo: StateUndo) {
        for (address, previous) in undo.accounts {
            dirtyAccounts.insert(address)
            guard let previous else {
                accounts[address] = nil
                rebuildStorage.insert(address)
                continue
            }
            var account = accounts[address] ?? Account(info: previous)
            account.info = previous
            accounts[address] = account
        }
        for (address, storage) in undo.clearedStorage where accounts[address] != nil {
            accounts[address]!.storage = storage
            rebuildStorage.insert(address)
            dirtyAccounts.insert(address)
        }
        for (address, slots) in undo.storage where accounts[address] != nil {
            for (slot, value) in slots {
                accounts[address]!.storage[slot] = value.isZero ? nil : value
                dirtySlots[address, default: []].insert(slot)
            }
            dirtyAccounts.insert(address)
        }
    }

    /// What changed since the last call (for persistence), and forgets it.
    public func takeChanges() -> StateChanges {
        defer { pending = StateChanges() }
        return pending
    }

    // MARK: Roots and proofs

    /// The root of the secure account trie: each account is rlp([nonce, balance, storageRoot, codeHash]).
    public var stateRoot: Bytes32 {
        for address in dirtyAccounts {
            guard let account = accounts[address] else {
                storageTries[address] = nil
                _ = accountTrie.removeValue(forKey: address.bytes)
                continue
            }
            let root = updateStorageTrie(address, account)
            _ = accountTrie.updateValue(InMemoryState.encode(account.info, storageRoot: root), forKey: address.bytes)
        }
        let changedAccounts = dirtyAccounts.count
        dirtyAccounts.removeAll(keepingCapacity: true)
        dirtySlots.removeAll(keepingCapacity: true)
        rebuildStorage.removeAll(keepingCapacity: true)
        return changedAccounts >= Self.parallelHashingChanges ? accountTrie.rootHashInParallel : accountTrie.rootHash
    }

    /// Changes to one trie since its last root from which it is hashed on several threads
    /// (below, the threads' start-up costs more than they save).
    static let parallelHashingChanges = 256

    private func updateStorageTrie(_ address: Address, _ account: Account) -> Bytes32 {
        var trie: SecureTrie
        let changes: Int
        if rebuildStorage.contains(address) || storageTries[address] == nil {
            trie = SecureTrie()
            changes = account.storage.count
            for (slot, value) in account.storage { _ = trie.updateValue(InMemoryState.encode(value), forKey: slot.bigEndianBytes) }
        } else {
            trie = storageTries.removeValue(forKey: address)!
            changes = dirtySlots[address]?.count ?? 0
            for slot in dirtySlots[address] ?? [] {
                if let value = account.storage[slot] {
                    _ = trie.updateValue(InMemoryState.encode(value), forKey: slot.bigEndianBytes)
                } else {
                    _ = trie.removeValue(forKey: slot.bigEndianBytes)
                }
            }
        }
        let root = changes >= Self.parallelHashingChanges ? trie.rootHashInParallel : trie.rootHash
        storageTries[address] = trie
        return root
    }

    /// A copy sharing structure (copy-on-write) with this state, tries up to date: reverting
    /// undo records on it gives an earlier state with its tries (proofs at kept blocks).
    public func copy() -> InMemoryState {
        _ = stateRoot
        let copy = InMemoryState()
        copy.accounts = accounts
        copy.codes = codes
        copy.blockHashes = blockHashes
        copy.accountTrie = accountTrie
        copy.storageTries = storageTries
        return copy
    }

    /// An EIP-1186 proof of `address` and `slots` against `stateRoot`.
    public func proof(_ address: Address, slots: [UInt256]) -> AccountProof {
        _ = stateRoot
        var storageTrie = storageTries[address] ?? SecureTrie()
        let storageProofs = slots.map { slot in
            StorageProof(slot: slot, value: storage(address, slot: slot), proof: storageTrie.proof(forKey: slot.bigEndianBytes))
        }
        return AccountProof(
            address: address, info: accounts[address]?.info ?? AccountInfo(),
            storageRoot: accounts[address] == nil ? MerklePatriciaTrie.emptyRootHash : storageTrie.rootHash,
            accountProof: accountTrie.proof(forKey: address.bytes), storageProofs: storageProofs)
    }

    static func encode(_ value: UInt256) -> [UInt8] {
        var w = RLPWriter()
        w.append(uint: value)
        return w.bytes
    }

    static func encode(_ info: AccountInfo, storageRoot: Bytes32) -> [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            w.append(uint: info.nonce)
            w.append(uint: info.balance)
            w.append(bytes32: storageRoot)
            w.append(bytes32: info.codeHash)
        }
        return w.bytes
    }
}

/// What a state changed since it was last asked: the unit storage persists after a block.
public struct StateChanges: Sendable {
    /// New account contents; `.some(nil)` for a deleted account.
    public var accounts: [Address: AccountInfo?] = [:]
    /// Accounts whose every slot was dropped before `storage` applies.
    public var clearedStorage: Set<Address> = []
    /// Slot values written (zero means deleted).
    public var storage: [Address: [UInt256: UInt256]] = [:]
    /// Code by hash, first seen.
    public var code: [Bytes32: [UInt8]] = [:]
    /// What the changed accounts and slots held before (to view the earlier state).
    public var undo = StateUndo()

    public init() {}
    public var isEmpty: Bool { accounts.isEmpty && storage.isEmpty && code.isEmpty && clearedStorage.isEmpty }
}

/// The values a set of changes overwrote: applied newest first over the live state, undos
/// give the state as it was before those changes (see `HistoricalState`).
public struct StateUndo: Sendable {
    /// Each changed account's previous contents; `.some(nil)` when it did not exist.
    public var accounts: [Address: AccountInfo?] = [:]
    /// The previous values of changed slots (zero when unset), for accounts not in `clearedStorage`.
    public var storage: [Address: [UInt256: UInt256]] = [:]
    /// The whole previous storage of accounts whose storage was dropped or replaced.
    public var clearedStorage: [Address: [UInt256: UInt256]] = [:]

    public init() {}
}

/// An account and some of its slots with Merkle proofs (EIP-1186, `eth_getProof`).
public struct AccountProof: Sendable {
    public var address: Address
    public var info: AccountInfo
    public var storageRoot: Bytes32
    public var accountProof: [[UInt8]]
    public var storageProofs: [StorageProof]
}

public struct StorageProof: Sendable {
    public var slot: UInt256
    public var value: UInt256
    public var proof: [[UInt8]]
}

extension Log {
    /// keccak256(rlp(logs)), each log rlp([address, [topics], data]): the state tests' `logs` hash.
    public static func hash(_ logs: [Log]) -> Bytes32 {
        var w = RLPWriter()
        w.appendList { w in
            for log in logs { log.appendRLP(to: &w) }
        }
        return Keccak256.hash(w.bytes)
    }
}
