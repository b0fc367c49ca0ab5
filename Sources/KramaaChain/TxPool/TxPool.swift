import KramaaEVM
import KramaaPrimitives

/// Limits and prices the pool enforces.
public struct TxPoolConfig: Sendable {
    /// Most transactions held, pending and queued together.
    public var capacity = 20_000
    /// Most encoded bytes held, pending and queued together: the count alone would let 20,000
    /// transactions of 128 KiB hold 2.5 GiB. 64 MiB holds 512 of the largest, or the whole
    /// count of transactions up to 3.3 KiB (an EPCIS capture of ten events is about 4 KiB).
    public var maxBytes = 64 << 20
    /// Most future-nonce transactions one sender may hold.
    public var maxQueuedPerSender = 64
    /// Largest encoded transaction accepted (geth: 128 KiB).
    public var maxTransactionSize = 128 * 1024
    /// Percent by which a replacement must raise both the tip and the fee cap.
    public var priceBumpPercent: UInt64 = 10
    /// Smallest tip accepted (zero under the zero-fee policy).
    public var minimumTip: UInt256 = .zero
    /// Whether legacy transactions without EIP-155 chain id protection are accepted.
    public var allowUnprotected = false

    public init() {}
}

/// Transactions waiting for a block, per sender in nonce order: pending ones can run next
/// (no nonce gap from the account's nonce), queued ones wait for the gap to close. Pure: the
/// caller passes the state to check against and tells it what blocks included.
public final class TxPool {
    public struct Entry: Sendable {
        public var signed: SignedTransaction
        /// Arrival order, to break ties between equal tips.
        var sequence: UInt64
        /// Encoded bytes, counted against ``TxPoolConfig/maxBytes``.
        var size: Int
    }

    public let chain: ChainConfig
    public let config: TxPoolConfig
    /// The platform's rule on senders (device spending policies), checked against the head's
    /// state as blocks will check it, so a refusal reaches the sender at once.
    public var gate: (any TransactionGate)?
    /// Per sender, by nonce.
    private var bySender: [Address: [UInt64: Entry]] = [:] {
        didSet { version &+= 1 }
    }
    /// Changes whenever a transaction comes or goes: what the pool held at one version, it
    /// holds at every read of the same version (for answers cached against it).
    public private(set) var version: UInt64 = 0
    private var byHash: [Bytes32: (sender: Address, nonce: UInt64)] = [:]
    private var sequence: UInt64 = 0
    /// Encoded bytes of every transaction held.
    public private(set) var byteCount = 0
    /// The gas limits of every transaction held, summed: a block's worth waits when this
    /// reaches the block gas limit.
    public private(set) var gasLimitTotal: UInt64 = 0

    public init(chain: ChainConfig, config: TxPoolConfig = TxPoolConfig()) {
        self.chain = chain
        self.config = config
    }

    public var count: Int { byHash.count }
    public func contains(_ hash: Bytes32) -> Bool { byHash[hash] != nil }

    /// The transaction with this hash, if the pool holds it.
    public func transaction(_ hash: Bytes32) -> SignedTransaction? {
        guard let (sender, nonce) = byHash[hash] else { return nil }
        return bySender[sender]?[nonce]?.signed
    }

    /// Every transaction held, pending and queued, per sender in nonce order (what a journal
    /// rewrite or a re-gossip needs: replaying them in this order is accepted again).
    public var all: [SignedTransaction] {
        bySender.flatMap { _, entries in entries.keys.sorted().map { entries[$0]!.signed } }
    }

    /// The nonce the sender's next transaction should carry: the account nonce plus its
    /// consecutive pending transactions.
    public func nextNonce(_ sender: Address, state: StateBackend) -> UInt64 {
        var nonce = Self.accountNonce(sender, state)
        while bySender[sender]?[nonce] != nil { nonce += 1 }
        return nonce
    }

    /// Validates and adds a transaction; returns the hash of a transaction it replaced.
    @discardableResult
    public func add(_ tx: Transaction, encodedSize: Int, state: StateBackend, head: BlockHeader) throws(TxPoolError) -> Bytes32? {
        try add(checked: Self.check(tx, encodedSize: encodedSize, chain: chain, config: config), encodedSize: encodedSize, state: state, head: head)
    }

    /// The checks that need neither the pool nor the state: size, type, replay protection,
    /// signature, chain id and field ranges; recovers the sender. Pass `hash` when the
    /// encoding is at hand (keccak of the raw bytes) to spare re-encoding. Costs an ecrecover, so a
    /// node runs it before taking its lock, then hands the result to `add(checked:)`.
    public static func check(_ tx: Transaction, encodedSize: Int, hash: Bytes32? = nil, chain: ChainConfig,
                             config: TxPoolConfig) throws(TxPoolError) -> SignedTransaction {
        if encodedSize > config.maxTransactionSize { throw .oversizedData(size: encodedSize, limit: config.maxTransactionSize) }
        if tx.type == .blob { throw .typeNotSupported(tx.type) }
        if tx.type == .system { throw .systemTransaction }
        if tx.type == .legacy && tx.chainId == nil && !config.allowUnprotected { throw .unprotected }
        let sender: Address
        do { sender = try tx.validatedSender(chainId: chain.chainId) } catch { throw .invalid(error) }
        return SignedTransaction(tx, sender: sender, hash: hash)
    }

    /// Adds a transaction that passed `check` (`encodedSize` bytes): the checks against the
    /// state and the pool. Returns the hash of the transaction it replaced, if any.
    @discardableResult
    public func add(checked signed: SignedTransaction, encodedSize: Int, state: StateBackend, head: BlockHeader) throws(TxPoolError) -> Bytes32? {
        let tx = signed.transaction, sender = signed.sender, hash = signed.hash
        if byHash[hash] != nil { throw .alreadyKnown }
        switch PermissionCheck(config: chain, height: head.number + 1, state: state).refusal(sender, creating: tx.to == nil) {
        case .sender?: throw .senderNotAllowed(sender)
        case .deployer?: throw .deployerNotAllowed(sender)
        case nil: break
        }
        if tx.gasLimit > head.gasLimit { throw .exceedsBlockGasLimit(gas: tx.gasLimit, limit: head.gasLimit) }
        if tx.maxPriorityFeePerGas < config.minimumTip { throw .underpriced(tip: tx.maxPriorityFeePerGas, minimum: config.minimumTip) }
        if tx.maxFeePerGas < head.baseFeePerGas { throw .feeCapBelowBaseFee(feeCap: tx.maxFeePerGas, baseFee: head.baseFeePerGas) }
        let account = state.account(sender)
        let accountNonce = account?.nonce ?? 0
        if tx.nonce < accountNonce { throw .nonceTooLow(next: accountNonce, got: tx.nonce) }
        let balance = account?.balance ?? .zero
        if let sponsor = tx.sponsor {
            // A sponsored device transaction: the sponsor pays the gas, the device the value.
            let gasCost = UInt256(tx.gasLimit) &* tx.maxFeePerGas
            let sponsorBalance = state.account(sponsor)?.balance ?? .zero
            if sponsorBalance < gasCost { throw .sponsorInsufficientFunds(sponsor: sponsor, have: sponsorBalance, want: gasCost) }
            if balance < tx.value { throw .insufficientFunds(have: balance, want: tx.value) }
        } else {
            let cost = UInt256(tx.gasLimit) &* tx.maxFeePerGas &+ tx.value
            if balance < cost { throw .insufficientFunds(have: balance, want: cost) }
        }
        if let gate {
            let next = BlockContext(coinbase: head.coinbase, number: head.number + 1, timestamp: head.timestamp, gasLimit: head.gasLimit,
                                    baseFee: head.baseFeePerGas, prevRandao: .zero, chainId: chain.chainId)
            let price = tx.effectiveGasPrice(baseFee: head.baseFeePerGas) ?? tx.maxFeePerGas
            let gated = GatedTransaction(sender: sender, to: tx.to, value: tx.value, data: tx.data, sponsored: tx.sponsor != nil,
                                         maximumFee: tx.sponsor == nil ? UInt256(tx.gasLimit) &* price : .zero)
            do { _ = try gate.admit(gated, block: next, storage: GateStorage(read: { state.storage($0, slot: $1) })) } catch {
                throw .refused(error)
            }
        }

        var replaced: Entry?
        if let existing = bySender[sender]?[tx.nonce] {
            let old = existing.signed.transaction
            guard Self.bumped(tx.maxFeePerGas, over: old.maxFeePerGas, percent: config.priceBumpPercent),
                  Self.bumped(tx.maxPriorityFeePerGas, over: old.maxPriorityFeePerGas, percent: config.priceBumpPercent)
            else { throw .replacementUnderpriced }
            replaced = existing
        } else {
            let next = nextNonce(sender, state: state)
            if tx.nonce > next {
                let queued = (bySender[sender] ?? [:]).keys.filter { $0 > next }.count
                if queued >= config.maxQueuedPerSender { throw .accountLimitExceeded(sender) }
            }
        }
        let count = byHash.count + (replaced == nil ? 1 : 0), bytes = byteCount + encodedSize - (replaced?.size ?? 0)
        if count > config.capacity || bytes > config.maxBytes {
            for (victim, nonce) in try victims(cheaperThan: tx, sender: sender, count: count - config.capacity, bytes: bytes - config.maxBytes) {
                remove(victim, nonce: nonce)
            }
        }
        if let replaced {
            byHash[replaced.signed.hash] = nil
            byteCount -= replaced.size
            gasLimitTotal &-= replaced.signed.transaction.gasLimit
        }
        sequence += 1
        bySender[sender, default: [:]][tx.nonce] = Entry(signed: signed, sequence: sequence, size: encodedSize)
        byHash[hash] = (sender, tx.nonce)
        byteCount += encodedSize
        gasLimitTotal &+= tx.gasLimit
        return replaced?.signed.hash
    }

    /// `new` ≥ `old` × (100 + percent) / 100.
    static func bumped(_ new: UInt256, over old: UInt256, percent: UInt64) -> Bool {
        new &* UInt256(100) >= old &* UInt256(100 + percent)
    }

    /// What to drop so that `tx` fits: at least `count` transactions and `bytes` bytes, taken
    /// from other senders' last nonces (dropping only last nonces never opens a gap), cheapest
    /// first, each cheaper than `tx`. Throws `.full`, choosing nothing, when those cannot make room.
    private func victims(cheaperThan tx: Transaction, sender: Address, count: Int, bytes: Int) throws(TxPoolError) -> [(Address, UInt64)] {
        var lasts: [(sender: Address, nonce: UInt64, price: UInt256, size: Int)] = []
        for (other, entries) in bySender where other != sender {
            guard let last = entries.keys.max(), let entry = entries[last], entry.signed.transaction.maxFeePerGas < tx.maxFeePerGas else { continue }
            lasts.append((other, last, entry.signed.transaction.maxFeePerGas, entry.size))
        }
        lasts.sort { $0.price < $1.price }
        var chosen: [(Address, UInt64)] = []
        var freed = 0
        for last in lasts where chosen.count < count || freed < bytes {
            chosen.append((last.sender, last.nonce))
            freed += last.size
        }
        guard chosen.count >= count, freed >= bytes else { throw .full }
        return chosen
    }

    private func remove(_ sender: Address, nonce: UInt64) {
        guard let entry = bySender[sender]?.removeValue(forKey: nonce) else { return }
        byHash[entry.signed.hash] = nil
        byteCount -= entry.size
        gasLimitTotal &-= entry.signed.transaction.gasLimit
        if bySender[sender]?.isEmpty == true { bySender[sender] = nil }
    }

    /// Removes a transaction (for example one a block builder found can never be included).
    public func remove(hash: Bytes32) {
        guard let (sender, nonce) = byHash[hash] else { return }
        remove(sender, nonce: nonce)
    }

    /// After a block: drops every transaction whose nonce the state has passed.
    public func prune(state: StateBackend) {
        for sender in Array(bySender.keys) {
            let nonce = state.account(sender)?.nonce ?? 0
            for stale in bySender[sender]!.keys where stale < nonce { remove(sender, nonce: stale) }
        }
    }

    /// The transactions that can run now, in the order a block should try them: per sender by
    /// nonce, across senders by the tip they pay at `baseFee` (then by arrival).
    public func pending(state: StateBackend, baseFee: UInt256) -> [SignedTransaction] {
        let queues = bySender.map { executableRun($0.key, $0.value, state: state) }.filter { !$0.isEmpty }
        func tip(_ e: Entry) -> UInt256 {
            let t = e.signed.transaction
            return t.maxFeePerGas < baseFee ? .zero : Swift.min(t.maxPriorityFeePerGas, t.maxFeePerGas &- baseFee)
        }
        // Heads ordered best first: higher tip, then earlier arrival.
        func better(_ a: Entry, _ b: Entry) -> Bool {
            let ta = tip(a), tb = tip(b)
            return ta != tb ? ta > tb : a.sequence < b.sequence
        }
        var heap = Heap<(Int, Int)>(by: { better(queues[$0.0][$0.1], queues[$1.0][$1.1]) })
        for i in queues.indices { heap.push((i, 0)) }
        var out: [SignedTransaction] = []
        while let (q, i) = heap.pop() {
            out.append(queues[q][i].signed)
            if i + 1 < queues[q].count { heap.push((q, i + 1)) }
        }
        return out
    }

    /// Counts of transactions that can run now and that wait for a nonce gap.
    public func counts(state: StateBackend) -> (pending: Int, queued: Int) {
        let pending = bySender.reduce(0) { $0 + executableRun($1.key, $1.value, state: state).count }
        return (pending, byHash.count - pending)
    }

    /// Whether any transaction can run now: `counts(state:).pending > 0`, but it stops at the
    /// first sender that has one instead of walking every sender's run (consensus asks often).
    public func hasPending(state: StateBackend) -> Bool {
        bySender.contains { sender, entries in entries[Self.accountNonce(sender, state)] != nil }
    }

    /// The nonce the sender's account has reached: its next transaction that can run carries it.
    private static func accountNonce(_ sender: Address, _ state: StateBackend) -> UInt64 {
        state.account(sender)?.nonce ?? 0
    }

    /// A sender's transactions that can run now: consecutive nonces from the account's.
    private func executableRun(_ sender: Address, _ entries: [UInt64: Entry], state: StateBackend) -> [Entry] {
        var nonce = Self.accountNonce(sender, state)
        var run: [Entry] = []
        while let e = entries[nonce] { run.append(e); nonce += 1 }
        return run
    }
}
