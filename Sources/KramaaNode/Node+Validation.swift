import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaStorage

/// The validator's side of the node: proposing a block without storing it, executing a
/// block another validator proposed, committing the block consensus finalised (with its
/// certificate), and importing finalised blocks while catching up. At most one executed,
/// uncommitted block is held at a time (the current height's candidate).
extension Node {
    /// Builds a block on the head from the pool and executes it, holding the result until
    /// `commit`; nil when the pool has nothing and `allowEmpty` is false.
    public func propose(timestamp: UInt64, coinbase: Address, allowEmpty: Bool) -> Block? {
        phases.measure(.proposal) {
            building.withLock { lock.withLock { buildCandidate(timestamp: timestamp, coinbase: coinbase, allowEmpty: allowEmpty)?.block } }
        }
    }

    /// Builds a block on the head from the pool and executes it on the live state as the held
    /// candidate (replacing any earlier one). Nil, leaving the state as it was, when nothing
    /// could be included and `allowEmpty` is false. Call holding `building` and the lock; the
    /// lock is let go while the transactions run (``runUnlocked(_:)``) and held again on return.
    func buildCandidate(timestamp: UInt64, coinbase: Address, allowEmpty: Bool) -> ExecutedBlock? {
        discardCandidate()
        let header = executor.childHeader(of: head, timestamp: timestamp, coinbase: coinbase)
        let candidates = pool.pending(state: state, baseFee: header.baseFeePerGas)
        let system = executor.systemTransactions(header, state: state)  // due triggers: worth a block on their own
        if candidates.isEmpty && !allowEmpty && system.isEmpty { return nil }
        let state = self.state, executor = self.executor, root = accumulator.root
        let draft = runUnlocked { executor.draft(header, candidates: candidates, state: state, system: system) }
        for rejected in draft.body.rejected { pool.remove(hash: rejected.hash) }
        if draft.body.block.transactions.isEmpty && !allowEmpty { return nil }
        let executed = evmThread.run { executor.seal(draft, historyRoot: root) }
        candidate = executed
        return executed
    }

    /// Runs `body` on the EVM thread without the node's lock (held on entry and again on return),
    /// for a block's transactions, which only read the live state: submissions, pool reads and
    /// state reads go on meanwhile. Nothing writes the state meanwhile: only a holder of
    /// `building` does (building, executing or storing a block), and the caller holds it.
    private func runUnlocked<T>(_ body: @escaping () -> T) -> T {
        lock.unlock()
        defer { lock.lock() }
        return evmThread.run(body)
    }

    /// Executes a block proposed by another validator on the head and checks every root; on
    /// success holds the result for `commit`. Senders come from the pool when known (each
    /// recovered once), else are recovered here. `transactionHashes`, when the caller has them
    /// (``Block/decodeHashingTransactions(_:)``), spares hashing each transaction again; they
    /// must be those of `block.transactions`, in order (senders are looked up by them).
    public func validate(_ block: Block, transactionHashes: [Bytes32]? = nil) throws(NodeError) {
        let start = PhaseClock.now
        defer { phases.add(.validation, since: start) }
        building.lock()
        defer { building.unlock() }
        lock.lock()
        defer { lock.unlock() }
        try executeCandidate(block, hashes: transactionHashes)
    }

    /// Stores `block` (finalised by consensus, with its certificate) and makes it the head.
    /// Reuses the held candidate when it is this block; otherwise executes it first
    /// (`transactionHashes` as for ``validate(_:transactionHashes:)``).
    ///
    /// With `waitForStorage` false the block becomes the committed head (``committedHead``) at
    /// once and is written behind, while the caller goes on to the next height; ``latest``, the
    /// reads and the observers follow when it is stored. The next commit waits for it, and so
    /// must anything that tells others this block is final and durable here (a validator's
    /// consensus state before it signs at the next height: ``waitUntilStored()``).
    @discardableResult
    public func commit(_ block: Block, certificate: [UInt8], waitForStorage: Bool = true,
                       transactionHashes: [Bytes32]? = nil) throws(NodeError) -> ExecutedBlock {
        building.lock()
        defer { building.unlock() }
        if !waitForStorage { try waitUntilStored() }  // without the lock: readers go on meanwhile
        lock.lock()
        if candidate?.block.hash != block.hash {
            do { try executeCandidate(block, hashes: transactionHashes) } catch {
                lock.unlock()
                throw error
            }
        }
        return waitForStorage ? try storeCandidate(certificate: certificate) : try storeCandidateBehind(certificate: certificate)
    }

    /// The hash of the block executed and held for commit, if any.
    public var candidateHash: Bytes32? { lock.withLock { candidate?.block.hash } }

    /// Executes `block` on the head as the held candidate; `hashes` are its transactions'
    /// hashes when known. Call with the lock held.
    private func executeCandidate(_ block: Block, hashes known: [Bytes32]?) throws(NodeError) {
        discardCandidate()
        var senders: [Address] = []
        senders.reserveCapacity(block.transactions.count)
        precondition(known == nil || known!.count == block.transactions.count, "a block's transaction hashes, one per transaction")
        let hashes = known ?? block.transactions.map(\.hash)
        for (i, tx) in block.transactions.enumerated() {
            if let known = pool.transaction(hashes[i]) {
                senders.append(known.sender)
                continue
            }
            do { senders.append(try tx.validatedSender(chainId: chainId)) } catch {
                throw .invalidBlock(.invalidTransaction(index: i, .transaction(error)))
            }
        }
        let state = self.state, executor = self.executor, parent = head, root = accumulator.root
        let drafted = runUnlocked { () -> Result<BlockDraft, BlockValidationError> in
            Result { () throws(BlockValidationError) in try executor.draft(importing: block, senders: senders, hashes: hashes, parent: parent, state: state) }
        }
        let result = drafted.flatMap { draft in
            evmThread.run { Result { () throws(BlockValidationError) in try executor.seal(draft, of: block, historyRoot: root) } }
        }
        switch result {
        case .success(let executed):
            candidate = executed
        case .failure(let error):
            state.discardChanges()
            throw .invalidBlock(error)
        }
    }

    /// Drops the held candidate and its state changes. Call with the lock held.
    func discardCandidate() {
        if candidate != nil {
            state.discardChanges()
            candidate = nil
        }
    }
}
