import KramaaPrimitives

/// geth's default tracer (`eth/tracers/logger.StructLogger`): one entry per instruction, with
/// the machine state before it. Plain values; the JSON form is the RPC layer's.
public final class StructLogger: SizedTracer {
    /// geth's `logger.Config`.
    public struct Config: Sendable, Equatable {
        public var disableStack: Bool
        public var disableStorage: Bool
        public var enableMemory: Bool
        public var enableReturnData: Bool
        /// At most this many steps are kept; 0 for no limit.
        public var limit: Int

        public init(disableStack: Bool = false, disableStorage: Bool = false, enableMemory: Bool = false,
                    enableReturnData: Bool = false, limit: Int = 0) {
            self.disableStack = disableStack
            self.disableStorage = disableStorage
            self.enableMemory = enableMemory
            self.enableReturnData = enableReturnData
            self.limit = limit
        }
    }

    /// One instruction (geth's `StructLogRes`).
    public struct Step: Sendable, Equatable {
        public var pc: Int
        /// geth's opcode name ("PUSH1", "SSTORE", "KECCAK256").
        public var op: String
        /// Gas left before the instruction.
        public var gas: UInt64
        /// Its cost, as `TraceStep.cost`.
        public var gasCost: UInt64
        /// 1 for the transaction's own frame.
        public var depth: Int
        /// The stack, bottom first; nil with `disableStack`.
        public var stack: [UInt256]?
        /// Memory as 32-byte words; nil unless `enableMemory`.
        public var memory: [Bytes32]?
        /// The last call's return data; nil unless `enableReturnData` (or when empty, as geth).
        public var returnData: [UInt8]?
        /// At SLOAD and SSTORE only (and not with `disableStorage`): every slot of this contract
        /// the trace has seen loaded or stored so far, with the value read or being written.
        public var storage: [UInt256: UInt256]?
        public var refund: UInt64
        /// Why the instruction failed before running (geth's text).
        public var error: String?

        public init(pc: Int, op: String, gas: UInt64, gasCost: UInt64, depth: Int, stack: [UInt256]? = nil,
                    memory: [Bytes32]? = nil, returnData: [UInt8]? = nil, storage: [UInt256: UInt256]? = nil,
                    refund: UInt64 = 0, error: String? = nil) {
            self.pc = pc
            self.op = op
            self.gas = gas
            self.gasCost = gasCost
            self.depth = depth
            self.stack = stack
            self.memory = memory
            self.returnData = returnData
            self.storage = storage
            self.refund = refund
            self.error = error
        }
    }

    public let config: Config
    public private(set) var steps: [Step] = []
    /// The top frame's output (return or revert data).
    public private(set) var output: [UInt8] = []
    /// The top frame's error (geth's text); nil when it succeeded.
    public private(set) var error: String?
    /// Gas the transaction used: `onTransactionEnd`'s figure, else what the top frame consumed.
    public private(set) var gasUsed: UInt64 = 0
    private var storage: [Address: [UInt256: UInt256]] = [:]
    /// About how many bytes the steps take as geth's JSON (what ``TraceBudget`` bounds).
    public private(set) var recordedBytes = 0

    public init(config: Config = Config()) {
        self.config = config
    }

    /// Whether the transaction failed (reverted included): geth's `failed`.
    public var failed: Bool { error != nil }

    /// geth's `returnValue`: the output, unless the top frame halted exceptionally.
    public var returnValue: [UInt8] {
        error == nil || error == "execution reverted" ? output : []
    }

    public func onEnter(_ frame: TraceFrameStart) {}

    public func onExit(_ frame: TraceFrameEnd) {
        guard frame.depth == 0 else { return }
        output = frame.output
        error = frame.error
        gasUsed = UInt64(frame.gasUsed)
    }

    public func onTransactionEnd(gasUsed: UInt64) {
        self.gasUsed = gasUsed
    }

    public func onOpcode(_ step: TraceStep) {
        if config.limit != 0 && steps.count >= config.limit { return }
        var entry = Step(pc: step.pc, op: step.opName, gas: UInt64(step.gas), gasCost: UInt64(step.cost), depth: step.depth,
                         refund: UInt64(max(0, step.refund)), error: step.errorMessage)
        if !config.disableStack { entry.stack = Array(step.stack) }
        if config.enableMemory {
            entry.memory = stride(from: 0, to: step.memory.count, by: 32).map {
                Bytes32(copying: UnsafeRawBufferPointer(rebasing: step.memory[$0..<$0 + 32]))
            }
        }
        if config.enableReturnData && !step.returnData.isEmpty { entry.returnData = step.returnData }
        if !config.disableStorage, let slots = storageSeen(step) { entry.storage = slots }
        recordedBytes += Self.jsonSize(entry)
        steps.append(entry)
    }

    /// The size of a step's JSON object: its fixed members, 64 hex digits per stack item,
    /// memory word and storage value, two per return-data byte.
    static func jsonSize(_ step: Step) -> Int {
        var size = 80 + step.op.utf8.count + (step.error?.utf8.count ?? 0)
        size += (step.stack?.count ?? 0) * 70 + (step.memory?.count ?? 0) * 68
        size += (step.returnData?.count ?? 0) * 2 + (step.storage?.count ?? 0) * 136
        return size
    }

    /// Records the slot an SLOAD reads or an SSTORE writes; the contract's slots seen so far.
    private func storageSeen(_ step: TraceStep) -> [UInt256: UInt256]? {
        let height = step.stack.count
        switch step.opcode {
        case 0x54 where height >= 1:
            let slot = step.stack[height - 1]
            storage[step.contract, default: [:]][slot] = step.storage(slot)
        case 0x55 where height >= 2:
            storage[step.contract, default: [:]][step.stack[height - 1]] = step.stack[height - 2]
        default:
            return nil
        }
        return storage[step.contract]
    }
}
