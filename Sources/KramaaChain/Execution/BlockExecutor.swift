import KramaaEVM
import KramaaPrimitives
import KramaaState

/// A transaction with its sender, recovered once when it entered the node.
public struct SignedTransaction: Sendable, Equatable {
    public var transaction: Transaction
    public var sender: Address
    public var hash: Bytes32

    public init(_ transaction: Transaction, sender: Address, hash: Bytes32? = nil) {
        self.transaction = transaction
        self.sender = sender
        self.hash = hash ?? transaction.hash
    }
}

/// What executing one included transaction gave, beyond its consensus receipt.
public struct TransactionOutcome: Sendable, Equatable {
    public var gasUsed: UInt64
    public var effectiveGasPrice: UInt256
    public var createdAddress: Address?
    /// Return data, or the revert data of a failed call.
    public var output: [UInt8]

    public init(gasUsed: UInt64, effectiveGasPrice: UInt256, createdAddress: Address?, output: [UInt8]) {
        self.gasUsed = gasUsed
        self.effectiveGasPrice = effectiveGasPrice
        self.createdAddress = createdAddress
        self.output = output
    }
}

/// A block executed against a state: the sealed header, its transactions and receipts.
public struct ExecutedBlock: Sendable {
    public var block: Block
    public var senders: [Address]
    public var receipts: [Receipt]
    public var outcomes: [TransactionOutcome]
    /// Candidates left out because they can never be included as they are (nonce too low,
    /// insufficient funds, ...), with the reason.
    public var rejected: [(hash: Bytes32, error: InvalidTransactionError)]
    /// The hashes of `block.transactions`, in order: known from the pool or from execution, so
    /// storing the block does not encode and hash every transaction again. Set once, with the
    /// transactions (a changed copy would index the block under stale hashes).
    public let transactionHashes: [Bytes32]

    /// A block with its receipts as executed elsewhere (tests and benchmarks write made-up
    /// blocks to storage through this; the node gets them from `BlockExecutor`).
    /// `transactionHashes`, when given, must be those of `block.transactions`.
    public init(block: Block, senders: [Address], receipts: [Receipt], outcomes: [TransactionOutcome],
                rejected: [(hash: Bytes32, error: InvalidTransactionError)] = [], transactionHashes: [Bytes32]? = nil) {
        self.transactionHashes = transactionHashes ?? block.transactions.map(\.hash)
        self.block = block
        self.senders = senders
        self.receipts = receipts
        self.outcomes = outcomes
        self.rejected = rejected
    }
}

/// Builds and executes blocks under the chain's rules: each transaction through the state
/// transition, receipts, roots and the header.
public struct BlockExecutor {
    public let config: ChainConfig
    public let precompiles: [Address: PrecompileFunction]
    /// The native contracts of this chain (governance, platform), by address.
    public let systemContracts: SystemContracts
    public let codeCache: CodeCache

    public init(config: ChainConfig, precompiles: [Address: PrecompileFunction] = Precompiles.cancun,
                systemContracts: SystemContracts = .none, codeCache: CodeCache = CodeCache()) {
        self.config = config
        self.precompiles = precompiles
        self.systemContracts = systemContracts
        self.codeCache = codeCache
    }

    /// The header fields of the child of `parent` that do not depend on its transactions; its
    /// time is `timestamp`, or the parent's if that is later (never before the parent's).
    public func childHeader(of parent: BlockHeader, timestamp: UInt64, coinbase: Address) -> BlockHeader {
        var header = BlockHeader(
            parentHash: parent.hash, coinbase: coinbase, stateRoot: .zero, number: parent.number + 1,
            gasLimit: parent.gasLimit, timestamp: max(timestamp, parent.timestamp),
            baseFeePerGas: FeeMarket.nextBaseFee(parent: parent, policy: config.feePolicy))
        header.mixHash = Keccak256.hash(parent.hash.bytes + header.number.bigEndianBytes)
        return header
    }

    /// What the EVM sees of `header` (COINBASE, NUMBER, BASEFEE, ...).
    public func context(_ header: BlockHeader) -> BlockContext {
        BlockContext(coinbase: header.coinbase, number: header.number, timestamp: header.timestamp,
                     gasLimit: header.gasLimit, baseFee: header.baseFeePerGas, prevRandao: header.mixHash,
                     chainId: config.chainId, blobBaseFee: BlobRules.blobBaseFee(excessBlobGas: 0))
    }

    /// The state transition for transactions of the block with `header`.
    public func transition(_ header: BlockHeader) -> StateTransition {
        StateTransition(block: context(header), precompiles: precompiles, systemContracts: systemContracts)
    }

    /// Builds a block on `header` (from `childHeader`) from `candidates` in order: a candidate
    /// that does not fit the gas left is skipped; one that can never be valid is rejected.
    /// Commits the result to `state` and fills in the header's roots.
    /// `system`: the block's system transactions when the caller computed them already
    /// (``systemTransactions(_:state:)`` on this state), else computed here.
    /// `historyRoot`: the ``HistoryAccumulator`` root of the blocks before this one, which a
    /// chain that ``ChainConfig/commitsHistory`` puts in the header (``HeaderCommitment``).
    public func build(_ header: BlockHeader, candidates: some Sequence<SignedTransaction>, state: InMemoryState,
                      system known: [Transaction]? = nil, historyRoot: Bytes32? = nil) -> ExecutedBlock {
        seal(draft(header, candidates: candidates, state: state, system: known), historyRoot: historyRoot)
    }

    /// The first half of ``build(_:candidates:state:system:historyRoot:)``: runs the candidates
    /// and completes what the body decides (gas used, transactions and receipts roots, bloom),
    /// only reading `state`; the changes wait in the draft until ``seal(_:historyRoot:)``. So a
    /// node may let others read `state` meanwhile, as long as nothing writes it.
    public func draft(_ header: BlockHeader, candidates: some Sequence<SignedTransaction>, state: InMemoryState,
                      system known: [Transaction]? = nil) -> BlockDraft {
        let system = known ?? systemTransactions(header, state: state)
        var run = Run(executor: self, header: header, state: state)
        // The protocol's calls first (due triggers): `systemTransactions` keeps only what applies.
        for tx in system { try? run.apply(SignedTransaction(tx, sender: SystemContracts.systemAddress)) }
        // Once one of a sender's transactions is left out, its later nonces cannot run either.
        var skipped: Set<Address> = []
        let permissions = PermissionCheck(config: config, height: header.number, state: state)
        let candidates = Array(candidates)
        var prepared = Preparations(systemContracts, candidates.map(\.transaction))
        for (index, candidate) in candidates.enumerated() where !skipped.contains(candidate.sender) {
            guard run.gasUsed + candidate.transaction.gasLimit <= header.gasLimit,
                  permissions.refusal(candidate.sender, creating: candidate.transaction.to == nil) == nil else {
                skipped.insert(candidate.sender)
                continue
            }
            do {
                try run.apply(candidate, prepared: prepared.result(index, ahead: run.expectedToFit(candidate.transaction)))
            } catch {
                skipped.insert(candidate.sender)
                switch error {
                case .nonceTooHigh, .feeCapTooLow, .gasLimitReached: break  // may fit a later block
                default: run.rejected.append((candidate.hash, error))
                }
            }
        }
        return run.finishBody()
    }

    /// The second half of ``build(_:candidates:state:system:historyRoot:)``: writes the draft's
    /// changes into the state it ran on (unchanged since) and completes the header with the state
    /// root and, on a chain that commits history, the commitment.
    public func seal(_ draft: BlockDraft, historyRoot: Bytes32?) -> ExecutedBlock {
        var executed = draft.seal()
        if let commitment = commitment(after: executed.block.header, historyRoot: historyRoot, state: draft.state) {
            executed.block.header.extraData = commitment.extraData
        }
        return executed
    }

    /// The commitment of the block with `header` executed on `state` (its post-state): the
    /// history root given and the validators of the next height. Nil when the chain does not
    /// commit history.
    public func commitment(after header: BlockHeader, historyRoot: Bytes32?, state: InMemoryState) -> HeaderCommitment? {
        guard config.commitsHistory else { return nil }
        precondition(historyRoot != nil, "a chain that commits history builds and imports blocks with the history root")
        let fromContract = try? ValidatorSetContract.validators(forHeight: header.number + 1, in: SlotReader {
            state.storage(ValidatorSetContract.address, slot: $0)
        })
        let next = fromContract.flatMap { $0.isEmpty ? nil : $0 } ?? config.validators
        return HeaderCommitment(historyRoot: historyRoot!, nextValidators: next)
    }

    /// The system transactions (type 0x4c) the block with `header` begins with: what the
    /// platform's block hook asks for on the parent's `state`, each with the block number as
    /// nonce, together within half the block's gas (the rest waits for the next block).
    public func systemTransactions(_ header: BlockHeader, state: StateBackend) -> [Transaction] {
        guard let hook = systemContracts.blockHook else { return [] }
        let requests = hook.systemCalls(block: context(header), storage: GateStorage(read: { state.storage($0, slot: $1) }))
        var budget = header.gasLimit / 2
        var out: [Transaction] = []
        for request in requests {
            let tx = Transaction(type: .system, chainId: config.chainId, nonce: header.number, maxPriorityFeePerGas: .zero,
                                 maxFeePerGas: .zero, gasLimit: request.gasLimit, to: request.to, data: request.data)
            guard tx.gasLimit >= tx.intrinsicGas, tx.gasLimit <= budget else { break }
            budget -= tx.gasLimit
            out.append(tx)
        }
        return out
    }

    /// What the system contracts prepare from a block's transactions (``SystemContracts/prepare(_:)``),
    /// worked out in parallel a chunk of transactions at a time, just before the first of the
    /// chunk runs: a block being built stops where the pool's candidates stop fitting, so
    /// candidates past that point should not be prepared (the caller says how many lie ahead).
    struct Preparations {
        let contracts: SystemContracts
        let transactions: [Transaction]
        private var results: [(any Sendable)?] = []

        init(_ contracts: SystemContracts, _ transactions: [Transaction]) {
            self.contracts = contracts
            self.transactions = transactions
        }

        /// The preparation of transaction `index` (nil: nothing to prepare); when it is not
        /// prepared yet, it and the `ahead - 1` transactions after it are, together.
        mutating func result(_ index: Int, ahead: Int) -> (any Sendable)? {
            while results.count <= index {
                let end = min(transactions.count, max(results.count + ahead, index + 1))
                results += contracts.prepare(transactions[results.count..<end].map { ($0.to, $0.data) })
            }
            return results[index]
        }
    }

    /// One block's execution in progress over one journal.
    struct Run {
        let executor: BlockExecutor
        var header: BlockHeader
        let state: InMemoryState
        let journaled: JournaledState
        let transition: StateTransition
        var gasUsed: UInt64 = 0
        var included: [SignedTransaction] = []
        var receipts: [Receipt] = []
        /// Bloom bits of the addresses and topics this block's logs had so far.
        var bloomMemo = Bloom.Memo()
        var outcomes: [TransactionOutcome] = []
        var rejected: [(hash: Bytes32, error: InvalidTransactionError)] = []

        init(executor: BlockExecutor, header: BlockHeader, state: InMemoryState) {
            self.executor = executor
            self.header = header
            self.state = state
            journaled = JournaledState(backend: state, codeCache: executor.codeCache)
            transition = executor.transition(header)
        }

        mutating func apply(_ candidate: SignedTransaction, prepared: (any Sendable)? = nil) throws(InvalidTransactionError) {
            let tx = candidate.transaction
            if tx.type == .blob { throw .transaction(.typeNotSupported(tx.type.rawValue)) }
            let result = try transition.apply(tx, sender: candidate.sender, to: journaled, prepared: prepared)
            gasUsed += result.gasUsed
            included.append(candidate)
            receipts.append(Receipt(type: tx.type, success: result.success, cumulativeGasUsed: gasUsed, logs: result.logs,
                                    bloom: Bloom(logs: result.logs, memo: &bloomMemo)))
            outcomes.append(TransactionOutcome(
                gasUsed: result.gasUsed, effectiveGasPrice: tx.effectiveGasPrice(baseFee: header.baseFeePerGas) ?? .zero,
                createdAddress: result.createdAddress, output: result.output))
        }

        /// How many transactions like `next` the block may still take, judged by the gas the
        /// included ones used on average (16 before any is included; at least 1).
        func expectedToFit(_ next: Transaction) -> Int {
            guard !included.isEmpty else { return 16 }
            let average = max(gasUsed / UInt64(included.count), 21_000)
            let room = header.gasLimit - gasUsed
            guard room >= next.gasLimit else { return 1 }
            return Int(min((room - next.gasLimit) / average, 64)) + 1
        }

        /// Completes what the body decides of the header; the state is not touched.
        func finishBody() -> BlockDraft {
            var header = header
            header.gasUsed = gasUsed
            let transactions = included.map(\.transaction)
            header.transactionsRoot = Block.transactionsRoot(transactions)
            header.receiptsRoot = Receipt.root(receipts)
            var bloom = Bloom()
            for r in receipts { bloom.formUnion(r.bloom) }
            header.logsBloom = bloom
            let body = ExecutedBlock(block: Block(header: header, transactions: transactions), senders: included.map(\.sender),
                                     receipts: receipts, outcomes: outcomes, rejected: rejected, transactionHashes: included.map(\.hash))
            return BlockDraft(body: body, state: state, journaled: journaled)
        }
    }
}

/// A block whose transactions have run on a state that was only read: the header holds
/// everything but the state root (and a commitment), and the changes wait in a journal until
/// ``BlockExecutor/seal(_:historyRoot:)`` writes them (see ``BlockExecutor/draft(_:candidates:state:system:)``).
/// Dropping a draft leaves the state as it was.
public struct BlockDraft {
    /// The block so far: its header lacks the state root.
    public let body: ExecutedBlock
    let state: InMemoryState
    let journaled: JournaledState

    /// Writes the changes into the state and sets the header's state root.
    func seal() -> ExecutedBlock {
        state.commit(journaled)
        var executed = body
        executed.block.header.stateRoot = state.stateRoot
        return executed
    }
}

extension Genesis {
    /// Writes the allocations into `state` and returns block 0.
    public func makeBlock(into state: InMemoryState) -> Block {
        for (address, a) in alloc {
            state.set(address, nonce: a.nonce, balance: a.balance, code: a.code, storage: a.storage)
        }
        var header = BlockHeader(parentHash: .zero, coinbase: coinbase, stateRoot: state.stateRoot, number: 0,
                                 gasLimit: gasLimit, timestamp: timestamp, baseFeePerGas: baseFeePerGas)
        header.extraData = extraData
        return Block(header: header, transactions: [])
    }
}
