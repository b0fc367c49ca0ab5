import KramaaJSON
import KramaaAuth
import KramaaChain
import KramaaEVM
import KramaaNode
import KramaaPrimitives
import KramaaRPC
import KramaaState

/// debug_traceTransaction and debug_traceCall with geth's two built-in tracers: the default
/// struct logger (one entry per instruction) and `callTracer` (the tree of calls).
/// Bounds on debug_trace* answers: the JSON a tracer may record, and how long a trace may run
/// when the request gives no `timeout` (geth's default, 5 s).
public struct TraceLimits: Sendable, Equatable {
    /// Bytes of JSON a trace may record before it is stopped with a `trace result too large`
    /// error (under the 25 MB any answer may take). Without it a 66 KB request made a 484 MB answer.
    public var maxResultBytes = 20_000_000
    public var defaultTimeout: Duration = .seconds(5)

    public init() {}
}

extension EthAPI {
    /// A trace configuration (geth's TraceConfig / TraceCallConfig) and the tracer it asks for.
    struct TraceOptions {
        enum Kind { case structLogger(StructLogger.Config), callTracer(CallTracer.Config) }
        var kind: Kind = .structLogger(StructLogger.Config())
        var overrides: [Address: AccountOverride] = [:]
        var limits: TraceLimits
        /// geth's `timeout` option (`"5s"`, `"300ms"`, `"1m30s"`).
        var timeout: Duration

        init(json: JSON?, limits: TraceLimits) throws {
            self.limits = limits
            timeout = limits.defaultTimeout
            guard let json, !json.isNull else { return }
            guard let o = json.objectValue else { throw RPCParamTypeError(found: json.kindName, expected: "tracers.TraceConfig") }
            func flag(_ name: String, in object: JSONObject = o) -> Bool { object[name]?.boolValue ?? false }
            if let t = o["timeout"], !t.isNull {
                guard let text = t.stringValue, let duration = GoDuration.parse(text), duration >= .zero else {
                    throw RPCError.invalidParams("invalid timeout \(t): give a duration such as \"5s\", \"300ms\" or \"1m30s\"")
                }
                timeout = duration
            }
            if let s = o["stateOverrides"], !s.isNull { overrides = try AccountOverride.set(json: s) }
            if let b = o["blockOverrides"], !b.isNull { throw RPCError.invalidParams("block overrides are not supported") }
            switch o["tracer"]?.stringValue {
            case nil, "":
                var config = StructLogger.Config()
                config.disableStack = flag("disableStack")
                config.disableStorage = flag("disableStorage")
                config.enableMemory = flag("enableMemory")
                config.enableReturnData = flag("enableReturnData")
                config.limit = o["limit"]?.numberValue?.int ?? 0
                kind = .structLogger(config)
            case "callTracer":
                let c = o["tracerConfig"]?.objectValue ?? [:]
                kind = .callTracer(CallTracer.Config(onlyTopCall: flag("onlyTopCall", in: c), withLog: flag("withLog", in: c)))
            case let name?:
                throw RPCError.server("tracer not found: \(name) (built in: the default struct logger and callTracer)")
            }
        }

        /// Runs `body` with the tracer, within the limits, and formats what it recorded; a run
        /// stopped by the limits answers why (-32000) instead.
        func run(_ body: (EVMTracer) throws -> TransactionReceiptData) throws -> JSON {
            let budget = TraceBudget(maxBytes: limits.maxResultBytes, timeout: timeout)
            func bounded(_ tracer: some SizedTracer) throws -> TransactionReceiptData {
                let result = try body(BudgetedTracer(tracer, budget: budget))
                if let exceeded = budget.exceeded { throw RPCError.server(exceeded.description) }
                return result
            }
            switch kind {
            case .structLogger(let config):
                let logger = StructLogger(config: config)
                let result = try bounded(logger)
                return .object([
                    "gas": .number(JSONNumber(result.gasUsed)), "failed": .bool(!result.success),
                    "returnValue": .data(result.status == .failure(.outOfGas) || !result.success && result.status != .revert ? [] : result.output),
                    "structLogs": .array(logger.steps.map(EthAPI.structLog)),
                ])
            case .callTracer(let config):
                let tracer = CallTracer(config: config)
                _ = try bounded(tracer)
                return tracer.result.map(EthAPI.callFrame) ?? .null
            }
        }
    }

    static func structLog(_ s: StructLogger.Step) -> JSON {
        var o: JSONObject = [
            "pc": .number(JSONNumber(s.pc)), "op": .string(s.op), "gas": .number(JSONNumber(s.gas)),
            "gasCost": .number(JSONNumber(s.gasCost)), "depth": .number(JSONNumber(s.depth)),
        ]
        if let error = s.error { o["error"] = .string(error) }
        if let stack = s.stack { o["stack"] = .array(stack.map { .quantity($0) }) }
        if let returnData = s.returnData { o["returnData"] = .data(returnData) }
        if let memory = s.memory { o["memory"] = .array(memory.map { .string(Hex.encode($0.bytes, prefix: false)) }) }
        if let storage = s.storage {
            o["storage"] = .object(JSONObject(storage.sorted { $0.key < $1.key }.map { slot, value in
                (Hex.encode(slot.bigEndianBytes, prefix: false), JSON.string(Hex.encode(value.bigEndianBytes, prefix: false)))
            }))
        }
        if s.refund > 0 { o["refund"] = .number(JSONNumber(s.refund)) }
        return .object(o)
    }

    static func callFrame(_ f: CallTracer.Frame) -> JSON {
        var o: JSONObject = ["type": .string(f.type), "from": .address(f.from), "gas": .quantity(f.gas), "gasUsed": .quantity(f.gasUsed)]
        if let to = f.to { o["to"] = .address(to) }
        o["input"] = .data(f.input)
        if let output = f.output, !output.isEmpty { o["output"] = .data(output) }
        if let error = f.error { o["error"] = .string(error) }
        if let reason = f.revertReason { o["revertReason"] = .string(reason) }
        if !f.calls.isEmpty { o["calls"] = .array(f.calls.map(callFrame)) }
        if !f.logs.isEmpty {
            o["logs"] = .array(f.logs.map { log in
                .object(["address": .address(log.address), "topics": .array(log.topics.map { .hash($0) }), "data": .data(log.data),
                         "position": .quantity(log.position)])
            })
        }
        if let value = f.value { o["value"] = .quantity(value) }
        return .object(o)
    }

    func registerTracing(_ r: inout RPCRouter) {
        let node = self.node
        r.register("debug_traceTransaction") { [self] p, c in
            _ = try access.authorize(c.credentials, for: .admin)
            try p.expect(atMost: 2)
            let hash = try p.decode(0, as: Bytes32.self)
            let options = try TraceOptions(json: p[1], limits: traceLimits)
            return try options.run { tracer in
                guard let result = try node.trace(transaction: hash, tracer: tracer) else { throw RPCError.server("transaction not found") }
                return result
            }
        }
        r.register("debug_traceCall") { [self] p, c in
            _ = try access.authorize(c.credentials, for: .admin)
            try p.expect(atMost: 3)
            let args = try p.decode(0, as: TransactionArgs.self)
            let number = try stateBlock(p, 1)
            let options = try TraceOptions(json: p[2], limits: traceLimits)
            let tx = args.transaction(chainId: node.chainId, gas: min(args.gas ?? gasCap, gasCap), nonce: args.nonce ?? 0)
            return try options.run { tracer in
                try node.trace(call: tx, from: args.from ?? .zero, at: number, overrides: options.overrides, tracer: tracer)
            }
        }
    }
}

/// Go's `time.ParseDuration` syntax, which geth's `timeout` option takes: a sequence of decimal
/// numbers with units (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), optionally signed; `"0"` alone.
enum GoDuration {
    static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return .zero }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number.hasPrefix(".") ? "0" + number : String(number)) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = rest.dropFirst(unit.count)
            let nanoseconds: Double
            switch unit {
            case "ns": nanoseconds = 1
            case "us", "µs", "μs": nanoseconds = 1e3
            case "ms": nanoseconds = 1e6
            case "s": nanoseconds = 1e9
            case "m": nanoseconds = 60e9
            case "h": nanoseconds = 3600e9
            default: return nil
            }
            total += value * nanoseconds
        }
        guard total < 1e18 else { return nil }
        return .nanoseconds(Int64(negative ? -total : total))
    }
}
