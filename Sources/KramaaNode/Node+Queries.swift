import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaStorage

/// Reads of the chain and its state at a block, and simulated calls (eth_call,
/// eth_estimateGas): everything the API asks that does not change the chain.
extension Node {
    /// Runs `body` with the state as of block `number` and that block's header, under the
    /// node's lock. The head's state is always there; earlier ones for `historyDepth` blocks.
    public func withState<T>(at number: UInt64, _ body: (StateBackend, BlockHeader) -> T) throws(ChainReadError) -> T {
        guard let header = try header(number: number) else { throw .unknownBlock(number) }
        lock.lock()
        defer { lock.unlock() }
        return body(try view(at: number, snapshot: false), header)
    }

    /// The state as of block `number` and its header, as a snapshot that stays valid after the
    /// lock is released (taking it costs nothing): calls and traces run on it outside the lock.
    func stateSnapshot(at number: UInt64) throws(NodeError) -> (StateBackend, BlockHeader) {
        do throws(ChainReadError) {
            guard let header = try header(number: number) else { throw ChainReadError.unknownBlock(number) }
            lock.lock()
            defer { lock.unlock() }
            return (try view(at: number, snapshot: true), header)
        } catch {
            throw .read(error)
        }
    }

    /// Runs `body` with the state after block `number`, which may be the committed head still
    /// being written (``committedHead``): for consensus, which decides the next height meanwhile.
    /// Later numbers read the committed head's state.
    func withCommittedState<T>(at number: UInt64, _ body: (StateBackend) -> T) throws(ChainReadError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(try view(at: min(number, head.number), snapshot: false))
    }

    /// The state of block `number`: the live state (or a snapshot of it) seen through the undo
    /// records of the blocks after it. Call with the lock held.
    private func view(at number: UInt64, snapshot: Bool) throws(ChainReadError) -> StateBackend {
        var undos = try undos(after: number)
        // A validator's executed but uncommitted block is not part of any stored state.
        if candidate != nil { undos.append(storing ?? state.uncommittedUndo) }
        if undos.isEmpty { return snapshot ? state.snapshot() : state }
        return HistoricalState(live: state.snapshot(), undos: undos)
    }

    /// The undo records of blocks `number + 1 … head`, oldest first; throws naming the oldest
    /// kept block when `number`'s state is no longer kept. Call with the lock held.
    private func undos(after number: UInt64) throws(ChainReadError) -> [StateUndo] {
        guard number < head.number else { return [] }
        // Older than what memory holds: the undo records kept on disk (an archive node keeps them all).
        let inMemory = history.keys.min() ?? head.number + 1
        let stored = number + 1 < inMemory ? ((try? store.undoRecords(from: number + 1, through: inMemory - 1)) ?? [:]) : [:]
        return try ((number + 1)...head.number).map { n throws(ChainReadError) in
            guard let undo = history[n] ?? stored[n] else {
                let oldest = ((try? store.oldestUndo()) ?? nil).map { $0 - 1 } ?? head.number
                throw .historicalStateUnavailable(number, oldest: oldest, kept: historyRetention.map(Int.init))
            }
            return undo
        }
    }

    /// Reads the live state under the node's lock.
    public func withState<T>(_ body: (InMemoryState, BlockHeader) -> T) -> T {
        lock.withLock { body(state, head) }
    }

    /// An EIP-1186 proof of `address` and `slots` against the state root of block `number`
    /// (default the head; an earlier one while its state is kept: the live tries copied and the
    /// later blocks' undo records reverted, and those of a block being stored). Refused for the
    /// moment a validator holds an executed block not yet committed (the tries include it).
    public func proof(_ address: Address, slots: [UInt256], at number: UInt64? = nil) throws(NodeError) -> (AccountProof, BlockHeader) {
        lock.lock()
        defer { lock.unlock() }
        guard candidate == nil || storing != nil else { throw .busy("a block is being validated on top of the head; retry") }
        let stored = latest.number  // a validator's committed head may still be being written
        let number = min(number ?? stored, stored)
        if number == head.number && storing == nil { return (state.proof(address, slots: slots), head) }
        do throws(ChainReadError) {
            let undos = try undos(after: number) + (storing.map { [$0] } ?? [])
            guard let header = try header(number: number) else { throw ChainReadError.unknownBlock(number) }
            let past = state.copy()
            for undo in undos.reversed() { past.revert(undo) }
            guard past.stateRoot == header.stateRoot else {
                throw ChainReadError.storage("the state rebuilt for block \(number) does not match its header's state root: report this (a bug)")
            }
            return (past.proof(address, slots: slots), header)
        } catch {
            throw .read(error)
        }
    }

    /// Runs `tx` (unsigned; its gas limit is the gas given) from `sender` on the state of block
    /// `number` with `overrides`, as eth_call does, and discards every change.
    /// With `pendingTimestamp`, as the next block would run it: on the state of `number`, in a
    /// child header of time `pendingTimestamp` (the `pending` tag: a deadline passed by now
    /// counts, as it will in the block that includes the transaction).
    public func call(_ tx: Transaction, from sender: Address, at number: UInt64, pendingTimestamp: UInt64? = nil,
                     overrides: [Address: AccountOverride] = [:]) throws(NodeError) -> TransactionReceiptData {
        try simulate(at: number, pendingTimestamp: pendingTimestamp, overrides: overrides) { run in run(tx, sender, nil) }.get()
    }

    /// `call` with `tracer` watching every frame and instruction (debug_traceCall).
    public func trace(call tx: Transaction, from sender: Address, at number: UInt64,
                      overrides: [Address: AccountOverride] = [:], tracer: EVMTracer) throws(NodeError) -> TransactionReceiptData {
        nonisolated(unsafe) let tracer = tracer
        return try simulate(at: number, overrides: overrides) { run in run(tx, sender, tracer) }.get()
    }

    /// Re-executes an included transaction on the state before it (its block's parent state
    /// plus the transactions before it in the block) with `tracer` attached
    /// (debug_traceTransaction). Nil when no block holds the transaction.
    public func trace(transaction hash: Bytes32, tracer: EVMTracer) throws(NodeError) -> TransactionReceiptData? {
        let found: (Block, StoredReceipts, Int)?
        do {
            guard let (number, index) = try transactionLocation(hash), let (block, stored) = try executedBlock(number: number) else { return nil }
            found = (block, stored, index)
        } catch {
            throw .read(error)
        }
        guard let (block, stored, index) = found, block.number > 0 else { return nil }
        let executor = self.executor
        nonisolated(unsafe) let tracer = tracer
        nonisolated(unsafe) let view = try stateSnapshot(at: block.number - 1).0
        let result = callThread.run { () -> Result<TransactionReceiptData, NodeError> in
            let journal = JournaledState(backend: view, codeCache: executor.codeCache)
            let transition = executor.transition(block.header)
            for i in 0..<index {
                _ = try? transition.apply(block.transactions[i], sender: stored.senders[i], to: journal)
            }
            return Result { () throws(InvalidTransactionError) in
                try transition.apply(block.transactions[index], sender: stored.senders[index], to: journal, tracer: tracer)
            }.mapError { NodeError.invalidCall($0) }
        }
        return try result.get()
    }

    /// The least gas limit with which `tx` succeeds on the state of block `number`, found as
    /// geth finds it: one run at `tx.gasLimit` (the cap), an optimistic guess from its gas
    /// used, then a binary search to within 1.5 %.
    public func estimateGas(_ tx: Transaction, from sender: Address, at number: UInt64, pendingTimestamp: UInt64? = nil,
                            overrides: [Address: AccountOverride] = [:]) throws(NodeError) -> UInt64 {
        try simulate(at: number, pendingTimestamp: pendingTimestamp, overrides: overrides) { run -> Result<UInt64, NodeError> in
            let cap = tx.gasLimit
            var probe = tx
            func succeeds(_ gas: UInt64) -> Bool {
                probe.gasLimit = gas
                if case .success(let r) = run(probe, sender, nil), r.success { return true }
                return false
            }
            let first: TransactionReceiptData
            switch run(tx, sender, nil) {
            case .failure(let error): return .failure(error)
            case .success(let result): first = result
            }
            switch first.status {
            case .success: break
            case .revert: return .failure(.reverted(output: first.output))
            case .failure(let error):
                return .failure(error == .outOfGas ? .gasRequiredExceedsAllowance(cap) : .executionFailed(error))
            }
            // Execution that used no gas (a transfer to an account without code) needs no more.
            if first.gasUsed == tx.intrinsicGas && first.refunded == 0 { return .success(first.gasUsed) }
            var lo = first.gasUsed - 1, hi = cap
            let optimistic = (first.gasUsed + first.refunded + 2300) * 64 / 63
            if optimistic < hi {
                if succeeds(optimistic) { hi = optimistic } else { lo = optimistic }
            }
            while lo + 1 < hi {
                if Double(hi - lo) / Double(hi) < 0.015 { break }
                var mid = lo + (hi - lo) / 2
                if mid > lo * 2 { mid = lo * 2 }  // the answer is usually near the gas used
                if succeeds(mid) { hi = mid } else { lo = mid }
            }
            return .success(hi)
        }.get()
    }

    /// Runs `body` on the calls thread, on a snapshot of the state of block `number` with
    /// `overrides` (outside the node's lock: block production and other reads go on), with a
    /// function that executes one message on a fresh journal.
    private func simulate<T: Sendable>(
        at number: UInt64, pendingTimestamp: UInt64? = nil, overrides: [Address: AccountOverride],
        _ body: @escaping (_ run: (Transaction, Address, EVMTracer?) -> Result<TransactionReceiptData, NodeError>) -> Result<T, NodeError>
    ) throws(NodeError) -> Result<T, NodeError> {
        let executor = self.executor
        let (view, stateHeader) = try stateSnapshot(at: number)
        let header = pendingTimestamp.map { executor.childHeader(of: stateHeader, timestamp: $0, coinbase: stateHeader.coinbase) } ?? stateHeader
        let backend: StateBackend = overrides.isEmpty ? view : OverriddenState(base: view, overrides: overrides)
        let transition = executor.transition(header)
        nonisolated(unsafe) let unsafeBackend = backend
        return callThread.run {
            body { tx, sender, tracer in
                let journal = JournaledState(backend: unsafeBackend, codeCache: executor.codeCache)
                return Result { () throws(InvalidTransactionError) in
                    try transition.apply(tx, sender: sender, to: journal, mode: .call, tracer: tracer)
                }.mapError { NodeError.invalidCall($0) }
            }
        }
    }
}

extension Node {
    /// The least tip the pool accepts.
    public var poolMinimumTip: UInt256 { poolConfig.minimumTip }
}
