import KramaaPrimitives

/// geth's `callTracer` (`eth/tracers/native/call.go`): the tree of call frames of a message,
/// as plain values (the JSON form is the RPC layer's).
public final class CallTracer: SizedTracer {
    /// geth's `callTracerConfig`.
    public struct Config: Sendable, Equatable {
        /// Only the top frame; no calls below it.
        public var onlyTopCall: Bool
        /// Collect the logs of each frame (those of failed frames are dropped at the end).
        public var withLog: Bool

        public init(onlyTopCall: Bool = false, withLog: Bool = false) {
            self.onlyTopCall = onlyTopCall
            self.withLog = withLog
        }
    }

    /// A log, with `position`: how many calls of its frame came before it.
    public struct FrameLog: Sendable, Equatable {
        public var address: Address
        public var topics: [Bytes32]
        public var data: [UInt8]
        public var position: Int
    }

    /// One frame (geth's `callFrame`).
    public struct Frame: Sendable, Equatable {
        public var kind: CallKind
        /// geth's `type`: "CALL", "STATICCALL", "CREATE2"...
        public var type: String { Opcodes.name(kind) }
        public var from: Address
        /// Nil for a failed creation (as geth).
        public var to: Address?
        /// Nil for STATICCALL; a DELEGATECALL shows the value it inherits.
        public var value: UInt256?
        /// Gas given to the frame; for the top frame the transaction's gas limit when the
        /// runner reported it (`onTransactionStart`).
        public var gas: UInt64
        /// Gas the frame used; for the top frame the receipt's figure when reported
        /// (`onTransactionEnd`).
        public var gasUsed: UInt64
        public var input: [UInt8]
        /// Return data, or revert data; nil after an exceptional halt (or when empty on revert).
        public var output: [UInt8]?
        /// geth's text: "execution reverted", "out of gas", "invalid opcode: INVALID"...
        public var error: String?
        /// The decoded `Error(string)` (or `Panic(uint256)`) of a revert.
        public var revertReason: String?
        public var calls: [Frame] = []
        public var logs: [FrameLog] = []
    }

    public let config: Config
    /// The top frame once the message ended.
    public private(set) var result: Frame?
    private var stack: [Frame] = []
    private var depth = 0
    private var gasLimit: UInt64?
    /// About how many bytes the frames take as geth's JSON (what ``TraceBudget`` bounds).
    public private(set) var recordedBytes = 0

    public init(config: Config = Config()) {
        self.config = config
    }

    public func onTransactionStart(gasLimit: UInt64) {
        self.gasLimit = gasLimit
    }

    public func onTransactionEnd(gasUsed: UInt64) {
        result?.gasUsed = gasUsed
    }

    public func onEnter(_ frame: TraceFrameStart) {
        depth = frame.depth
        if config.onlyTopCall && frame.depth > 0 { return }
        var gas = UInt64(frame.gas)
        if frame.depth == 0, let gasLimit { gas = gasLimit }
        stack.append(Frame(kind: frame.kind, from: frame.from, to: frame.to, value: frame.value, gas: gas, gasUsed: 0,
                           input: frame.input))
        recordedBytes += 260 + 2 * frame.input.count
    }

    public func onExit(_ end: TraceFrameEnd) {
        depth = end.depth - 1
        if config.onlyTopCall && end.depth > 0 { return }
        guard var frame = stack.popLast() else { return }
        frame.gasUsed = UInt64(end.gasUsed)
        recordedBytes += 2 * end.output.count + (end.error?.utf8.count ?? 0)
        if let error = end.error {
            frame.error = error
            if frame.kind == .create || frame.kind == .create2 { frame.to = nil }
            if end.status == .revert && !end.output.isEmpty {
                frame.output = end.output
                frame.revertReason = Opcodes.revertReason(end.output)
            }
        } else {
            frame.output = end.output
        }
        if stack.isEmpty {
            if config.withLog { Self.dropFailedLogs(&frame, parentFailed: false) }
            result = frame
        } else {
            stack[stack.count - 1].calls.append(frame)
        }
    }

    public func onOpcode(_ step: TraceStep) {}

    public func onLog(_ log: Log) {
        guard config.withLog, !(config.onlyTopCall && depth > 0), !stack.isEmpty else { return }
        let top = stack.count - 1
        stack[top].logs.append(FrameLog(address: log.address, topics: log.topics, data: log.data, position: stack[top].calls.count))
        recordedBytes += 120 + 70 * log.topics.count + 2 * log.data.count
    }

    /// Logs of a failed frame, or of any frame below one, were undone (geth's `clearFailedLogs`).
    private static func dropFailedLogs(_ frame: inout Frame, parentFailed: Bool) {
        let failed = parentFailed || frame.error != nil
        if failed { frame.logs = [] }
        for i in frame.calls.indices { dropFailedLogs(&frame.calls[i], parentFailed: failed) }
    }
}
