import KramaaPrimitives

/// The Ethereum Virtual Machine at the Cancun fork: runs messages (calls and creates) against
/// a `JournaledState`. Pure: no I/O, no clocks; everything it reads comes from the state, the
/// block and the transaction context.
public final class EVM {
    public let state: JournaledState
    public let block: BlockContext
    public var transaction: TransactionContext
    let precompiles: [Address: PrecompileFunction]
    let systemContracts: [Address: any SystemContract]
    /// Instructions of the basic blocks this EVM entered, over all frames (for fuzzers and
    /// benchmarks; counted per block, so a block left by an exceptional halt counts in full).
    public internal(set) var instructionsExecuted: UInt64 = 0
    /// Receives every frame, instruction and log while set (`debug_traceTransaction`); messages
    /// then run through the traced compilation of the interpreter, with the same results. Nil
    /// (the default) runs the fast interpreter.
    public var tracer: (any EVMTracer)?
    /// geth's text for the failure of the frame being left, when it says more than the
    /// `EVMError` (stack sizes, the reentrancy sentry, code storage); traced runs only.
    var traceFailureMessage: String?

    /// EIP-170: the longest deployed code.
    public static let maxCodeSize = Gas.maxCodeSize
    /// EIP-3860: the longest init code.
    public static let maxInitCodeSize = Gas.maxInitCodeSize

    public init(state: JournaledState, block: BlockContext, transaction: TransactionContext,
                precompiles: [Address: PrecompileFunction] = [:], systemContracts: SystemContracts = .none) {
        self.state = state
        self.block = block
        self.transaction = transaction
        self.precompiles = precompiles
        self.systemContracts = systemContracts.byAddress
    }

    /// Runs a CALL-family message: value transfer, then the code at `codeAddress` (or a precompile).
    /// On failure or revert, every state change of the frame is undone.
    public func call(_ msg: Message) -> ExecutionResult {
        guard let tracer else { return callFrame(msg) }
        return traceFrame(tracer, TraceFrameStart(msg)) { callFrame(msg) }
    }

    func callFrame(_ msg: Message) -> ExecutionResult {
        if msg.depth > Gas.maxDepth { return ExecutionResult(status: .failure(.callDepthExceeded), gasLeft: msg.gas) }
        if msg.transfersValue && !msg.value.isZero && state.balance(msg.caller) < msg.value {
            return ExecutionResult(status: .failure(.insufficientBalance), gasLeft: msg.gas)
        }
        let snapshot = state.snapshot()
        let precompile = precompiles[msg.codeAddress]
        let recipient = state.account(msg.recipient)  // looked up once for the frame
        if msg.kind == .call {
            if !recipient.exists && precompile == nil && msg.value.isZero {
                // EIP-158: calling a missing account with no value creates nothing.
                return ExecutionResult(status: .success, gasLeft: msg.gas)
            }
        }
        if msg.transfersValue {
            _ = state.transfer(from: msg.caller, to: msg.recipient, value: msg.value)
        }
        var result: ExecutionResult
        if !systemContracts.isEmpty, let system = systemContracts[msg.codeAddress] {
            result = runSystemContract(system, msg)
        } else if let precompile {
            if let (used, output) = precompile(msg.input, msg.gas), used <= msg.gas {
                result = ExecutionResult(status: .success, gasLeft: msg.gas - used, output: output)
            } else {
                result = ExecutionResult(status: .failure(.precompileFailure), gasLeft: 0)
                if tracer != nil { traceFailureMessage = EVM.precompileFailureMessage(msg.codeAddress) }
            }
        } else {
            let code = msg.codeAddress == msg.recipient ? state.code(of: recipient) : state.code(msg.codeAddress)
            result = code.bytes.isEmpty ? ExecutionResult(status: .success, gasLeft: msg.gas) : run(msg, code: code, account: recipient)
        }
        if result.status != .success {
            state.revert(to: snapshot)
            if case .failure = result.status { result.gasLeft = 0 }
        }
        return result
    }

    /// The address CREATE gives: keccak256(rlp([sender, nonce]))[12...].
    public static func createAddress(sender: Address, nonce: UInt64) -> Address {
        var w = RLPWriter()
        w.appendList { w in
            w.append(address: sender)
            w.append(uint: nonce)
        }
        return try! Address(Keccak256.hash(w.bytes).bytes[12...])
    }

    /// The address CREATE2 gives: keccak256(0xff ‖ sender ‖ salt ‖ keccak256(initCode))[12...].
    public static func create2Address(sender: Address, salt: UInt256, initCode: [UInt8]) -> Address {
        var buffer: [UInt8] = [0xff]
        buffer += sender.bytes
        buffer += salt.bigEndianBytes
        buffer += Keccak256.hash(initCode).bytes
        return try! Address(Keccak256.hash(buffer).bytes[12...])
    }

    /// Runs contract creation from `caller`: new address, init code, code deposit (EIP-170 size,
    /// EIP-3541 no 0xEF prefix). `salt` selects CREATE2.
    public func create(caller: Address, value: UInt256, initCode: [UInt8], gas: Int64, salt: UInt256?, depth: Int) -> ExecutionResult {
        guard let tracer else { return createFrame(caller: caller, value: value, initCode: initCode, gas: gas, salt: salt, depth: depth) }
        // geth reports the new address on entry, even when the creation fails before using it.
        let address = salt.map { EVM.create2Address(sender: caller, salt: $0, initCode: initCode) }
            ?? EVM.createAddress(sender: caller, nonce: state.nonce(caller))
        let frame = TraceFrameStart(kind: salt == nil ? .create : .create2, from: caller, to: address, input: initCode,
                                    gas: gas, value: value, depth: depth)
        return traceFrame(tracer, frame) {
            createFrame(caller: caller, value: value, initCode: initCode, gas: gas, salt: salt, depth: depth)
        }
    }

    func createFrame(caller: Address, value: UInt256, initCode: [UInt8], gas: Int64, salt: UInt256?, depth: Int) -> ExecutionResult {
        if depth > Gas.maxDepth { return ExecutionResult(status: .failure(.callDepthExceeded), gasLeft: gas) }
        if state.balance(caller) < value { return ExecutionResult(status: .failure(.insufficientBalance), gasLeft: gas) }
        let nonce = state.nonce(caller)
        if nonce == UInt64.max { return ExecutionResult(status: .failure(.nonceOverflow), gasLeft: gas) }
        let address = salt.map { EVM.create2Address(sender: caller, salt: $0, initCode: initCode) }
            ?? EVM.createAddress(sender: caller, nonce: nonce)
        state.setNonce(caller, nonce + 1)
        state.warm(address)
        if state.hasCollision(address) {
            return ExecutionResult(status: .failure(.contractAddressCollision), gasLeft: 0)
        }
        let snapshot = state.snapshot()
        state.createContractAccount(address)
        _ = state.transfer(from: caller, to: address, value: value)
        let msg = Message(kind: salt == nil ? .create : .create2, caller: caller, recipient: address, codeAddress: address,
                          value: value, input: [], gas: gas, depth: depth)
        var result = initCode.isEmpty ? ExecutionResult(status: .success, gasLeft: gas)
            : run(msg, code: AnalyzedCode(initCode, hash: nil), account: state.account(address))
        if result.status == .success {
            let code = result.output
            let depositCost = Gas.codeDeposit * Int64(code.count)
            if code.count > Gas.maxCodeSize {
                result = ExecutionResult(status: .failure(.codeSizeExceeded), gasLeft: 0)
            } else if code.first == 0xef {
                result = ExecutionResult(status: .failure(.invalidCodePrefix), gasLeft: 0)
            } else if result.gasLeft < depositCost {
                if tracer != nil { traceFailureMessage = "contract creation code storage out of gas" }
                result = ExecutionResult(status: .failure(.outOfGas), gasLeft: 0)
            } else {
                result.gasLeft -= depositCost
                state.setCode(address, code)
                result.createdAddress = address
                result.output = []
                return result
            }
        }
        state.revert(to: snapshot)
        if case .failure = result.status { result.gasLeft = 0 }
        return result
    }
}
