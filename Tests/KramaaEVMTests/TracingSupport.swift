import KramaaEVMHarness
import KramaaPrimitives
import KramaaState
@testable import KramaaEVM

/// Accounts of the tracing tests: a rich caller, contracts A, B and C, the coinbase.
enum TraceAccounts {
    static let caller = try! Address(hex: "0x00000000000000000000000000000000000ca11e")
    static let a = try! Address(hex: "0x000000000000000000000000000000000000aaaa")
    static let b = try! Address(hex: "0x000000000000000000000000000000000000bbbb")
    static let c = try! Address(hex: "0x000000000000000000000000000000000000cccc")
    static let coinbase = try! Address(hex: "0x00000000000000000000000000000000c014ba5e")
}

/// Everything a message leaves behind that tracing must not change.
struct MessageEffects: Equatable {
    var status: ExecutionStatus
    var gasLeft: Int64
    var output: [UInt8]
    var createdAddress: Address?
    var refund: Int64
    var logs: [Log]
    var stateRoot: Bytes32
}

/// Runs one message from `TraceAccounts.caller` to `to` (a creation when nil) over `pre`, as
/// the only message of a transaction (sender, recipient, coinbase and precompiles warm), with
/// `tracer` set or not; commits and returns what it left.
func runMessage(_ pre: [PreAccount], to: Address?, input: [UInt8] = [], gas: Int64, value: UInt256 = .zero,
                isStatic: Bool = false, tracer: (any EVMTracer)? = nil) -> MessageEffects {
    let backend = InMemoryState(pre: pre)
    let state = JournaledState(backend: backend)
    let precompiles = Precompiles.ethereumCancun
    for address in [TraceAccounts.caller, TraceAccounts.coinbase] + (to.map { [$0] } ?? []) + precompiles.keys {
        state.warm(address)
    }
    let block = try! FixtureJSON.blockContext(MessageCase.defaultEnv, context: "tracing test")
    let evm = EVM(state: state, block: block, transaction: TransactionContext(origin: TraceAccounts.caller, gasPrice: 7),
                  precompiles: precompiles)
    evm.tracer = tracer
    let result = if let to {
        evm.call(Message(kind: .call, caller: TraceAccounts.caller, recipient: to, codeAddress: to, value: value,
                         input: input, gas: gas, isStatic: isStatic))
    } else {
        evm.create(caller: TraceAccounts.caller, value: value, initCode: input, gas: gas, salt: nil, depth: 0)
    }
    let refund = state.refund
    let logs = state.finishTransaction()
    backend.commit(state)
    return MessageEffects(status: result.status, gasLeft: result.gasLeft, output: result.output, createdAddress: result.createdAddress,
                          refund: refund, logs: logs, stateRoot: backend.stateRoot)
}

/// The pre-state of the tracing tests: the caller with ether, then contracts A, B and C with
/// the given code (and a few storage slots set on A and B).
func tracePre(a: [UInt8], b: [UInt8] = [], c: [UInt8] = []) -> [PreAccount] {
    [
        PreAccount(address: TraceAccounts.caller, nonce: 1, balance: UInt256(UInt64(1_000_000_000_000))),
        PreAccount(address: TraceAccounts.a, nonce: 1, balance: 1_000, code: a, storage: [1: 1, 2: 5]),
        PreAccount(address: TraceAccounts.b, nonce: 1, balance: 10, code: b, storage: [0: 7]),
        PreAccount(address: TraceAccounts.c, nonce: 1, code: c),
    ]
}

/// PUSH of a value in as few bytes as it needs (PUSH0 for zero).
func push(_ value: UInt256) -> [UInt8] {
    if value.isZero { return [0x5f] }
    let bytes = value.minimalBigEndianBytes
    return [UInt8(0x5f + bytes.count)] + bytes
}

func push(_ address: Address) -> [UInt8] { [0x73] + address.bytes }

/// CALL-family instruction with its operands: gas, target, value (CALL, CALLCODE), in and out regions.
func callCode(_ op: UInt8, gas: UInt256, to: Address, value: UInt256 = .zero,
              input: (UInt256, UInt256) = (0, 0), output: (UInt256, UInt256) = (0, 0)) -> [UInt8] {
    var code = push(output.1) + push(output.0) + push(input.1) + push(input.0)
    if op == 0xf1 || op == 0xf2 { code += push(value) }
    return code + push(to) + push(gas) + [op]
}

/// Random programs for the traced-against-untraced comparison: small operands, storage,
/// memory, logs, calls between A, B and C and to precompiles, creations, reverts, invalid
/// bytes and forward jumps, so that every interpreter path (and its failures) comes up.
struct TraceProgramGenerator {
    var rng: SplitMix64

    mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    mutating func small() -> [UInt8] {
        below(10) == 0 ? push([.max, UInt256.one << 255, 1 << 20, 0xffff_ffff][below(4)]) : push(UInt256(UInt64(below(70))))
    }

    mutating func program(length: Int, nested: Bool = false) -> [UInt8] {
        var code: [UInt8] = small() + small() + small()
        var jumps: [Int] = []
        for _ in 0..<length {
            switch below(30) {
            case 0..<6: code += small() + small() + [[0x01, 0x02, 0x03, 0x04, 0x06, 0x0a, 0x10, 0x14, 0x16, 0x1b, 0x1c][below(11)]]
            case 6: code += small() + [0x51]
            case 7: code += small() + small() + [0x52]
            case 8: code += small() + small() + [0x20]
            case 9: code += push(UInt256(UInt64(below(4)))) + [0x54]
            case 10: code += push(UInt256(UInt64(below(3)))) + push(UInt256(UInt64(below(4)))) + [0x55]
            case 11: code += small() + small() + small() + [0xa1]
            case 12..<14 where !nested:
                let target = [TraceAccounts.a, TraceAccounts.b, TraceAccounts.c, Precompiles.address(UInt16(1 + below(4)))][below(4)]
                let op: UInt8 = [0xf1, 0xf2, 0xf4, 0xfa][below(4)]
                code += callCode(op, gas: [0, 300, 5_000, 60_000, .max][below(5)], to: target, value: UInt256(UInt64(below(3))),
                                 input: (UInt256(UInt64(below(40))), UInt256(UInt64(below(40)))), output: (0, UInt256(UInt64(below(40)))))
            case 14 where !nested:
                let initCode = program(length: 1 + below(5), nested: true)
                for (i, byte) in initCode.enumerated() { code += push(UInt256(UInt64(byte))) + push(UInt256(UInt64(i))) + [0x53] }
                code += push(UInt256(UInt64(initCode.count))) + push(0) + push(UInt256(UInt64(below(2)))) + [0xf0]
            case 15: code += [0x3d, 0x5f, 0x5f, 0x3e]  // RETURNDATACOPY of everything
            case 16: code += [0x5a, 0x47, 0x59, 0x58, 0x30][below(5)...].prefix(2)
            case 17: code += [[0x80, 0x81, 0x90, 0x91, 0x50][below(5)]]
            case 18:
                jumps.append(code.count + 1)
                code += [0x61, 0, 0] + (below(2) == 0 ? [0x56] : small() + [0x90, 0x57])
            case 19: code.append(0x5b)
            case 20 where below(4) == 0: code += small() + small() + [[0xf3, 0xfd, 0xfe, 0x00][below(4)]]
            case 21 where below(3) == 0: code.append(UInt8(truncatingIfNeeded: rng.next()))
            case 22: code += push(UInt256(UInt64(below(3)))) + push(UInt256(UInt64(below(3)))) + [0x5d, 0x5f, 0x5c]
            default: code += small() + [0x15]
            }
        }
        let dests = code.indices.filter { code[$0] == 0x5b }
        for at in jumps {
            let target = dests.first { $0 > at } ?? code.count
            code[at] = UInt8(truncatingIfNeeded: target >> 8)
            code[at + 1] = UInt8(truncatingIfNeeded: target)
        }
        return code + [0x5b] + small() + small() + [[0xf3, 0xfd, 0x00][below(3)]]
    }
}
