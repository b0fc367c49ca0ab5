import KramaaEVM
import KramaaPrimitives

/// Why a transaction cannot be included in a block: it is rejected before execution and
/// changes nothing. Wording follows geth's core errors.
public enum InvalidTransactionError: Error, Equatable, CustomStringConvertible {
    case transaction(TransactionError)
    case nonceTooLow(expected: UInt64, got: UInt64)
    case nonceTooHigh(expected: UInt64, got: UInt64)
    case insufficientFunds(have: UInt256, want: UInt256)
    /// A device transaction's sponsor cannot pay gasLimit × fee cap.
    case sponsorInsufficientFunds(sponsor: Address, have: UInt256, want: UInt256)
    /// EIP-3607: the sender has code.
    case senderNotEOA(Address)
    case feeCapTooLow(maxFeePerGas: UInt256, baseFee: UInt256)
    case gasLimitReached(txGas: UInt64, blockGasLimit: UInt64)
    case blobFeeCapTooLow(maxFeePerBlobGas: UInt256, blobBaseFee: UInt256)
    case tooManyBlobs(Int)
    /// The platform's rule on the sender refuses it (a device's spending policy, a revoked key).
    case refused(GateRefusal)

    public var description: String {
        switch self {
        case .transaction(let e): return e.description
        case .nonceTooLow(let expected, let got): return "nonce too low: next nonce \(expected), tx nonce \(got)"
        case .nonceTooHigh(let expected, let got): return "nonce too high: next nonce \(expected), tx nonce \(got)"
        case .insufficientFunds(let have, let want): return "insufficient funds for gas * price + value: have \(have) want \(want)"
        case .sponsorInsufficientFunds(let sponsor, let have, let want):
            return "insufficient funds of sponsor \(sponsor) for gas * price: have \(have) want \(want)"
        case .senderNotEOA(let a): return "sender not an eoa: address \(a) has code"
        case .feeCapTooLow(let cap, let base): return "max fee per gas less than block base fee: maxFeePerGas: \(cap), baseFee: \(base)"
        case .gasLimitReached(let gas, let limit): return "gas limit reached: tx gas \(gas) above block gas limit \(limit)"
        case .blobFeeCapTooLow(let cap, let fee): return "max fee per blob gas less than block blob gas fee: \(cap) < \(fee)"
        case .tooManyBlobs(let n): return "too many blobs in transaction: \(n)"
        case .refused(let refusal): return refusal.reason
        }
    }
}

/// What executing an included transaction produced.
public struct TransactionReceiptData: Sendable {
    /// How the top frame ended: success, revert, or the exceptional halt that ended it.
    public var status: ExecutionStatus
    /// Gas used after the refund.
    public var gasUsed: UInt64
    /// Gas refunded (EIP-3529, capped at a fifth of the gas used before it).
    public var refunded: UInt64
    public var logs: [Log]
    public var createdAddress: Address?
    /// Return data, or the revert reason.
    public var output: [UInt8]

    public var success: Bool { status == .success }
}

/// How strictly `StateTransition` checks what it runs.
public enum TransitionMode: Sendable {
    /// A transaction in a block: signed, with the sender's next nonce, from an account
    /// without code, fee cap at least the base fee, gas within the block's limit.
    case block
    /// An unsigned message (eth_call, eth_estimateGas, debug_traceCall), as geth runs them:
    /// no signature, nonce or EOA check, no block gas limit, and when every fee field is zero
    /// the base fee counts as zero (geth's NoBaseFee), so a call needs no balance for gas.
    case call
}
/// EIP-4844 constants of Cancun.
public enum BlobRules {
    public static let gasPerBlob: UInt64 = 131_072
    public static let maxBlobsPerBlock = 6
    public static let minBlobBaseFee = UInt256.one
    public static let blobBaseFeeUpdateFraction = UInt256(3_338_477)

    /// The blob base fee for `excessBlobGas`: fake_exponential(1, excess, 3338477).
    public static func blobBaseFee(excessBlobGas: UInt64) -> UInt256 {
        let factor = minBlobBaseFee, numerator = UInt256(excessBlobGas), denominator = blobBaseFeeUpdateFraction
        var i = UInt256.one
        var output = UInt256.zero
        var accum = factor &* denominator
        while !accum.isZero {
            output = output &+ accum
            accum = (accum &* numerator) / (denominator &* i)
            i = i &+ .one
        }
        return output / denominator
    }
}

/// Applies one transaction to a `JournaledState` under Cancun rules: checks it against the
/// state (nonce, balance, fee caps), buys gas, runs it, refunds and pays the coinbase, and
/// ends the transaction (EIP-161 cleanup). Geth calls this the state transition. The gas of a
/// sponsored device transaction is bought from and refunded to its sponsor.
public struct StateTransition {
    public let block: BlockContext
    public let precompiles: [Address: PrecompileFunction]
    public let systemContracts: SystemContracts

    public init(block: BlockContext, precompiles: [Address: PrecompileFunction], systemContracts: SystemContracts = .none) {
        self.block = block
        self.precompiles = precompiles
        self.systemContracts = systemContracts
    }

    /// Checks `tx` against the state, runs it and ends the transaction; `tracer`, when given, sees
    /// every frame and instruction (debug tracing); `prepared`, what the called system contract
    /// prepared from `tx`'s input (``SystemContracts/prepare(_:)``). Throws, changing nothing,
    /// when `tx` cannot run.
    public func apply(_ tx: Transaction, sender: Address, to state: JournaledState, mode: TransitionMode = .block,
                      tracer: EVMTracer? = nil, prepared: (any Sendable)? = nil) throws(InvalidTransactionError) -> TransactionReceiptData {
        if tx.type == .system { return try applySystem(tx, sender: sender, to: state, mode: mode, tracer: tracer) }
        var block = self.block
        let nonce = state.nonce(sender)
        switch mode {
        case .block:
            do { try tx.validate(chainId: block.chainId) } catch { throw .transaction(error) }
            if tx.maxFeePerGas < block.baseFee { throw .feeCapTooLow(maxFeePerGas: tx.maxFeePerGas, baseFee: block.baseFee) }
            if tx.gasLimit > block.gasLimit { throw .gasLimitReached(txGas: tx.gasLimit, blockGasLimit: block.gasLimit) }
            if tx.nonce < nonce { throw .nonceTooLow(expected: nonce, got: tx.nonce) }
            if tx.nonce > nonce { throw .nonceTooHigh(expected: nonce, got: tx.nonce) }
            if state.codeHash(sender) != AccountInfo.emptyCodeHash { throw .senderNotEOA(sender) }
        case .call:
            do { try tx.validateFields() } catch { throw .transaction(error) }
            if tx.maxFeePerGas.isZero && tx.maxPriorityFeePerGas.isZero { block.baseFee = .zero }
            if tx.maxFeePerGas < block.baseFee { throw .feeCapTooLow(maxFeePerGas: tx.maxFeePerGas, baseFee: block.baseFee) }
        }
        if nonce == UInt64.max { throw .transaction(.nonceMax) }
        let blobGas = BlobRules.gasPerBlob * UInt64(tx.blobVersionedHashes.count)
        if tx.type == .blob {
            if tx.blobVersionedHashes.count > BlobRules.maxBlobsPerBlock { throw .tooManyBlobs(tx.blobVersionedHashes.count) }
            if tx.maxFeePerBlobGas < block.blobBaseFee {
                throw .blobFeeCapTooLow(maxFeePerBlobGas: tx.maxFeePerBlobGas, blobBaseFee: block.blobBaseFee)
            }
        }
        // The balance must cover the worst case: every unit of gas at the fee cap, the value and the blob fee cap.
        // A sponsored device transaction splits it: the sponsor (the payer) the gas, the device the value.
        let payer = tx.gasPayer(sender: sender)
        let gasLimit = UInt256(tx.gasLimit)
        // gasLimit × maxFee cannot overflow: validate() refused that.
        let (want, o1) = (gasLimit &* tx.maxFeePerGas).addingReportingOverflow(payer == sender ? tx.value : .zero)
        let (blobMax, o2) = UInt256(blobGas).multipliedReportingOverflow(by: tx.maxFeePerBlobGas)
        let (total, o3) = want.addingReportingOverflow(blobMax)
        let have = state.balance(payer)
        if o1 || o2 || o3 || have < total {
            if payer != sender { throw .sponsorInsufficientFunds(sponsor: payer, have: have, want: total) }
            throw .insufficientFunds(have: have, want: total)
        }
        if payer != sender, state.balance(sender) < tx.value {
            throw .insufficientFunds(have: state.balance(sender), want: tx.value)
        }

        let gasPrice = tx.effectiveGasPrice(baseFee: block.baseFee)!
        // The platform's rule on the sender (device spending policies), in blocks only: calls
        // (eth_call, eth_estimateGas) read as anyone may.
        var charge: GateCharge?
        if case .block = mode, let gate = systemContracts.gate {
            let gated = GatedTransaction(sender: sender, to: tx.to, value: tx.value, data: tx.data, sponsored: payer != sender,
                                         maximumFee: payer == sender ? gasLimit &* gasPrice : .zero)
            do { charge = try gate.admit(gated, block: block, storage: GateStorage(read: { state.storage($0, $1) })) } catch {
                throw .refused(error)
            }
        }
        let prepaid = gasLimit &* gasPrice &+ UInt256(blobGas) &* block.blobBaseFee
        state.setBalance(payer, have &- prepaid)

        // EIP-2929/2930/3651: what is warm before the first instruction.
        state.warm(sender)
        if let to = tx.to { state.warm(to) }
        state.warm(block.coinbase)
        for address in precompiles.keys { state.warm(address) }
        for entry in tx.accessList {
            state.warm(entry.address)
            for key in entry.storageKeys { state.warm(entry.address, slot: UInt256(key)) }
        }

        let evm = EVM(state: state, block: block,
                      transaction: TransactionContext(origin: sender, gasPrice: gasPrice, blobHashes: tx.blobVersionedHashes, prepared: prepared),
                      precompiles: precompiles, systemContracts: systemContracts)
        evm.tracer = tracer
        tracer?.onTransactionStart(gasLimit: tx.gasLimit)
        let gas = Int64(tx.gasLimit - tx.intrinsicGas)
        let result: ExecutionResult
        if let to = tx.to {
            state.setNonce(sender, nonce + 1)  // a create increments it itself, after deriving the address
            result = evm.call(Message(kind: .call, caller: sender, recipient: to, codeAddress: to, value: tx.value,
                                      input: tx.data, gas: gas, depth: 0))
        } else {
            result = evm.create(caller: sender, value: tx.value, initCode: tx.data, gas: gas, salt: nil, depth: 0)
        }
        // EIP-3529: refunds are capped at a fifth of the gas used.
        var gasUsed = tx.gasLimit - UInt64(result.gasLeft)
        let refund = UInt64(max(state.refund, 0))
        let refunded = min(refund, gasUsed / 5)
        gasUsed -= refunded
        state.addBalance(payer, UInt256(tx.gasLimit - gasUsed) &* gasPrice)
        state.addBalance(block.coinbase, UInt256(gasUsed) &* (gasPrice &- block.baseFee))
        if let charge, let gate = systemContracts.gate {
            gate.record(charge, fee: payer == sender ? UInt256(gasUsed) &* gasPrice : .zero, succeeded: result.status == .success,
                        block: block, storage: GateStorage(read: { state.storage($0, $1) }, write: { state.setStorage($0, $1, $2) }))
        }
        tracer?.onTransactionEnd(gasUsed: gasUsed)
        let logs = state.finishTransaction()
        return TransactionReceiptData(
            status: result.status, gasUsed: gasUsed, refunded: refunded, logs: logs,
            createdAddress: result.createdAddress, output: result.output)
    }

    /// A system transaction (type 0x4c): a call from the system address with the transaction's
    /// gas and no fee, nonce or balance (EIP-4788's system calls, with a receipt so its logs are
    /// seen). The block executor decides which ones a block holds.
    private func applySystem(_ tx: Transaction, sender: Address, to state: JournaledState, mode: TransitionMode,
                             tracer: EVMTracer?) throws(InvalidTransactionError) -> TransactionReceiptData {
        do { try tx.validate(chainId: block.chainId) } catch { throw .transaction(error) }
        guard case .block = mode, sender == SystemContracts.systemAddress, let to = tx.to else { throw .transaction(.invalidSystemTransaction) }
        if tx.gasLimit > block.gasLimit { throw .gasLimitReached(txGas: tx.gasLimit, blockGasLimit: block.gasLimit) }
        state.warm(sender)
        state.warm(to)
        for address in precompiles.keys { state.warm(address) }
        let evm = EVM(state: state, block: block, transaction: TransactionContext(origin: sender, gasPrice: .zero),
                      precompiles: precompiles, systemContracts: systemContracts)
        evm.tracer = tracer
        tracer?.onTransactionStart(gasLimit: tx.gasLimit)
        let result = evm.call(Message(kind: .call, caller: sender, recipient: to, codeAddress: to, value: .zero, input: tx.data,
                                      gas: Int64(tx.gasLimit - tx.intrinsicGas), depth: 0))
        let gasUsed = tx.gasLimit - UInt64(result.gasLeft)
        tracer?.onTransactionEnd(gasUsed: gasUsed)
        return TransactionReceiptData(status: result.status, gasUsed: gasUsed, refunded: 0, logs: state.finishTransaction(),
                                      createdAddress: nil, output: result.output)
    }
}
