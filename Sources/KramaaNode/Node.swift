import Foundation
import KramaaChain
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaState
import KramaaStorage

/// One node's chain: the database, the live state, the transaction pool and the block
/// builder, kept consistent under one lock. The API and the block producer call into it.
///
/// Data directory layout: `chain.sqlite` (with its `-wal` and `-shm` files) holds the genesis
/// document, every block, receipt and index, and the current state; `txpool.journal` the
/// transactions the pool accepted, so that an acknowledged one survives a crash (see docs/DATA.md).
public final class Node: @unchecked Sendable {
    /// How many recent blocks' undo records stay in memory (geth keeps 128 states in memory).
    public static let historyDepth = ChainStore.undoDepth
    /// How many recent blocks' states stay readable (their undo records kept on disk); nil: every
    /// block's, an archive node (docs/OPERATIONS.md, "History"). Set before blocks are added.
    public var historyRetention: UInt64? = ChainStore.undoDepth

    public let dataDirectory: URL
    public let genesis: Genesis
    /// The database; reached from outside only through `ChainProvider`.
    let store: ChainStore
    let state = InMemoryState()
    let pool: TxPool
    let poolConfig: TxPoolConfig
    let executor: BlockExecutor
    let lock = NSLock()
    let evmThread = LargeStackThread(name: "kramaa-evm")
    /// Calls and traces (on state snapshots), apart from block building on `evmThread`.
    let callThread = LargeStackThread(name: "kramaa-calls")
    /// The committed head: the block the next one is built on. A validator's runs ahead of the
    /// stored head (``latest``) by one block while that block is written.
    private(set) var head: BlockHeader {
        didSet { committedCell.set(head) }
    }
    /// The stored head under its own small lock, for ``latest``: readers of the head alone
    /// (eth_blockNumber, fee suggestions, REST) never wait while a call or trace holds `lock`.
    let headCell: LockedCell<BlockHeader>
    /// The committed head under its own lock, for ``committedHead``.
    private let committedCell: LockedCell<BlockHeader>
    /// Writes the blocks a validator commits behind consensus (``commit(_:certificate:waitForStorage:transactionHashes:)``).
    let blockWriter = BlockWriter()
    /// Runs right after a block is written and before it becomes ``latest`` (tests look at what
    /// reads see in that moment).
    var afterWrite: (@Sendable (ExecutedBlock) -> Void)?
    /// A validator's committed block while it is written behind, until it is ``latest``: its
    /// transactions have left the pool and are not yet read from the database, so they are
    /// found here, still pending (``pooledTransaction(_:)``). Under its own lock: the writer
    /// clears it, and must never wait for the node's lock (a holder of that may wait for the writer).
    private let writing = LockedCell<ExecutedBlock?>(nil)
    /// The undo record of each recent block (by number), to read the state before it.
    var history: [UInt64: StateUndo] = [:]
    /// The Merkle mountain range of the hashes of blocks 0 to the head: its root goes into the
    /// next block's header on a chain that commits history (``HeaderCommitment``).
    var accumulator = HistoryAccumulator()
    /// The gas a transaction of recent blocks used, on average (a moving average over blocks).
    private var recentGasPerTransaction: UInt64 = 21_000
    /// A block executed on the head but not yet committed (validators; see Node+Validation).
    var candidate: ExecutedBlock?
    /// Whether a block on `head` at `time` would begin with system transactions (cached: the
    /// consensus driver asks every 50 ms).
    private var dueSystemCalls: (state: StateKey, time: UInt64, due: Bool)?
    /// ``hasPendingTransactions`` at a pool version and committed state: the consensus driver
    /// asks on every message it handles.
    private var pendingAnswer: (poolVersion: UInt64, state: StateKey, pending: Bool)?
    /// Which committed state an answer cached above was computed on (the head's number and
    /// state root; without hashing the header).
    private struct StateKey: Equatable {
        let number: UInt64
        let stateRoot: Bytes32
    }
    private var stateKey: StateKey { StateKey(number: head.number, stateRoot: head.stateRoot) }
    /// The undo record of the candidate while it is being stored (its changes are taken).
    var storing: StateUndo?
    let observers = Observers()
    /// Held by whoever changes the live state: building, executing or committing a block, from
    /// the start to the block stored (or queued for writing), the node's lock being let go while
    /// its transactions run and while it is written. So the state is unchanged while a block runs
    /// on it without the lock, and blocks are made one at a time. Taken before the lock.
    let building = NSLock()
    /// Transactions checked ahead by ``prepare(raws:)``, by hash, until `accept` takes them.
    private let prepared = PreparedTransactions()
    let rejections = RejectionCounts()
    /// The pool's journal; set at the end of `init` (its rewrites read the pool).
    private var journal: TransactionJournal!
    /// What the start-up replay of the journal did: transactions back in the pool, and those
    /// dropped (already in a block, or no longer valid on the head state).
    public private(set) var journalReplay = (restored: 0, dropped: 0)

    static func databasePath(_ dir: URL) -> String { dir.appendingPathComponent("chain.sqlite").path }

    /// Creates a chain in `dataDirectory` from a genesis document.
    public static func initialize(dataDirectory: URL, genesisDocument: Data) throws(NodeError) {
        let genesis: Genesis
        do { genesis = try Genesis.parse(genesisDocument) } catch { throw .genesis(error) }
        do {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw .dataDirectory("cannot create \(dataDirectory.path): \(error.localizedDescription)")
        }
        let state = InMemoryState()
        let block = genesis.installing(Node.systemContracts).makeBlock(into: state)
        do {
            let store = try ChainStore(path: databasePath(dataDirectory))
            try store.initialize(genesisDocument: genesisDocument, block: block, changes: state.takeChanges())
        } catch {
            throw .store(error)
        }
    }

    /// The genesis document of the chain in `dataDirectory` (as given to `initialize`).
    public static func genesisDocument(dataDirectory: URL) throws(NodeError) -> Data {
        let document: Data?
        do { document = try ChainStore(path: databasePath(dataDirectory)).genesisDocument() } catch { throw .store(error) }
        guard let document else { throw .store(.notInitialized(path: dataDirectory.path)) }
        return document
    }

    /// Whether `dataDirectory` holds an initialised chain.
    public static func isInitialized(dataDirectory: URL) -> Bool {
        FileManager.default.fileExists(atPath: databasePath(dataDirectory))
    }

    /// Opens the chain in `dataDirectory`: loads the state and checks it against the head.
    public init(dataDirectory: URL, poolConfig: TxPoolConfig? = nil) throws(NodeError) {
        self.dataDirectory = dataDirectory
        let path = Node.databasePath(dataDirectory)
        guard FileManager.default.fileExists(atPath: path) else { throw .store(.notInitialized(path: dataDirectory.path)) }
        do {
            store = try ChainStore(path: path)
            guard let document = try store.genesisDocument(), let number = try store.headNumber(),
                  let head = try store.header(number: number) else { throw StoreError.notInitialized(path: dataDirectory.path) }
            do { genesis = try Genesis.parse(document) } catch { throw NodeError.genesis(error) }
            try store.loadState(into: state, head: head)
            _ = state.takeChanges()
            history = try store.undoRecords(from: number >= Node.historyDepth ? number - Node.historyDepth + 1 : 0)
            headCell = LockedCell(head)
            committedCell = LockedCell(head)
            self.head = head
            for n in (number > 256 ? number - 256 : 0)...number {
                if let h = try store.header(number: n) { state.blockHashes[n] = h.hash }
            }
            // A node that joined from a snapshot has the hashes before it from the snapshot.
            for (n, hash) in try store.ancestorHashes() where n + 256 >= number { state.blockHashes[n] = hash }
            // One indexed read of every block hash (about 40 ms per 100,000 blocks), or of those
            // since the snapshot the node joined from.
            accumulator = try store.historyAccumulator(count: number + 1)
        } catch let error as NodeError {
            throw error
        } catch let error as StoreError {
            throw .store(error)
        } catch {
            throw .dataDirectory("\(error)")
        }
        self.poolConfig = poolConfig ?? TxPoolConfig()
        pool = TxPool(chain: genesis.config, config: self.poolConfig)
        pool.gate = Node.systemContracts.gate
        executor = BlockExecutor(config: genesis.config, systemContracts: Node.systemContracts)
        try openJournal()
    }

    /// Replays `txpool.journal` into the pool (what a block already holds, or the head state no
    /// longer allows, is dropped), then starts a fresh journal holding exactly the pool.
    private func openJournal() throws(NodeError) {
        let path = dataDirectory.appendingPathComponent(TransactionJournal.fileName).path
        let records: [[UInt8]]
        do { records = try TransactionJournal.read(path: path) } catch { throw .journal(error) }
        for raw in records {
            do {
                let tx = try Transaction.decode(raw)
                let signed = try TxPool.check(tx, encodedSize: raw.count, hash: Keccak256.hash(raw), chain: genesis.config, config: poolConfig)
                try pool.add(checked: signed, encodedSize: raw.count, state: state, head: head)
                journalReplay.restored += 1
            } catch {
                journalReplay.dropped += 1
            }
        }
        do {
            journal = try TransactionJournal(path: path, initial: pool.all.map(\.transaction.encoded)) { [weak self] cut in
                guard let self else { return [] }
                return lock.withLock {
                    cut()
                    return pool.all.map(\.transaction.encoded)
                }
            }
        } catch {
            throw .journal(error)
        }
    }

    /// Time spent per stage of a transaction's way (metrics: `kramaa_node_phase_*`).
    public let phases = PhaseClock()

    /// How many times the journal synced (group commit: fewer than the transactions it took).
    public var journalSyncs: Int { journal.syncs }

    /// Stops the journal after writing what it holds (call when the node stops; transactions
    /// submitted later are refused).
    public func close() {
        try? blockWriter.waitUntilIdle()
        journal.close()
    }

    /// The native contracts every node of a Kramaa chain runs (see docs/SYSTEM-CONTRACTS.md).
    public static let systemContracts = SystemContracts.governance.merging(.platform)

    public var chainId: UInt64 { genesis.config.chainId }
    public var config: ChainConfig { genesis.config }

    /// The latest stored block's header.
    public var latest: BlockHeader { headCell.get() }

    /// The header of the latest block committed: ``latest``, or on a validator the block after
    /// it while that block is being written (consensus goes on to the next height meanwhile).
    public var committedHead: BlockHeader { committedCell.get() }

    /// Returns once every committed block is stored; throws when writing one failed (the node
    /// then refuses to commit more: restart it).
    public func waitUntilStored() throws(NodeError) {
        do { try blockWriter.waitUntilIdle() } catch { throw .store(error) }
    }

    // MARK: Transactions

    /// A transaction the pool took: its hash, and the journal ticket to wait on before
    /// acknowledging it (`waitUntilDurable`).
    public struct Accepted: Sendable {
        public let hash: Bytes32
        public let ticket: TransactionJournal.Ticket
    }

    /// Decodes, checks, pools and journals a signed transaction, and returns once it is durable
    /// (in the journal on disk): the hash it returns may be acknowledged (eth_sendRawTransaction).
    public func submit(raw: [UInt8]) async throws(NodeError) -> Bytes32 {
        let accepted = try accept(raw: raw)
        try await waitUntilDurable(accepted.ticket)
        return accepted.hash
    }

    /// Returns once the journal holds the transaction of `ticket` on disk.
    public func waitUntilDurable(_ ticket: TransactionJournal.Ticket) async throws(NodeError) {
        let start = PhaseClock.now
        defer { phases.add(.journal, since: start) }
        do { try await journal.waitUntilDurable(ticket) } catch { throw .journal(error) }
    }

    /// Decodes, checks and pools a signed transaction and queues it for the journal, without
    /// waiting for the disk: for transactions from peers, and for callers that wait for several
    /// at once (a JSON-RPC batch shares one sync). The signature is checked before the node's
    /// lock is taken, so submissions recover senders in parallel.
    public func accept(raw: [UInt8]) throws(NodeError) -> Accepted {
        try accept(raw: raw, hash: Keccak256.hash(raw))
    }

    /// ``accept(raw:)`` for a caller that has hashed `raw` already (`hash` must be its
    /// Keccak-256): gossip hashes each transaction to know whether a peer sent it.
    public func accept(raw: [UInt8], hash: Bytes32) throws(NodeError) -> Accepted {
        do { return try phases.measure(.admission) { () throws(NodeError) in try admit(raw: raw, hash: hash) } } catch {
            rejections.record(error)
            throw error
        }
    }

    /// Transactions the pool refused since start, by reason (the error's case: `nonceTooLow`,
    /// `alreadyKnown`, …), for the operator's metrics.
    public var rejectionCounts: [String: Int] { rejections.counts }

    /// Decodes and checks transactions about to be submitted one by one (a JSON-RPC batch's),
    /// recovering their senders now, without the lock; ``accept(raw:)`` then takes each checked
    /// transaction from here instead of recovering its sender while others wait for the lock.
    /// What fails a check is left for `accept` to refuse with its error. Counted as admission.
    public func prepare(raws: [[UInt8]]) {
        phases.measure(.admission) {
            for raw in raws {
                let hash = Keccak256.hash(raw)
                if let signed = try? checked(raw: raw, hash: hash) { prepared.put(hash, signed, size: raw.count) }
            }
        }
    }

    private func admit(raw: [UInt8], hash: Bytes32) throws(NodeError) -> Accepted {
        let signed: SignedTransaction
        if let known = prepared.take(hash) {
            signed = known
        } else {
            // A transaction gossiped by several peers arrives several times: refuse the copies
            // before paying for the signature recovery.
            if lock.withLock({ pool.contains(hash) }) { throw .pool(.alreadyKnown) }
            signed = try checked(raw: raw, hash: hash)
        }
        lock.lock()
        do { try pool.add(checked: signed, encodedSize: raw.count, state: state, head: head) } catch {
            lock.unlock()
            throw .pool(error)
        }
        // Under the lock that orders pool additions: a journal rewrite's snapshot of the pool
        // either holds this transaction or comes before its record.
        let ticket: TransactionJournal.Ticket
        do { ticket = try journal.append(raw, hash: signed.hash) } catch {
            pool.remove(hash: signed.hash)
            lock.unlock()
            throw .journal(error)
        }
        lock.unlock()
        observers.notify(.newTransaction(signed, raw: raw))
        return Accepted(hash: signed.hash, ticket: ticket)
    }

    /// The checks that need neither the lock nor the state, with the sender's recovery.
    private func checked(raw: [UInt8], hash: Bytes32) throws(NodeError) -> SignedTransaction {
        let tx: Transaction
        do { tx = try Transaction.decode(raw) } catch { throw .decode(error) }
        do {
            return try TxPool.check(tx, encodedSize: raw.count, hash: hash, chain: genesis.config, config: poolConfig)
        } catch {
            throw .pool(error)
        }
    }

    /// Every transaction in the pool (pending and queued, per sender in nonce order), encoded:
    /// what a restarted node sends its peers again.
    public func pooledTransactions() -> [[UInt8]] {
        lock.withLock { pool.all.map(\.transaction.encoded) }
    }

    /// The first `limit` transactions in the pool (per sender in nonce order), with their senders
    /// and hashes as the pool holds them (what a page lists).
    public func pooledTransactions(limit: Int) -> [SignedTransaction] {
        lock.withLock { Array(pool.all.prefix(limit)) }
    }

    /// The nonce an account's next transaction should carry, counting pooled ones.
    public func pendingNonce(_ address: Address) -> UInt64 {
        lock.withLock { pool.nextNonce(address, state: state) }
    }

    /// Whether the pool has transactions that can run now.
    public var hasPendingTransactions: Bool {
        lock.withLock {
            if let cached = pendingAnswer, cached.poolVersion == pool.version, cached.state == stateKey { return cached.pending }
            let pending = pool.hasPending(state: state)
            pendingAnswer = (pool.version, stateKey, pending)
            return pending
        }
    }

    /// Whether a block made at `timestamp` would begin with system transactions (due triggers,
    /// docs/TRIGGERS.md): reason enough to make a block with an empty pool.
    public func hasDueSystemCalls(at timestamp: UInt64) -> Bool {
        lock.withLock {
            // A candidate being built takes the due calls itself; it is asked apart from the cache,
            // so a dropped candidate does not leave "nothing due" cached for the rest of the second.
            guard candidate == nil else { return false }
            if let cached = dueSystemCalls, cached.state == stateKey, cached.time == timestamp { return cached.due }
            let header = executor.childHeader(of: head, timestamp: timestamp, coinbase: .zero)
            let due = !executor.systemTransactions(header, state: state).isEmpty
            dueSystemCalls = (stateKey, timestamp, due)
            return due
        }
    }

    /// Transactions that can run now and those waiting for a nonce gap to close.
    public var poolCounts: (pending: Int, queued: Int) {
        lock.withLock { pool.counts(state: state) }
    }

    /// Whether the pool holds at least a full block's worth of transactions, judged by the gas
    /// recent blocks' transactions used (gas limits alone overstate it, often several times): a
    /// validator then builds its next block at once, while the last one is still being written.
    public var poolFillsBlock: Bool {
        lock.withLock {
            let expected = UInt64(pool.count).multipliedReportingOverflow(by: recentGasPerTransaction)
            return min(pool.gasLimitTotal, expected.overflow ? .max : expected.partialValue) >= head.gasLimit
        }
    }

    /// Encoded bytes of the pool's transactions (bounded by `TxPoolConfig.maxBytes`).
    public var poolBytes: Int { lock.withLock { pool.byteCount } }

    /// A transaction waiting in the pool, or in a committed block still being written (until that
    /// block is ``latest``). Look here before the database: a transaction leaves both only once
    /// its block is read from there, so it is never out of sight in between.
    public func pooledTransaction(_ hash: Bytes32) -> SignedTransaction? {
        lock.withLock {
            if let pooled = pool.transaction(hash) { return pooled }
            guard let block = writing.get(), let index = block.transactionHashes.firstIndex(of: hash) else { return nil }
            return SignedTransaction(block.block.transactions[index], sender: block.senders[index], hash: hash)
        }
    }

    // MARK: Blocks

    /// Builds a block from the pool on the head, stores it durably, then makes it the head.
    /// Returns nil when there is nothing to include and empty blocks are not wanted.
    /// Submissions and reads go on while the block is written (see ``storeCandidate``).
    @discardableResult
    public func produceBlock(timestamp: UInt64, allowEmpty: Bool) throws(NodeError) -> ExecutedBlock? {
        building.lock()  // one at a time: the next waits until this block is stored
        defer { building.unlock() }
        let start = PhaseClock.now
        lock.lock()
        let coinbase = genesis.config.validators.first ?? genesis.coinbase
        guard buildCandidate(timestamp: timestamp, coinbase: coinbase, allowEmpty: allowEmpty) != nil else {
            lock.unlock()
            return nil
        }
        phases.add(.proposal, since: start)
        return try storeCandidate(certificate: nil)
    }

    /// Stores the held candidate durably, then makes it the head and tells the observers.
    /// Call with the lock held; it is released while the database writes (and syncs), so
    /// submissions and reads go on meanwhile, and is not held on return. Only the caller changes
    /// the state in between (one block is stored at a time), and reads exclude the block until
    /// it is stored (`storing`). On failure the state is put back as it was before the block.
    func storeCandidate(certificate: [UInt8]?) throws(NodeError) -> ExecutedBlock {
        try waitUntilStoredHoldingLock()
        let executed = candidate!
        let changes = state.takeChanges()
        storing = changes.undo
        lock.unlock()
        let start = PhaseClock.now
        let failure: StoreError?
        do {
            try store.append(executed, changes: changes, certificate: certificate, keepUndo: historyRetention)
            failure = nil
        } catch {
            failure = error
        }
        phases.add(.storage, since: start)
        if failure == nil { afterWrite?(executed) }
        lock.lock()
        candidate = nil
        storing = nil
        if let failure {
            state.revert(changes.undo)
            lock.unlock()
            throw .store(failure)
        }
        advanceHead(executed, undo: changes.undo)
        headCell.set(head)
        lock.unlock()
        observers.notify(.newBlock(executed))
        return executed
    }

    /// Makes the held candidate the committed head at once and queues its write on
    /// ``blockWriter``; ``latest`` and the observers follow when it is stored. Call with the
    /// lock held; it is not held on return. Reads meanwhile see the stored head's state (the
    /// block's undo record is in `history`, as for any later block), so nothing reads a block
    /// before it is on disk; the next block may be executed on top of it.
    func storeCandidateBehind(certificate: [UInt8]) throws(NodeError) -> ExecutedBlock {
        try waitUntilStoredHoldingLock()  // one block in flight (`commit` waited already, without the lock)
        let executed = candidate!
        let changes = state.takeChanges()
        candidate = nil
        advanceHead(executed, undo: changes.undo)
        writing.set(executed)  // before the lock is let go: the pool no longer holds its transactions
        lock.unlock()
        let store = self.store, retention = historyRetention, phases = self.phases, headCell = self.headCell, observers = self.observers
        let afterWrite = self.afterWrite, writing = self.writing
        blockWriter.enqueue({ () throws(StoreError) in
            let start = PhaseClock.now
            try store.append(executed, changes: changes, certificate: certificate, keepUndo: retention)
            phases.add(.storage, since: start)
            afterWrite?(executed)
            headCell.set(executed.block.header)
            writing.set(nil)  // after the head moved: its transactions are read from the database now
        }, then: {
            observers.notify(.newBlock(executed))
        })
        return executed
    }

    /// ``waitUntilStored()`` for a caller holding the lock, which it releases when throwing.
    /// Waiting with the lock held cannot deadlock: the writer's announcement, which may take the
    /// lock, runs once the writer is idle.
    private func waitUntilStoredHoldingLock() throws(NodeError) {
        do { try waitUntilStored() } catch {
            lock.unlock()
            throw error
        }
    }

    /// Makes a stored block the head. Call with the lock held.
    func advanceHead(_ executed: ExecutedBlock, undo: StateUndo) {
        head = executed.block.header
        accumulator.append(executed.block.hash)
        let included = UInt64(executed.block.transactions.count)
        if included > 0 { recentGasPerTransaction = (3 * recentGasPerTransaction + head.gasUsed / included) / 4 }
        history[head.number] = undo
        if head.number >= Node.historyDepth { history[head.number - Node.historyDepth] = nil }
        state.blockHashes[head.number] = executed.block.hash
        state.blockHashes[head.number &- 257] = nil
        pool.prune(state: state)
    }

    // MARK: Events

    /// Calls `body` for every new block and every transaction the pool accepts, on the thread
    /// that caused it, after the node's lock is released. Keep it short: it delays that thread.
    /// Returns a token for `removeObserver`.
    @discardableResult
    public func addObserver(_ body: @escaping @Sendable (NodeEvent) -> Void) -> Int {
        observers.add(body)
    }

    public func removeObserver(_ token: Int) {
        observers.remove(token)
    }
}

/// What happened on a node, for subscriptions, filters and the block producer.
public enum NodeEvent: Sendable {
    /// A block became the head (already stored durably).
    case newBlock(ExecutedBlock)
    /// The pool accepted a transaction; `raw` is its wire form as submitted (canonical: the
    /// bytes its hash covers), for those that pass it on without encoding it again.
    case newTransaction(SignedTransaction, raw: [UInt8])
}

/// Refusals of the pool by reason, under their own lock.
final class RejectionCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var byReason: [String: Int] = [:]

    func record(_ error: NodeError) {
        let reason: String
        switch error {
        case .pool(let e): reason = Self.label(e.description)
        case .decode: reason = "undecodable"
        case .journal: reason = "journal"
        default: reason = Self.label(error.description)
        }
        lock.withLock { byReason[reason, default: 0] += 1 }
    }

    var counts: [String: Int] { lock.withLock { byReason } }

    /// A reason as a metric label: its words before any detail (`nonce too low: …` →
    /// `nonce_too_low`), lower case; words holding digits (numbers, addresses, hashes) dropped,
    /// so the label set stays small; at most 48 characters.
    static func label(_ description: String) -> String {
        let head = description.prefix { $0 != ":" && $0 != "(" && $0 != "," }
        let words = head.lowercased().split(separator: " ").map { $0.trimmingCharacters(in: .punctuationCharacters) }
            .filter { !$0.isEmpty && $0.allSatisfy(\.isLetter) }
        let label = String(words.joined(separator: "_").prefix(48))
        return label.isEmpty ? "other" : label
    }
}

/// The observer list, under its own lock so notifying never waits for the node.
///
/// Notifying (once per accepted transaction) allocates nothing: it takes the array as it is
/// (copy on write: adding or removing while a notification runs makes a new one).
final class Observers: @unchecked Sendable {
    private typealias Body = @Sendable (NodeEvent) -> Void
    private let lock = NSLock()
    private var next = 0
    private var bodies: [(token: Int, body: Body)] = []

    func add(_ body: @escaping @Sendable (NodeEvent) -> Void) -> Int {
        lock.withLock {
            next += 1
            bodies.append((next, body))
            return next
        }
    }

    func remove(_ token: Int) { lock.withLock { bodies.removeAll { $0.token == token } } }

    func notify(_ event: NodeEvent) {
        let current = lock.withLock { bodies }
        for observer in current { observer.body(event) }
    }
}

/// A value behind its own small lock, for what is read without the node's lock (see `Node.latest`).
final class LockedCell<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func set(_ value: Value) { lock.withLock { self.value = value } }
    func get() -> Value { lock.withLock { value } }
}
