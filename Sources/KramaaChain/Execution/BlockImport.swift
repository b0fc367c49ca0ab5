import KramaaEVM
import KramaaPrimitives
import KramaaState

/// Why a block received from another validator cannot follow the head: the first header
/// field or transaction that does not check out.
public enum BlockValidationError: Error, Equatable, CustomStringConvertible {
    case wrongParent(expected: Bytes32, got: Bytes32)
    case wrongNumber(expected: UInt64, got: UInt64)
    case timestampBeforeParent(parent: UInt64, got: UInt64)
    case wrongGasLimit(expected: UInt64, got: UInt64)
    case wrongBaseFee(expected: UInt256, got: UInt256)
    case extraDataTooLong(Int)
    case invalidTransaction(index: Int, InvalidTransactionError)
    case senderNotAllowed(index: Int, Address)
    case deployerNotAllowed(index: Int, Address)
    case gasLimitExceeded(used: UInt64, limit: UInt64)
    case mismatch(field: String, expected: Bytes32, got: Bytes32)
    /// `extraData` is not the block's ``HeaderCommitment`` (history root, next validators).
    case wrongCommitment(expected: HeaderCommitment, got: [UInt8])
    case wrongGasUsed(computed: UInt64, header: UInt64)
    /// The block's system transactions are not the ones its parent's state calls for (a due
    /// trigger left out, one added, or one out of place).
    case systemTransactionsMismatch(expected: Int)

    public var description: String {
        switch self {
        case .wrongParent(let e, let g): "block's parent is \(g), the head is \(e)"
        case .wrongNumber(let e, let g): "block number \(g), expected \(e)"
        case .timestampBeforeParent(let p, let g): "timestamp \(g) is before the parent's \(p)"
        case .wrongGasLimit(let e, let g): "gas limit \(g), the chain's is \(e)"
        case .wrongBaseFee(let e, let g): "base fee \(g), expected \(e)"
        case .extraDataTooLong(let n): "extra data of \(n) bytes, at most \(BlockHeader.maxExtraDataSize)"
        case .invalidTransaction(let i, let e): "transaction \(i): \(e)"
        case .senderNotAllowed(let i, let a): "transaction \(i): sender \(a) is not on the senders list"
        case .deployerNotAllowed(let i, let a): "transaction \(i): \(a) deploys a contract and is not on the deployers list"
        case .gasLimitExceeded(let used, let limit): "transactions use \(used) gas, over the block's \(limit)"
        case .mismatch(let field, let e, let g): "\(field) is \(g), executing the block gives \(e)"
        case .wrongGasUsed(let c, let h): "header says \(h) gas used, executing the block gives \(c)"
        case .wrongCommitment(let e, let g):
            "extra data \(Hex.encode(g)) is not the block's commitment \(Hex.encode(e.extraData)) (history root \(e.historyRoot), next validators \(e.validatorsHash))"
        case .systemTransactionsMismatch(let n):
            "the block must begin with exactly the \(n) system transactions its parent's state calls for (due triggers), and hold no others"
        }
    }
}

extension BlockExecutor {
    /// Executes a block built elsewhere on `state` (which must be the state of `parent`):
    /// every transaction must apply, in order, and every root the header claims must be what
    /// execution gives. On success the state holds the block's changes; on failure the
    /// caller discards them (`InMemoryState.discardChanges()`). `senders` are the
    /// transactions' recovered senders (recovered once, when they arrived).
    /// `historyRoot` as for `build`: on a chain that commits history, the header's `extraData`
    /// must be the commitment execution gives.
    /// `hashes`, when the caller has them, are those of `block.transactions` (spares hashing each).
    public func execute(_ block: Block, senders: [Address], hashes: [Bytes32]? = nil, parent: BlockHeader,
                        state: InMemoryState, historyRoot: Bytes32? = nil) throws(BlockValidationError) -> ExecutedBlock {
        try seal(draft(importing: block, senders: senders, hashes: hashes, parent: parent, state: state), of: block, historyRoot: historyRoot)
    }

    /// The first half of ``execute(_:senders:hashes:parent:state:historyRoot:)``: checks the
    /// header against `parent`, runs the transactions and checks what the body decides (gas
    /// used, transactions and receipts roots, bloom), only reading `state` (see ``BlockDraft``).
    public func draft(importing block: Block, senders: [Address], hashes: [Bytes32]? = nil, parent: BlockHeader,
                      state: InMemoryState) throws(BlockValidationError) -> BlockDraft {
        let header = block.header
        guard header.parentHash == parent.hash else { throw .wrongParent(expected: parent.hash, got: header.parentHash) }
        guard header.number == parent.number + 1 else { throw .wrongNumber(expected: parent.number + 1, got: header.number) }
        // Non-decreasing, as BSC's sub-second blocks: blocks in the same second share it, so the
        // chain's time stays the wall clock's however fast blocks come (a +1 s rule ran ahead of it).
        guard header.timestamp >= parent.timestamp else { throw .timestampBeforeParent(parent: parent.timestamp, got: header.timestamp) }
        guard header.gasLimit == parent.gasLimit else { throw .wrongGasLimit(expected: parent.gasLimit, got: header.gasLimit) }
        let baseFee = FeeMarket.nextBaseFee(parent: parent, policy: config.feePolicy)
        guard header.baseFeePerGas == baseFee else { throw .wrongBaseFee(expected: baseFee, got: header.baseFeePerGas) }
        guard header.extraData.count <= BlockHeader.maxExtraDataSize else { throw .extraDataTooLong(header.extraData.count) }

        let system = systemTransactions(header, state: state)
        guard block.transactions.prefix(system.count).elementsEqual(system),
              !block.transactions.dropFirst(system.count).contains(where: { $0.type == .system }) else {
            throw .systemTransactionsMismatch(expected: system.count)
        }
        var template = header
        template.gasUsed = 0
        var run = Run(executor: self, header: template, state: state)
        let permissions = PermissionCheck(config: config, height: header.number, state: state)
        var prepared = Preparations(systemContracts, block.transactions)
        for (i, tx) in block.transactions.enumerated() {
            if tx.type != .system, let refusal = permissions.refusal(senders[i], creating: tx.to == nil) {
                throw refusal == .sender ? .senderNotAllowed(index: i, senders[i]) : .deployerNotAllowed(index: i, senders[i])
            }
            guard run.gasUsed + tx.gasLimit <= header.gasLimit else {
                throw .gasLimitExceeded(used: run.gasUsed + tx.gasLimit, limit: header.gasLimit)
            }
            do { try run.apply(SignedTransaction(tx, sender: senders[i], hash: hashes?[i]), prepared: prepared.result(i, ahead: block.transactions.count)) } catch {
                throw .invalidTransaction(index: i, error)
            }
        }
        let draft = run.finishBody()
        let got = draft.body.block.header
        if got.gasUsed != header.gasUsed { throw .wrongGasUsed(computed: got.gasUsed, header: header.gasUsed) }
        for (field, computed, claimed) in [("transactions root", got.transactionsRoot, header.transactionsRoot),
                                           ("receipts root", got.receiptsRoot, header.receiptsRoot),
                                           ("logs bloom", Keccak256.hash(got.logsBloom.bytes), Keccak256.hash(header.logsBloom.bytes))]
        where computed != claimed {
            throw .mismatch(field: field, expected: computed, got: claimed)
        }
        return draft
    }

    /// The second half of ``execute(_:senders:hashes:parent:state:historyRoot:)``: writes the
    /// changes of `draft` (from ``draft(importing:senders:hashes:parent:state:)`` of `block`) into
    /// its state and checks the state root and commitment `block` claims. On failure the caller
    /// discards the changes (`InMemoryState.discardChanges()`).
    public func seal(_ draft: BlockDraft, of block: Block, historyRoot: Bytes32?) throws(BlockValidationError) -> ExecutedBlock {
        let executed = draft.seal()
        let header = block.header, root = executed.block.header.stateRoot
        if root != header.stateRoot { throw .mismatch(field: "state root", expected: root, got: header.stateRoot) }
        if let commitment = commitment(after: executed.block.header, historyRoot: historyRoot, state: draft.state),
           header.extraData != commitment.extraData {
            throw .wrongCommitment(expected: commitment, got: header.extraData)
        }
        return ExecutedBlock(block: block, senders: executed.senders, receipts: executed.receipts, outcomes: executed.outcomes, rejected: [],
                             transactionHashes: executed.transactionHashes)
    }
}
