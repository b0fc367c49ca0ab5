import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState

/// A chain in memory for contract tests: funded keys, the given system contracts installed
/// at genesis, and blocks built from calls signed by those keys, as a node would build them.
public final class ContractChain {
    public static let chainId: UInt64 = 1337
    public let keys: [Secp256k1.PrivateKey]
    public let executor: BlockExecutor
    public let state = InMemoryState()
    public private(set) var head: BlockHeader
    /// The same chain behind `ChainProvider` (each mined block appended with its state).
    public let provider: InMemoryChain

    public var addresses: [Address] { keys.map { $0.publicKey.address } }

    /// - Parameter validators: indices of `keys` that are the genesis validators.
    public init(contracts: SystemContracts, keyCount: Int = 4, validators: [Int] = []) {
        let keys = (1...keyCount).map { i in
            try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [UInt8(i)])
        }
        self.keys = keys
        var config = ChainConfig(chainId: Self.chainId)
        config.validators = validators.map { keys[$0].publicKey.address }
        var genesis = Genesis(config: config)
        for key in keys { genesis.alloc[key.publicKey.address] = Genesis.Allocation(balance: UInt256(10_000_000_000_000_000_000 as UInt64)) }
        executor = BlockExecutor(config: config, systemContracts: contracts)
        let block = genesis.installing(contracts).makeBlock(into: state)
        head = block.header
        provider = InMemoryChain(chainId: Self.chainId, genesis: block, state: state.snapshot())
    }

    /// Mines one block holding a call from each `(key, to, calldata)`, `seconds` after the head
    /// (block time); returns the block.
    @discardableResult
    public func mine(_ calls: [(key: Int, to: Address, data: [UInt8])] = [], after seconds: UInt64 = 1) -> ExecutedBlock {
        var sent: [Int: UInt64] = [:]
        let txs = calls.map { call -> SignedTransaction in
            defer { sent[call.key, default: 0] += 1 }
            return transaction(call.key, to: call.to, data: call.data, nonceOffset: sent[call.key] ?? 0)
        }
        return mine(signed: txs, after: seconds)
    }

    /// A transaction from key `key` with its next nonce (plus `nonceOffset`), signed.
    public func transaction(_ key: Int, to: Address, value: UInt256 = .zero, data: [UInt8] = [], nonceOffset: UInt64 = 0) -> SignedTransaction {
        let nonce = (state.account(addresses[key])?.nonce ?? 0) + nonceOffset
        let tx = Transaction(type: .dynamicFee, chainId: Self.chainId, nonce: nonce, maxPriorityFeePerGas: UInt256(1),
                             maxFeePerGas: UInt256(10_000_000_000 as UInt64), gasLimit: 2_000_000, to: to, value: value, data: data)
            .signed(with: keys[key])
        return SignedTransaction(tx, sender: addresses[key])
    }

    /// Mines one block of `txs` (those the rules refuse are left out, see `rejected`).
    @discardableResult
    public func mine(signed txs: [SignedTransaction], after seconds: UInt64 = 1) -> ExecutedBlock {
        let built = executor.build(executor.childHeader(of: head, timestamp: head.timestamp + seconds, coinbase: .zero),
                                   candidates: txs, state: state)
        _ = state.takeChanges()
        head = built.block.header
        provider.append(built, state: state.snapshot())
        return built
    }

    /// Imports a block built elsewhere as a validator does (every root and system transaction
    /// checked); on failure nothing changes.
    @discardableResult
    public func importBlock(_ block: Block) throws -> ExecutedBlock {
        let senders = try block.transactions.map { try $0.validatedSender(chainId: Self.chainId) }
        do {
            let executed = try executor.execute(block, senders: senders, parent: head, state: state)
            _ = state.takeChanges()
            head = block.header
            provider.append(executed, state: state.snapshot())
            return executed
        } catch {
            state.discardChanges()
            throw error
        }
    }

    /// One call in its own block; returns (success, output, logs). A transaction the chain's
    /// rules refuse before it runs (a device policy, a revoked device key) is not included: it
    /// comes back as a failure whose revert reason is the refusal, without logs.
    @discardableResult
    public func send(_ key: Int, _ to: Address, _ data: [UInt8]) -> (success: Bool, output: [UInt8], logs: [Log]) {
        let block = mine([(key, to, data)])
        guard let receipt = block.receipts.first else {
            return (false, ABI.errorString(block.rejected.first.map { $0.error.description } ?? "not included"), [])
        }
        return (receipt.success, block.outcomes[0].output, receipt.logs)
    }

    /// A read-only call against the head state (not mined).
    public func read(_ to: Address, _ data: [UInt8], from: Address = .zero) -> ExecutionResult {
        let journal = JournaledState(backend: state, codeCache: CodeCache())
        let evm = EVM(state: journal, block: executor.context(head), transaction: TransactionContext(origin: from, gasPrice: .zero),
                      precompiles: executor.precompiles, systemContracts: executor.systemContracts)
        return evm.call(Message(kind: .staticCall, caller: from, recipient: to, codeAddress: to, value: .zero,
                                input: data, gas: 10_000_000, isStatic: true))
    }

    /// A contract's storage slots now (to show that a refused call changed nothing).
    public func storage(_ address: Address) -> [UInt256: UInt256] { state.accounts[address]?.storage ?? [:] }

    /// The reason of a Solidity `Error(string)` revert, or nil.
    public static func revertReason(_ output: [UInt8]) -> String? {
        guard output.count >= 4, Array(output.prefix(4)) == ABI.selector("Error(string)") else { return nil }
        var decoder = ABIDecoder(calldata: output)
        return try? decoder.nextString()
    }
}

/// A typed contract client's caller over a `ContractChain`: reads on the head state as
/// `key`'s account, writes mined in a block of their own, signed by `key`.
public struct ContractChainCaller: ContractCaller, @unchecked Sendable {
    public let chain: ContractChain
    public let key: Int

    public init(_ chain: ContractChain, key: Int) {
        self.chain = chain
        self.key = key
    }

    public func call(_ contract: Address, _ data: [UInt8]) throws(ContractCallError) -> [UInt8] {
        let result = chain.read(contract, data, from: chain.addresses[key])
        guard result.status == .success else { throw .reverted(reason: ContractChain.revertReason(result.output)) }
        return result.output
    }

    public func send(_ contract: Address, _ data: [UInt8]) async throws(ContractCallError) -> ContractReceipt {
        let block = chain.mine([(key, contract, data)])
        guard block.receipts[0].success else { throw .reverted(reason: ContractChain.revertReason(block.outcomes[0].output)) }
        return ContractReceipt(transactionHash: block.block.transactions[0].hash, blockNumber: block.block.number, output: block.outcomes[0].output)
    }
}
