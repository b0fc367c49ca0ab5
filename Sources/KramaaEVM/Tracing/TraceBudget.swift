/// Bounds on one traced run, so a trace request cannot hold the node's memory or CPU: a
/// deadline (geth's tracer `timeout`) and a size for what the tracer records, measured as the
/// bytes its JSON answer would take. Once either is passed the tracer asks the interpreter to
/// stop (``EVMTracer/shouldStop``): every frame fails at its next instruction, so the run ends
/// within a few steps and the caller answers ``exceeded`` instead of a result.
public final class TraceBudget {
    /// Why a traced run was stopped.
    public enum Exceeded: Error, Sendable, Equatable, CustomStringConvertible {
        /// The run took longer than its timeout.
        case timeout(Duration)
        /// What the tracer recorded passed `limit` bytes of JSON.
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case .timeout(let timeout):
                "execution timeout: the trace ran longer than its timeout (\(timeout)); give a longer \"timeout\" (e.g. \"30s\") or trace less"
            case .tooLarge(let limit):
                "trace result too large: more than \(limit) bytes; narrow it with \"disableStack\", \"disableStorage\", "
                    + "no \"enableMemory\", a step \"limit\", or the callTracer"
            }
        }
    }

    public let maxBytes: Int
    public let timeout: Duration
    private let deadline: ContinuousClock.Instant
    /// Why the run was stopped, once it was.
    public private(set) var exceeded: Exceeded?
    private var checks = 0

    public init(maxBytes: Int, timeout: Duration) {
        self.maxBytes = maxBytes
        self.timeout = timeout
        deadline = ContinuousClock.now + timeout
    }

    /// Whether the run must stop, given the bytes recorded so far. Reads the clock every 1,024
    /// calls (one call per traced instruction).
    func mustStop(recordedBytes: Int) -> Bool {
        if exceeded != nil { return true }
        if recordedBytes > maxBytes {
            exceeded = .tooLarge(limit: maxBytes)
        } else {
            checks &+= 1
            if checks & 1023 == 0 && ContinuousClock.now > deadline { exceeded = .timeout(timeout) }
        }
        return exceeded != nil
    }
}

/// A tracer that knows roughly how many bytes of JSON it has recorded (its answer's size).
public protocol SizedTracer: EVMTracer {
    var recordedBytes: Int { get }
}

/// Runs `inner` within `budget`: forwards every hook and stops the run once the budget is spent.
public final class BudgetedTracer: EVMTracer {
    public let inner: any SizedTracer
    public let budget: TraceBudget

    public init(_ inner: any SizedTracer, budget: TraceBudget) {
        self.inner = inner
        self.budget = budget
    }

    public var shouldStop: Bool { budget.mustStop(recordedBytes: inner.recordedBytes) }
    public func onEnter(_ frame: TraceFrameStart) { inner.onEnter(frame) }
    public func onExit(_ frame: TraceFrameEnd) { inner.onExit(frame) }
    public func onOpcode(_ step: TraceStep) { inner.onOpcode(step) }
    public func onFault(_ step: TraceStep) { inner.onFault(step) }
    public func onLog(_ log: Log) { inner.onLog(log) }
    public func onTransactionStart(gasLimit: UInt64) { inner.onTransactionStart(gasLimit: gasLimit) }
    public func onTransactionEnd(gasUsed: UInt64) { inner.onTransactionEnd(gasUsed: gasUsed) }
}
