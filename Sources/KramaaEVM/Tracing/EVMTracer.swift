import KramaaPrimitives

/// Receives what an `EVM` does while it is its `tracer`: every frame entered and left, every
/// instruction before it runs, every log, with the values geth's tracers see (`core/tracing`
/// hooks `OnEnter`, `OnExit`, `OnOpcode`, `OnFault`, `OnLog`, `OnTxStart`, `OnTxEnd`).
///
/// The hooks run synchronously inside the interpreter; a `TraceStep`'s stack and memory views
/// are valid only during the call. A tracer must not change the state it is given.
public protocol EVMTracer: AnyObject {
    /// A frame starts: the transaction's own message (depth 0), every CALL, CALLCODE,
    /// DELEGATECALL, STATICCALL, CREATE and CREATE2, precompile calls and calls that fail
    /// before running code (depth limit, balance) included.
    func onEnter(_ frame: TraceFrameStart)
    /// The frame last entered ends.
    func onExit(_ frame: TraceFrameEnd)
    /// An instruction is about to run: its gas, its whole cost (constant and dynamic) and the
    /// machine state before it. When the instruction fails before running (stack, gas), this
    /// is its only report and carries the error.
    func onOpcode(_ step: TraceStep)
    /// An instruction reported by `onOpcode` failed while running (invalid jump, write in a
    /// static frame, invalid opcode...). The step is the one reported, with the error.
    func onFault(_ step: TraceStep)
    /// A LOG instruction added this log (it goes away again if its frame or a parent fails).
    func onLog(_ log: Log)
    /// Called by whoever runs the transaction (not the EVM) before its first frame: the
    /// transaction's gas limit, which geth's call tracer reports as the top frame's gas.
    func onTransactionStart(gasLimit: UInt64)
    /// Called by whoever runs the transaction after it: the gas the receipt reports (intrinsic
    /// gas included, refund deducted), geth's top-frame `gasUsed` and struct-log `gas`.
    func onTransactionEnd(gasUsed: UInt64)
    /// Asked before every traced instruction: true makes the instruction fail (out of gas), so
    /// the run unwinds within a few steps (see ``TraceBudget``).
    var shouldStop: Bool { get }
}

extension EVMTracer {
    public var shouldStop: Bool { false }
    public func onFault(_ step: TraceStep) {}
    public func onLog(_ log: Log) {}
    public func onTransactionStart(gasLimit: UInt64) {}
    public func onTransactionEnd(gasUsed: UInt64) {}
}

/// A frame being entered.
public struct TraceFrameStart: Sendable {
    public var kind: CallKind
    /// The account that makes the call: the calling contract (for DELEGATECALL too, as in geth).
    public var from: Address
    /// The called account (the code's account for CALLCODE and DELEGATECALL) or the new contract.
    public var to: Address
    /// Call data, or the init code of a creation.
    public var input: [UInt8]
    /// Gas given to the frame (with the stipend of a value call).
    public var gas: Int64
    /// Wei sent; for DELEGATECALL the value it inherits (as geth reports it); nil for STATICCALL.
    public var value: UInt256?
    /// 0 for the transaction's message, 1 for its calls, ...
    public var depth: Int

    public init(kind: CallKind, from: Address, to: Address, input: [UInt8], gas: Int64, value: UInt256?, depth: Int) {
        self.kind = kind
        self.from = from
        self.to = to
        self.input = input
        self.gas = gas
        self.value = value
        self.depth = depth
    }

    init(_ msg: Message) {
        self.init(kind: msg.kind, from: msg.kind == .delegateCall ? msg.recipient : msg.caller, to: msg.codeAddress,
                  input: msg.input, gas: msg.gas, value: msg.kind == .staticCall ? nil : msg.value, depth: msg.depth)
    }
}

/// A frame being left.
public struct TraceFrameEnd: Sendable {
    public var kind: CallKind
    public var depth: Int
    /// Return data; the revert data of a revert; the deployed code of a successful creation;
    /// empty after an exceptional halt.
    public var output: [UInt8]
    /// Gas the frame consumed (all of it after an exceptional halt; none when it failed before
    /// running, as on the depth limit or a short balance).
    public var gasUsed: Int64
    public var status: ExecutionStatus
    /// geth's text of the error: "execution reverted", "out of gas", "invalid opcode: INVALID"...;
    /// nil on success.
    public var error: String?
    /// The new contract of a successful creation.
    public var createdAddress: Address?

    public init(kind: CallKind, depth: Int, output: [UInt8], gasUsed: Int64, status: ExecutionStatus, error: String?,
                createdAddress: Address?) {
        self.kind = kind
        self.depth = depth
        self.output = output
        self.gasUsed = gasUsed
        self.status = status
        self.error = error
        self.createdAddress = createdAddress
    }
}

/// One instruction as a tracer sees it, before it runs. `stack` and `memory` point into the
/// interpreter and are valid only during the hook; copy what you keep.
public struct TraceStep {
    public let pc: Int
    public let opcode: UInt8
    /// Gas left before the instruction.
    public let gas: Int64
    /// What it costs (geth's `gasCost`): constant and dynamic gas; for the CALL family also the
    /// gas forwarded to the callee (without the stipend). On an out-of-gas failure, the cost
    /// that did not fit.
    public let cost: Int64
    /// 1 for the transaction's own frame (geth's depth).
    public let depth: Int
    /// The refund counter, after the instruction's own change for SSTORE (as in geth).
    public let refund: Int64
    /// Why the instruction failed (`onOpcode` before running, `onFault` while running).
    public let error: EVMError?
    /// geth's text of `error` ("stack underflow (0 <=> 2)", "out of gas"...).
    public let errorMessage: String?
    /// The account whose storage the frame uses.
    public let contract: Address
    /// The stack, bottom first (the top is `stack.last`).
    public let stack: UnsafeBufferPointer<UInt256>
    /// The memory before the instruction expands it.
    public let memory: UnsafeRawBufferPointer
    /// The return data of the frame's last call.
    public let returnData: [UInt8]
    let state: JournaledState

    /// geth's name of the opcode ("PUSH1", "KECCAK256", "opcode 0xc not defined").
    public var opName: String { Opcodes.name(opcode) }

    /// The current value of a storage slot of `contract`.
    public func storage(_ slot: UInt256) -> UInt256 { state.storage(contract, slot) }
}
