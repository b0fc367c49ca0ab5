import KramaaEVMHarness
import KramaaPrimitives
import Testing
@testable import KramaaEVM

/// Records every hook, to check what the EVM reports and in which order.
final class RecordingTracer: EVMTracer {
    var events: [String] = []
    var steps: [(op: UInt8, gas: Int64, cost: Int64, depth: Int, error: EVMError?)] = []
    var faults: [EVMError] = []
    var exits: [TraceFrameEnd] = []

    func onEnter(_ frame: TraceFrameStart) { events.append("enter \(Opcodes.name(frame.kind)) depth \(frame.depth)") }
    func onExit(_ frame: TraceFrameEnd) {
        events.append("exit depth \(frame.depth) \(frame.error ?? "ok")")
        exits.append(frame)
    }
    func onOpcode(_ step: TraceStep) { steps.append((step.opcode, step.gas, step.cost, step.depth, step.error)) }
    func onFault(_ step: TraceStep) { faults.append(step.error!) }
}

/// A failure's kind may differ between the two runs: the untraced interpreter checks a basic
/// block's gas and stack on entry, the traced one each instruction (as geth), so a block that
/// fails at once may fail for another reason instruction by instruction. Either way the frame
/// fails with all its gas consumed and its changes undone, so all else must be equal.
func comparable(_ effects: MessageEffects) -> MessageEffects {
    var e = effects
    if case .failure = e.status { e.status = .failure(.outOfGas) }
    return e
}

/// Consecutive steps of one frame: each non-call instruction leaves gas - gasCost.
func checkGasChain(_ steps: [StructLogger.Step], _ context: String) {
    let calls: Set<String> = ["CALL", "CALLCODE", "DELEGATECALL", "STATICCALL", "CREATE", "CREATE2"]
    for (step, next) in zip(steps, steps.dropFirst())
    where step.error == nil && next.depth == step.depth && !calls.contains(step.op) {
        #expect(next.gas == step.gas - step.gasCost, "\(context): \(step.op) at pc \(step.pc)")
    }
}

@Suite struct TracingTests {
    typealias A = TraceAccounts

    @Test func tracedRunsMatchUntracedRunsOnRandomPrograms() {
        var generator = TraceProgramGenerator(rng: SplitMix64(seed: 2024))
        var failures = 0, successes = 0, steps = 0, deepSteps = 0
        for seed in 0..<400 {
            let pre = tracePre(a: generator.program(length: 5 + generator.below(40)),
                               b: generator.program(length: 2 + generator.below(25)),
                               c: generator.program(length: 1 + generator.below(10)))
            let gas = Int64([21_000, 80_000, 300_000, 1_000_000][generator.below(4)])
            let input = (0..<generator.below(40)).map { _ in UInt8(truncatingIfNeeded: generator.rng.next()) }
            let value = UInt256(UInt64(generator.below(3)))
            let plain = runMessage(pre, to: A.a, input: input, gas: gas, value: value)
            let logger = StructLogger(config: .init(enableMemory: true, enableReturnData: true))
            let traced = runMessage(pre, to: A.a, input: input, gas: gas, value: value, tracer: logger)
            #expect(comparable(traced) == comparable(plain), "seed \(seed)")
            if case .failure = plain.status { failures += 1 }
            steps += logger.steps.count
            deepSteps += logger.steps.filter { $0.depth > 1 }.count
            if plain.status == .success { successes += 1 }
            checkGasChain(logger.steps, "seed \(seed)")
            #expect(logger.steps.first?.gas == UInt64(gas))
            #expect(logger.gasUsed == UInt64(gas - traced.gasLeft))
        }
        // The programs reach every outcome, run for a while and run code in calls and creations.
        #expect(failures > 40 && successes > 40 && 400 - failures - successes > 20)
        #expect(steps > 20_000 && deepSteps > 2_000)
    }

    @Test func structLogsOfAStorageWriteAreGeths() {
        // PUSH1 1 PUSH1 2 ADD PUSH1 0 SSTORE STOP; slot 0 of C is cold and zero: 2100 + 20000.
        let logger = StructLogger()
        let effects = runMessage(tracePre(a: [], c: bytes("600160020160005500")), to: A.c, gas: 100_000, tracer: logger)
        #expect(effects.status == .success)
        #expect(effects.gasLeft == 77_888)
        let expected: [StructLogger.Step] = [
            .init(pc: 0, op: "PUSH1", gas: 100_000, gasCost: 3, depth: 1, stack: []),
            .init(pc: 2, op: "PUSH1", gas: 99_997, gasCost: 3, depth: 1, stack: [1]),
            .init(pc: 4, op: "ADD", gas: 99_994, gasCost: 3, depth: 1, stack: [1, 2]),
            .init(pc: 5, op: "PUSH1", gas: 99_991, gasCost: 3, depth: 1, stack: [3]),
            .init(pc: 7, op: "SSTORE", gas: 99_988, gasCost: 22_100, depth: 1, stack: [3, 0], storage: [0: 3]),
            .init(pc: 8, op: "STOP", gas: 77_888, gasCost: 0, depth: 1, stack: []),
        ]
        #expect(logger.steps == expected)
        #expect(logger.gasUsed == 22_112)
        #expect(!logger.failed)
    }

    @Test func structLogsShowRefundsStorageReadsAndMemoryBeforeExpansion() {
        // A's slot 1 holds 1: SLOAD 1 (cold 2100), SSTORE 1 := 0 (warm reset 2900, refund 4800), MSTORE, MLOAD.
        let code = bytes("600154" + "50" + "5f600155" + "602a5f52" + "5f51" + "00")
        let logger = StructLogger(config: .init(enableMemory: true))
        let effects = runMessage(tracePre(a: code), to: A.a, gas: 50_000, tracer: logger)
        #expect(effects.status == .success)
        #expect(effects.refund == 4_800)
        let ops = logger.steps.map(\.op)
        #expect(ops == ["PUSH1", "SLOAD", "POP", "PUSH0", "PUSH1", "SSTORE", "PUSH1", "PUSH0", "MSTORE", "PUSH0", "MLOAD", "STOP"])
        let sload = logger.steps[1], sstore = logger.steps[5], mstore = logger.steps[8], mload = logger.steps[10]
        #expect(sload.gasCost == 2_100 && sload.storage == [1: 1] && sload.refund == 0)
        #expect(sstore.gasCost == 2_900 && sstore.storage == [1: 0] && sstore.refund == 4_800)
        #expect(mstore.gasCost == 6 && mstore.memory == [])
        let word = try! Bytes32(UInt256(42).bigEndianBytes)
        #expect(mload.gasCost == 3 && mload.memory == [word])
        #expect(logger.steps[2].storage == nil)
        checkGasChain(logger.steps, "storage")
    }

    @Test func structLoggerHonoursItsOptions() {
        let code = bytes("600160020160005500")
        let limited = StructLogger(config: .init(disableStack: true, disableStorage: true, limit: 3))
        _ = runMessage(tracePre(a: [], c: code), to: A.c, gas: 100_000, tracer: limited)
        #expect(limited.steps.count == 3)
        #expect(limited.steps.allSatisfy { $0.stack == nil && $0.storage == nil && $0.memory == nil })
    }

    @Test func stackUnderflowIsReportedOnTheStepWithGethsText() {
        let logger = StructLogger()
        let effects = runMessage(tracePre(a: [], c: bytes("600101")), to: A.c, gas: 10_000, tracer: logger)
        #expect(effects.status == .failure(.stackUnderflow))
        #expect(logger.steps.last == .init(pc: 2, op: "ADD", gas: 9_997, gasCost: 3, depth: 1, stack: [1],
                                           error: "stack underflow (1 <=> 2)"))
        #expect(logger.error == "stack underflow (1 <=> 2)")
        #expect(logger.returnValue.isEmpty)
    }

    @Test func outOfGasOnADynamicCostReportsTheWholeCost() {
        // MSTORE at offset 2^20: the memory cost does not fit in 1,000 gas.
        let logger = StructLogger()
        let effects = runMessage(tracePre(a: [], c: bytes("5f6210000052")), to: A.c, gas: 1_000, tracer: logger)
        #expect(effects.status == .failure(.outOfGas))
        let words: Int64 = (0x100000 + 32) / 32
        #expect(logger.steps.last?.op == "MSTORE")
        #expect(logger.steps.last?.gasCost == UInt64(3 + 3 * words + words * words / 512))
        #expect(logger.steps.last?.error == "out of gas")
    }

    @Test func failuresWhileRunningGoToOnFaultNotToTheStep() {
        // JUMP to a non-JUMPDEST: the step is reported without an error, then faults (as geth).
        let tracer = RecordingTracer()
        let effects = runMessage(tracePre(a: [], c: bytes("600056")), to: A.c, gas: 10_000, tracer: tracer)
        #expect(effects.status == .failure(.invalidJump))
        #expect(tracer.steps.map(\.op) == [0x60, 0x56])
        #expect(tracer.steps.allSatisfy { $0.error == nil })
        #expect(tracer.faults == [.invalidJump])
        #expect(tracer.exits.last?.error == "invalid jump destination")
        #expect(tracer.exits.last?.gasUsed == 10_000)
    }

    @Test func callCostIncludesTheForwardedGas() {
        // A calls B (cold) with all gas; B returns 32 bytes. geth's CALL gasCost: 100 + 2500 (cold)
        // + 3 (one word of memory for the output) + the forwarded gas.
        let b = bytes("602a5f5260205ff3")
        let a = callCode(0xf1, gas: .max, to: A.b, output: (0, 32)) + [0x00]
        let logger = StructLogger()
        let calls = CallTracer()
        final class Both: EVMTracer {
            let tracers: [any EVMTracer]
            init(_ tracers: [any EVMTracer]) { self.tracers = tracers }
            func onEnter(_ frame: TraceFrameStart) { tracers.forEach { $0.onEnter(frame) } }
            func onExit(_ frame: TraceFrameEnd) { tracers.forEach { $0.onExit(frame) } }
            func onOpcode(_ step: TraceStep) { tracers.forEach { $0.onOpcode(step) } }
        }
        let effects = runMessage(tracePre(a: a, b: b), to: A.a, gas: 100_000, tracer: Both([logger, calls]))
        #expect(effects.status == .success)
        let call = logger.steps.first { $0.op == "CALL" }!
        let child = calls.result!.calls[0]
        #expect(child.type == "CALL" && child.to == A.b && child.from == A.a && child.value == .zero)
        let available = Int64(call.gas) - 2_603
        #expect(child.gas == UInt64(available - available / 64))
        #expect(call.gasCost == 2_603 + child.gas)
        // Gas after the call: what was left plus what the callee returned.
        let after = logger.steps.first { $0.depth == 1 && $0.pc > call.pc }!
        #expect(after.gas == call.gas - call.gasCost + (child.gas - child.gasUsed))
        #expect(child.output == UInt256(42).bigEndianBytes)
        #expect(logger.steps.filter { $0.depth == 2 }.count == 6)
    }

    @Test func callTracerDecodesTheRevertReasonOfACallee() {
        // B reverts with Error("nope"), copied from its code; A calls it and stops.
        let reason = bytes("08c379a0" + "0000000000000000000000000000000000000000000000000000000000000020"
                           + "0000000000000000000000000000000000000000000000000000000000000004"
                           + "6e6f706500000000000000000000000000000000000000000000000000000000")
        let b = bytes("6064600d5f39" + "60645ffd" + "000000") + reason  // CODECOPY(0, 13, 100); REVERT(0, 100)
        #expect(b.count == 13 + 100)
        let a = callCode(0xf1, gas: .max, to: A.b) + [0x00]
        let tracer = CallTracer()
        let effects = runMessage(tracePre(a: a, b: b), to: A.a, gas: 200_000, tracer: tracer)
        #expect(effects.status == .success)
        let top = try! #require(tracer.result)
        #expect(top.type == "CALL" && top.from == A.caller && top.to == A.a && top.error == nil)
        #expect(top.gas == 200_000 && top.gasUsed == UInt64(200_000 - effects.gasLeft))
        #expect(top.calls.count == 1)
        let child = top.calls[0]
        #expect(child.error == "execution reverted")
        #expect(child.revertReason == "nope")
        #expect(child.output == reason)
        #expect(child.gasUsed < child.gas)
    }

    @Test func callTracerReportsFailedFramesAndPrecompilesAsGeth() throws {
        // A: STATICCALL the identity precompile with 4 bytes, CALL B with 5,000 gas (B loops
        // until out of gas), CALL C (INVALID), CREATE with init code that returns 0xef (rejected).
        let loop = bytes("5b5f56")
        let invalid = bytes("fe")
        var a = callCode(0xfa, gas: 1_000, to: Precompiles.address(4), input: (0, 4), output: (0, 4))
        a += callCode(0xf1, gas: 5_000, to: A.b) + callCode(0xf1, gas: 10_000, to: A.c)
        // Init code 60ef5f5360015ff3: MSTORE8(0, 0xef); RETURN(0, 1), stored at memory 0.
        a += push(try! UInt256(bigEndianBytes: bytes("60ef5f5360015ff3"))) + push(0) + [0x52]
        a += push(8) + push(24) + push(0) + [0xf0, 0x00]
        let tracer = CallTracer()
        let effects = runMessage(tracePre(a: a, b: loop, c: invalid), to: A.a, gas: 500_000, tracer: tracer)
        #expect(effects.status == .success)
        let calls = try #require(tracer.result).calls
        try #require(calls.map(\.type) == ["STATICCALL", "CALL", "CALL", "CREATE"])
        let identity = calls[0]
        #expect(identity.to == Precompiles.address(4) && identity.value == nil)
        #expect(identity.gas == 1_000 && identity.gasUsed == 18 && identity.error == nil)
        #expect(identity.output == [0, 0, 0, 0])
        #expect(calls[1].error == "out of gas" && calls[1].gas == 5_000 && calls[1].gasUsed == 5_000 && calls[1].output == nil)
        #expect(calls[2].error == "invalid opcode: INVALID" && calls[2].gasUsed == calls[2].gas)
        #expect(calls[3].error == "invalid code: must not begin with 0xef" && calls[3].to == nil)
        #expect(calls[3].input == bytes("60ef5f5360015ff3"))
    }

    @Test func callTracerKeepsOnlyTheLogsOfFramesThatSucceeded() {
        // A logs, calls B (logs, then reverts), logs again. onlyTopCall keeps A's frame alone.
        let b = bytes("5f5fa0" + "5f5ffd")
        let a = bytes("5f5fa0") + callCode(0xf1, gas: .max, to: A.b) + bytes("50" + "5f5fa0" + "00")
        let tracer = CallTracer(config: .init(withLog: true))
        _ = runMessage(tracePre(a: a, b: b), to: A.a, gas: 200_000, tracer: tracer)
        let top = try! #require(tracer.result)
        #expect(top.logs.map(\.position) == [0, 1])
        #expect(top.calls[0].logs.isEmpty && top.calls[0].error == "execution reverted")
        let onlyTop = CallTracer(config: .init(onlyTopCall: true, withLog: true))
        _ = runMessage(tracePre(a: a, b: b), to: A.a, gas: 200_000, tracer: onlyTop)
        #expect(onlyTop.result?.calls.isEmpty == true)
        #expect(onlyTop.result?.logs.count == 2)
    }

    @Test func framesAreReportedInOrderWithDepths() {
        // A creates a contract whose init code calls C, which is out of reach of nothing; then A reverts.
        let initCode = callCode(0xf1, gas: .max, to: A.c) + [0x00]
        var a: [UInt8] = []
        for (i, byte) in initCode.enumerated() { a += push(UInt256(UInt64(byte))) + push(UInt256(UInt64(i))) + [0x53] }
        a += push(UInt256(UInt64(initCode.count))) + push(0) + push(0) + [0xf0] + bytes("5f5ffd")
        let tracer = RecordingTracer()
        let plain = runMessage(tracePre(a: a, c: bytes("00")), to: A.a, gas: 300_000)
        let traced = runMessage(tracePre(a: a, c: bytes("00")), to: A.a, gas: 300_000, tracer: tracer)
        #expect(traced == plain)
        #expect(traced.status == .revert)
        #expect(tracer.events == ["enter CALL depth 0", "enter CREATE depth 1", "enter CALL depth 2", "exit depth 2 ok",
                                  "exit depth 1 ok", "exit depth 0 execution reverted"])
        #expect(Set(tracer.steps.map(\.depth)) == [1, 2, 3])
    }

    @Test func revertReasonDecodesErrorAndPanic() {
        let panic = bytes("4e487b71" + "0000000000000000000000000000000000000000000000000000000000000011")
        #expect(Opcodes.revertReason(panic) == "arithmetic underflow or overflow")
        #expect(Opcodes.revertReason(bytes("08c379a0")) == nil)
        #expect(Opcodes.revertReason(bytes("deadbeef" + String(repeating: "00", count: 64))) == nil)
        #expect(Opcodes.name(0x20) == "KECCAK256" && Opcodes.name(0x7f) == "PUSH32" && Opcodes.name(0x0c) == "opcode 0xc not defined")
    }
}
