import KramaaPrimitives

/// One account as the EVM sees it during a block: cached from the backend, changed in place.
public final class CachedAccount {
    public var nonce: UInt64
    public var balance: UInt256
    public var code: AnalyzedCode?
    public var codeHash: Bytes32
    /// Slots read, written or warmed in this block: current values, and for EIP-2929 the
    /// transaction that warmed each, so SLOAD finds value and warmth in one lookup.
    public var storage: [UInt256: CachedSlot] = [:]
    /// Values at the start of the transaction (EIP-2200's "original value") of the slots this
    /// transaction wrote; any other slot's original value is its current one.
    var originalStorage: [UInt256: UInt256] = [:]
    /// False for an account that does not exist (a cached miss, or deleted).
    public var exists: Bool
    /// Created in the current transaction (EIP-6780 lets SELFDESTRUCT delete only these).
    var createdInTransaction = false
    /// Storage of the backend is void: the account was (re)created or deleted in this block.
    public var storageCleared = false
    var selfDestructed = false
    /// The `JournaledState.transactionNumber` in which it was last touched (EIP-161): touched
    /// while that number is current, like a warm slot.
    var touchedIn = 0

    init(info: AccountInfo?) {
        nonce = info?.nonce ?? 0
        balance = info?.balance ?? .zero
        codeHash = info?.codeHash ?? AccountInfo.emptyCodeHash
        exists = info != nil
    }

    /// EIP-161: no code, zero nonce, zero balance.
    public var isEmpty: Bool { nonce == 0 && balance.isZero && codeHash == AccountInfo.emptyCodeHash }

    public var info: AccountInfo { AccountInfo(nonce: nonce, balance: balance, codeHash: codeHash) }
}

/// A cached storage slot: its current value and the transaction (`JournaledState`'s
/// `transactionNumber`) in which it was last warmed; warm while that number is current, so
/// ending a transaction cools every slot without visiting them.
public struct CachedSlot {
    public var value: UInt256
    var warmIn: Int

    @inline(__always)
    init(value: UInt256, warmIn: Int = 0) {
        self.value = value
        self.warmIn = warmIn
    }
}

/// A change that `revert(to:)` undoes.
enum JournalEntry {
    case created(Address, previous: (exists: Bool, cleared: Bool, created: Bool, nonce: UInt64, balance: UInt256,
                                     codeHash: Bytes32, code: AnalyzedCode?, storage: [UInt256: CachedSlot]))
    case balance(Address, UInt256)
    case nonce(Address, UInt64)
    case storage(Address, UInt256, UInt256)
    case code(Address, Bytes32, AnalyzedCode?)
    /// The last account appended to `JournaledState.touched`.
    case touched
    case warmAddress(Address)
    case warmSlot(Address, UInt256)
    case transient(Address, UInt256, UInt256)
    case refund(Int64)
    case log
    case selfDestruct(Address, Bool)
}

/// A slot of one account, for transient storage.
struct SlotKey: Hashable {
    var address: Address
    var slot: UInt256
}

/// The EVM's view of the world during a block: accounts cached from a `StateBackend`, every
/// change journaled so a failed call frame reverts exactly its own effects, plus the
/// per-transaction sets of EIP-2929 (warm accounts and slots), EIP-1153 (transient storage),
/// logs and the refund counter.
public final class JournaledState {
    public let backend: StateBackend
    public private(set) var accounts: [Address: CachedAccount] = [:]
    var journal: [JournalEntry] = []
    var warmAddresses: Set<Address> = []
    /// Numbers the transactions of this state; a slot is warm when its `warmIn` equals it.
    var transactionNumber = 1
    var transientStorage: [SlotKey: UInt256] = [:]
    /// Accounts touched in this transaction, in order: a flag on the account and a list, not a
    /// set of addresses (a table per state cost more than the rest of a small call's bookkeeping).
    var touched: [CachedAccount] = []
    /// Accounts whose `originalStorage` this transaction filled (cleared when it ends).
    var storageWritten: Set<Address> = []
    public internal(set) var logs: [Log] = []
    public internal(set) var refund: Int64 = 0
    /// Analysed code by hash; share one cache across transactions so analysis happens once.
    public let codeCache: CodeCache

    /// Room reserved up front in the tables every transaction fills: a plain call already
    /// reaches two accounts, warms both and journals several changes, and tables growing from
    /// empty reallocate and rehash on the way (about 2,000 of swap_math's 52,000 instructions).
    static let initialCapacity = 8

    public init(backend: StateBackend, codeCache: CodeCache = CodeCache()) {
        self.backend = backend
        self.codeCache = codeCache
        // `init(minimumCapacity:)` rather than `reserveCapacity`, which runs unspecialised in
        // the standard library and costs about as much as the resizes it saves.
        let n = JournaledState.initialCapacity
        accounts = Dictionary(minimumCapacity: n)
        warmAddresses = Set(minimumCapacity: n)
        journal.reserveCapacity(2 * n)
    }

    // MARK: Accounts

    @inline(__always)
    public func account(_ address: Address) -> CachedAccount {
        if let a = accounts[address] { return a }
        let a = CachedAccount(info: backend.account(address))
        accounts[address] = a
        return a
    }

    public func exists(_ address: Address) -> Bool { account(address).exists }

    /// EIP-161 "dead": absent, or present and empty.
    public func isDead(_ address: Address) -> Bool {
        let a = account(address)
        return !a.exists || a.isEmpty
    }

    public func balance(_ address: Address) -> UInt256 { account(address).balance }

    public func nonce(_ address: Address) -> UInt64 { account(address).nonce }

    public func code(_ address: Address) -> AnalyzedCode { code(of: account(address)) }

    /// The analysed code of an account already looked up.
    func code(of a: CachedAccount) -> AnalyzedCode {
        if let c = a.code { return c }
        if a.codeHash == AccountInfo.emptyCodeHash { a.code = .empty; return .empty }
        let c = codeCache.code(hash: a.codeHash) { backend.code(hash: a.codeHash) }
        a.code = c
        return c
    }

    public func codeHash(_ address: Address) -> Bytes32 { account(address).codeHash }

    /// Marks an account touched (EIP-161: touched empty accounts are deleted at the end).
    public func touch(_ address: Address) {
        let a = account(address)
        if !a.exists {
            journal.append(.created(address, previous: (false, a.storageCleared, a.createdInTransaction, a.nonce, a.balance, a.codeHash, a.code, a.storage)))
            a.exists = true
        }
        markTouched(a)
    }

    /// Adds `a` to the touched accounts unless it is there already.
    @inline(__always)
    func markTouched(_ a: CachedAccount) {
        guard a.touchedIn != transactionNumber else { return }
        a.touchedIn = transactionNumber
        touched.append(a)
        journal.append(.touched)
    }

    public func setBalance(_ address: Address, _ value: UInt256) {
        let a = account(address)
        touch(address)
        journal.append(.balance(address, a.balance))
        a.balance = value
    }

    public func addBalance(_ address: Address, _ value: UInt256) {
        setBalance(address, balance(address) &+ value)
    }

    /// Moves `value` from one account to another; false (and nothing changed) if `from` lacks it.
    /// Zero moves nothing but still touches both accounts (EIP-161), as a zero transfer would;
    /// most calls carry no value, so they skip the balance reads and journal entries.
    public func transfer(from: Address, to: Address, value: UInt256) -> Bool {
        if value.isZero {
            touch(from)
            touch(to)
            return true
        }
        let fromBalance = balance(from)
        if fromBalance < value { return false }
        setBalance(from, fromBalance &- value)
        addBalance(to, value)
        return true
    }

    public func setNonce(_ address: Address, _ value: UInt64) {
        let a = account(address)
        touch(address)
        journal.append(.nonce(address, a.nonce))
        a.nonce = value
    }

    public func setCode(_ address: Address, _ bytes: [UInt8]) {
        let a = account(address)
        journal.append(.code(address, a.codeHash, a.code))
        let c = codeCache.code(hash: Keccak256.hash(bytes)) { bytes }  // a factory's copies share one analysis
        a.code = c
        a.codeHash = c.hash
    }

    /// Creates (or re-creates over a pre-existing balance) a contract account: storage cleared,
    /// nonce 1 (EIP-161), balance kept.
    public func createContractAccount(_ address: Address) {
        let a = account(address)
        journal.append(.created(address, previous: (a.exists, a.storageCleared, a.createdInTransaction, a.nonce, a.balance, a.codeHash, a.code, a.storage)))
        a.exists = true
        a.storageCleared = true
        a.createdInTransaction = true
        // Storage is gone, but a slot warmed earlier in the transaction stays warm (EIP-2929).
        let now = transactionNumber
        a.storage = a.storage.filter { $0.value.warmIn == now }.mapValues { CachedSlot(value: .zero, warmIn: $0.warmIn) }
        a.nonce = 1
        a.codeHash = AccountInfo.emptyCodeHash
        a.code = .empty
        markTouched(a)
    }

    /// True when creating a contract at `address` collides with what is there: a nonce or code
    /// (EIP-684), or storage (EIP-7610). An account created or cleared in this block has no
    /// backend storage, only what it wrote since.
    public func hasCollision(_ address: Address) -> Bool {
        let a = account(address)
        if a.nonce != 0 || a.codeHash != AccountInfo.emptyCodeHash { return true }
        if a.storageCleared { return a.storage.values.contains { !$0.value.isZero } }
        return backend.hasStorage(address)
    }

    // MARK: Storage

    /// Runs `body` on the slot's cache entry, reading it from the backend first if absent:
    /// one hash lookup for the read and any change.
    @inline(__always)
    func withSlot<R>(_ a: CachedAccount, _ address: Address, _ slot: UInt256, _ body: (inout CachedSlot) -> R) -> R {
        body(&a.storage[slot, default: CachedSlot(value: a.storageCleared ? .zero : backend.storage(address, slot: slot))])
    }

    /// SLOAD's access to a slot of `a` (the account at `address`): its value, and whether it was
    /// cold (EIP-2929); it is warm afterwards.
    @inline(__always)
    func load(_ a: CachedAccount, _ address: Address, _ slot: UInt256) -> (value: UInt256, wasCold: Bool) {
        let now = transactionNumber
        let (value, wasCold) = withSlot(a, address, slot) { entry in
            let wasCold = entry.warmIn != now
            entry.warmIn = now
            return (entry.value, wasCold)
        }
        if wasCold { journal.append(.warmSlot(address, slot)) }
        return (value, wasCold)
    }

    public func storage(_ address: Address, _ slot: UInt256) -> UInt256 {
        withSlot(account(address), address, slot) { $0.value }
    }

    /// The slot's value at the start of the transaction.
    public func originalStorage(_ address: Address, _ slot: UInt256) -> UInt256 {
        let a = account(address)
        return a.originalStorage[slot] ?? withSlot(a, address, slot) { $0.value }
    }

    /// The slot's value at the start of the transaction, given its current one.
    @inline(__always)
    func originalStorage(_ a: CachedAccount, _ slot: UInt256, current: UInt256) -> UInt256 {
        a.originalStorage[slot] ?? current
    }

    public func setStorage(_ address: Address, _ slot: UInt256, _ value: UInt256) {
        setStorage(account(address), address, slot, value)
    }

    /// Writes a slot of `a` (the account at `address`), journaled.
    func setStorage(_ a: CachedAccount, _ address: Address, _ slot: UInt256, _ value: UInt256) {
        let old = withSlot(a, address, slot) { entry in
            let old = entry.value
            entry.value = value
            return old
        }
        // The first write of a transaction sees the value the transaction started with.
        if a.originalStorage[slot] == nil {
            a.originalStorage[slot] = old
            storageWritten.insert(address)
        }
        journal.append(.storage(address, slot, old))
    }

    public func transientStorage(_ address: Address, _ slot: UInt256) -> UInt256 {
        transientStorage[SlotKey(address: address, slot: slot)] ?? .zero
    }

    public func setTransientStorage(_ address: Address, _ slot: UInt256, _ value: UInt256) {
        let key = SlotKey(address: address, slot: slot)
        journal.append(.transient(address, slot, transientStorage[key] ?? .zero))
        transientStorage[key] = value
    }

    // MARK: Access lists (EIP-2929)

    /// Warms an address; returns true if it was cold.
    @discardableResult
    public func warm(_ address: Address) -> Bool {
        guard warmAddresses.insert(address).inserted else { return false }
        journal.append(.warmAddress(address))
        return true
    }

    /// Warms a slot; returns true if it was cold.
    @discardableResult
    public func warm(_ address: Address, slot: UInt256) -> Bool {
        load(account(address), address, slot).wasCold
    }

    // MARK: Logs, refunds, self-destruct

    public func addLog(_ log: Log) {
        journal.append(.log)
        logs.append(log)
    }

    public func addRefund(_ delta: Int64) {
        journal.append(.refund(refund))
        refund += delta
    }

    /// EIP-6780 as the execution specs apply it: the balance moves to the beneficiary; an account
    /// created in this transaction is then left with no balance, even when it names itself (the
    /// ether is burnt at once, not at the end of the transaction: a later call in the same
    /// transaction sees 0, and a second SELFDESTRUCT moves only what it received since), and is
    /// deleted at the end of the transaction. Another account keeps what it sends itself.
    public func selfDestruct(_ address: Address, beneficiary: Address) {
        let a = account(address)
        let amount = a.balance
        setBalance(address, .zero)
        addBalance(beneficiary, amount)  // touches the beneficiary even for zero; to itself it nets out
        if a.createdInTransaction {
            setBalance(address, .zero)
            journal.append(.selfDestruct(address, a.selfDestructed))
            a.selfDestructed = true
        }
    }

    // MARK: Snapshots

    /// A point to return to with `revert(to:)`.
    public func snapshot() -> Int { journal.count }

    /// Undoes every change made after `snapshot`.
    public func revert(to snapshot: Int) {
        while journal.count > snapshot {
            switch journal.removeLast() {
            case .created(let address, let p):
                let a = accounts[address]!
                a.exists = p.exists
                a.storageCleared = p.cleared
                a.createdInTransaction = p.created
                a.nonce = p.nonce
                a.balance = p.balance
                a.codeHash = p.codeHash
                a.code = p.code
                a.storage = p.storage
            case .balance(let address, let old): accounts[address]!.balance = old
            case .nonce(let address, let old): accounts[address]!.nonce = old
            case .storage(let address, let slot, let old): accounts[address]!.storage[slot, default: CachedSlot(value: old)].value = old
            case .code(let address, let hash, let code):
                accounts[address]!.codeHash = hash
                accounts[address]!.code = code
            case .touched: touched.removeLast().touchedIn = 0
            case .warmAddress(let address): warmAddresses.remove(address)
            case .warmSlot(let address, let slot): accounts[address]!.storage[slot]?.warmIn = 0
            case .transient(let address, let slot, let old): transientStorage[SlotKey(address: address, slot: slot)] = old
            case .refund(let old): refund = old
            case .log: logs.removeLast()
            case .selfDestruct(let address, let old): accounts[address]!.selfDestructed = old
            }
        }
    }

    // MARK: Transaction boundaries

    /// Ends a transaction: deletes self-destructed accounts and touched empty ones (EIP-161),
    /// makes current storage the new original, and clears the per-transaction sets. Only the
    /// accounts this transaction touched or wrote are visited (a created or self-destructed
    /// account is always touched), so the cost does not grow with the block.
    /// Returns the logs the transaction emitted.
    @discardableResult
    public func finishTransaction() -> [Log] {
        for address in storageWritten { accounts[address]!.originalStorage.removeAll() }
        for a in touched {
            if a.selfDestructed || (a.exists && a.isEmpty) {
                a.exists = false
                a.storageCleared = true
                a.storage = [:]
                a.nonce = 0
                a.balance = .zero
                a.codeHash = AccountInfo.emptyCodeHash
                a.code = .empty
                a.selfDestructed = false
            }
            a.createdInTransaction = false
        }
        storageWritten.removeAll(keepingCapacity: true)
        let emitted = logs
        journal.removeAll(keepingCapacity: true)
        warmAddresses.removeAll(keepingCapacity: true)
        transactionNumber += 1
        transientStorage.removeAll(keepingCapacity: true)
        touched.removeAll(keepingCapacity: true)
        logs.removeAll(keepingCapacity: true)
        refund = 0
        return emitted
    }
}

/// A log record emitted by LOG0...LOG4.
public struct Log: Equatable, Sendable {
    public var address: Address
    public var topics: [Bytes32]
    public var data: [UInt8]

    public init(address: Address, topics: [Bytes32], data: [UInt8]) {
        self.address = address
        self.topics = topics
        self.data = data
    }
}

extension Log {
    /// Appends `rlp([address, [topics], data])`: the log as receipts and the logs hash encode it.
    public func appendRLP(to w: inout RLPWriter) {
        w.appendList { w in
            w.append(address: address)
            w.appendList { w in for topic in topics { w.append(bytes32: topic) } }
            w.append(bytes: data)
        }
    }
}
