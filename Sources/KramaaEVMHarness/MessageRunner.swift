import KramaaEVM
import KramaaPrimitives
import KramaaState

/// Runs `MessageCase`s on a fresh in-memory state each.
public struct MessageRunner {
    public let precompiles: [Address: PrecompileFunction]
    /// Messages run here: 1024 nested frames need far more stack than a default thread has,
    /// the more so in debug builds.
    private let thread = LargeStackThread(name: "kramaa-message-runner")

    /// `precompiles`: `Precompiles.cancun` (Kramaa's chain) or `Precompiles.ethereumCancun`.
    public init(precompiles: [Address: PrecompileFunction]) {
        self.precompiles = precompiles
    }

    /// The state root of the case's pre-state (what a failed or reverted message must leave).
    public func preStateRoot(_ c: MessageCase) -> Bytes32 {
        InMemoryState(pre: c.pre).stateRoot
    }

    /// Runs the message as the only one of a transaction: before the first instruction the
    /// caller, the called account, the coinbase (EIP-3651) and the precompiles are warm (as
    /// EIP-2929 makes them for a transaction's sender and recipient); no gas is bought, no
    /// intrinsic gas charged, no nonce bumped for a call. Afterwards the transaction ends
    /// (EIP-6780 deletions, EIP-161 cleanup) and the changes are committed.
    public func run(_ c: MessageCase) -> MessageOutcome {
        let backend = InMemoryState(pre: c.pre, blockHashes: FixtureJSON.blockHashes(below: c.block.number))
        let state = JournaledState(backend: backend)
        state.warm(c.caller)
        if let to = c.to { state.warm(to) }
        state.warm(c.block.coinbase)
        for address in precompiles.keys { state.warm(address) }
        let evm = EVM(state: state, block: c.block, transaction: c.transaction, precompiles: precompiles)
        let result: ExecutionResult = thread.run {
            if let to = c.to {
                return evm.call(Message(kind: .call, caller: c.caller, recipient: to, codeAddress: to, value: c.value,
                                        input: c.data, gas: c.gas, isStatic: c.isStatic))
            }
            return evm.create(caller: c.caller, value: c.value, initCode: c.data, gas: c.gas, salt: nil, depth: 0)
        }
        let refund = state.refund
        let touched = state.accounts.keys.sorted()
        let logs = state.finishTransaction()
        backend.commit(state)
        let post = touched.map { address in
            let account = backend.accounts[address]
            return (address, account, code: account.map { backend.code(hash: $0.info.codeHash) } ?? [])
        }
        return MessageOutcome(status: result.status, gas: c.gas, gasLeft: result.gasLeft, refund: refund,
                              output: result.output, createdAddress: result.createdAddress, logs: logs, post: post,
                              stateRoot: backend.stateRoot, instructions: evm.instructionsExecuted)
    }
}
