import KramaaPrimitives

/// Which compilation of the interpreter loop runs: `interpret` is generic over it and every
/// tracing statement sits behind `if Mode.traced`, so the untraced specialisation has none.
protocol InterpreterMode {
    static var traced: Bool { get }
}

/// The fast path: constant gas and stack bounds per basic block, no hooks.
enum UntracedMode: InterpreterMode {
    @inline(__always) static var traced: Bool { false }
}

/// An `EVMTracer` is set: per-instruction charging and hooks.
enum TracedMode: InterpreterMode {
    @inline(__always) static var traced: Bool { true }
}

/// The instruction being traced: where it is and the machine before it.
struct TraceStepRecord {
    var pc = 0
    var op: UInt8 = 0
    /// Gas before the instruction.
    var gas: Int64 = 0
    /// Stack height before the instruction.
    var sp = 0
    /// Memory size before the instruction.
    var memorySize = 0
    /// The cost given to `onOpcode`; nil until the instruction was reported.
    var reportedCost: Int64?
}

extension OpcodeTable {
    /// Instructions with a dynamic cost: traced, they are reported once it is charged.
    static func hasDynamicGas(_ op: UInt8) -> Bool {
        switch op {
        case 0x0a, 0x20, 0x31, 0x37, 0x39, 0x3b, 0x3c, 0x3e, 0x3f, 0x51, 0x52, 0x53, 0x54, 0x55, 0x5e: true
        case 0xa0...0xa4, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xfa, 0xfd, 0xff: true
        default: false
        }
    }
}

extension EVM {
    /// Runs a frame's code through the fast or the traced interpreter; `account` is the
    /// recipient's, whose storage the frame reaches.
    @inline(__always)
    func run(_ msg: Message, code: AnalyzedCode, account: CachedAccount) -> ExecutionResult {
        tracer == nil ? interpret(msg, code: code, account: account, mode: UntracedMode.self)
            : interpret(msg, code: code, account: account, mode: TracedMode.self)
    }

    /// geth's per-instruction stack check (`minStack`, `maxStack`).
    static func stackError(_ info: OpcodeInfo, sp: Int) -> EVMError? {
        if sp < info.inputs { return .stackUnderflow }
        if sp - info.inputs + info.outputs > Gas.stackLimit { return .stackOverflow }
        return nil
    }

    /// Reports a frame to the tracer around `body`, which runs it.
    func traceFrame(_ tracer: any EVMTracer, _ frame: TraceFrameStart, _ body: () -> ExecutionResult) -> ExecutionResult {
        tracer.onEnter(frame)
        traceFailureMessage = nil
        let result = body()
        let error: String? = switch result.status {
        case .success: nil
        case .revert: "execution reverted"
        case .failure(let e): traceFailureMessage ?? e.gethMessage
        }
        traceFailureMessage = nil
        let output = result.createdAddress.map { state.code($0).bytes } ?? result.output
        tracer.onExit(TraceFrameEnd(kind: frame.kind, depth: frame.depth, output: output, gasUsed: frame.gas - result.gasLeft,
                                    status: result.status, error: error, createdAddress: result.createdAddress))
        return result
    }

    /// geth's error for a failed precompile: the hash and copy precompiles (0x01-0x05) fail
    /// only for gas; the curve and blake2f ones also for bad input, which the function does
    /// not tell apart.
    static func precompileFailureMessage(_ address: Address) -> String {
        let n = UInt256(address)
        return n >= 1 && n <= 5 ? EVMError.outOfGas.gethMessage : "out of gas or invalid input"
    }

    /// Hands the instruction in `step` to the tracer: to `onOpcode` the first time (with
    /// `error` when it fails before running), to `onFault` when a reported one fails later.
    func traceInstruction(_ step: inout TraceStepRecord, cost: Int64, error: EVMError?, msg: Message,
                          stack: UnsafeMutablePointer<UInt256>, memory: UnsafeMutableRawPointer, returnData: [UInt8]) {
        guard let tracer else { return }
        var message: String?
        if let error {
            message = traceFailureMessage ?? detailedMessage(error, step)
            traceFailureMessage = message
        }
        let view = TraceStep(pc: step.pc, opcode: step.op, gas: step.gas, cost: step.reportedCost ?? cost, depth: msg.depth + 1,
                             refund: state.refund, error: error, errorMessage: message, contract: msg.recipient,
                             stack: UnsafeBufferPointer(start: stack, count: step.sp),
                             memory: UnsafeRawBufferPointer(start: memory, count: step.memorySize),
                             returnData: returnData, state: state)
        if step.reportedCost == nil {
            step.reportedCost = cost
            tracer.onOpcode(view)
        } else if error != nil {
            tracer.onFault(view)
        }
    }

    /// geth's text with the sizes it adds to stack errors.
    func detailedMessage(_ error: EVMError, _ step: TraceStepRecord) -> String {
        let info = OpcodeTable.entries[Int(step.op)]
        switch error {
        case .stackUnderflow: return "stack underflow (\(step.sp) <=> \(info.inputs))"
        case .stackOverflow: return "stack limit reached \(step.sp) (\(Gas.stackLimit + info.inputs - info.outputs))"
        default: return error.gethMessage
        }
    }
}
