import Foundation
import KramaaEVM
import KramaaEVMHarness
import KramaaPrimitives

/// `kramaa-evmfuzz [--seconds N] [--seed S] [--replay P] [--emit N]`: runs random programs
/// (program P uses seed S+P) and checks invariants that must hold for any input: no trap; gas
/// left in [0, gas]; an exceptional halt consumes all gas, keeps no logs or refund and leaves the
/// state root as it was; a revert leaves the state root as it was; the same case gives the same
/// result twice. `--replay P` runs one program and prints its case and result; `--emit N` prints
/// N cases as JSON lines (for `kramaa evm batch` and the py-evm differential test) and runs none.
/// Ends with `N passed, N failed` (programs); exit status 1 on any violation.
var seconds = 10.0
var seed = UInt64(UInt32.random(in: 0...UInt32.max))
var replay: UInt64?
var emit: Int?
var arguments = Array(CommandLine.arguments.dropFirst())
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    guard let value = arguments.first else {
        FileHandle.standardError.write(Data("error: \(flag) needs a value\n".utf8))
        exit(2)
    }
    arguments.removeFirst()
    switch flag {
    case "--seconds" where Double(value) != nil: seconds = Double(value)!
    case "--seed" where UInt64(value) != nil: seed = UInt64(value)!
    case "--replay" where UInt64(value) != nil: replay = UInt64(value)!
    case "--emit" where Int(value) != nil: emit = Int(value)!
    default:
        FileHandle.standardError.write(Data("usage: kramaa-evmfuzz [--seconds N] [--seed S] [--replay SEED] [--emit N]\n".utf8))
        exit(2)
    }
}

/// The program running now, for the crash report (a trap cannot be caught, only reported).
nonisolated(unsafe) var currentSeed: UInt64 = 0

/// On a trap or fault: print the seed of the program that caused it, then die.
func installCrashReport() {
    for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT] {
        signal(sig) { sig in
            var text: [UInt8] = Array("\nkramaa-evmfuzz: crashed (signal ".utf8)
            func digits(_ v: UInt64) -> [UInt8] {
                var v = v, out: [UInt8] = []
                repeat { out.insert(UInt8(48 + v % 10), at: 0); v /= 10 } while v > 0
                return out
            }
            text += digits(UInt64(sig)) + Array(") running program seed ".utf8) + digits(currentSeed)
            text += Array("; replay with --replay ".utf8) + digits(currentSeed) + [10]
            _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            _exit(3)
        }
    }
}

let runner = MessageRunner(precompiles: Precompiles.ethereumCancun)

/// Runs the program with this seed; the broken invariants, if any.
@MainActor func check(_ programSeed: UInt64, verbose: Bool) -> (violations: [String], instructions: UInt64) {
    currentSeed = programSeed
    let json = FuzzCase.make(seed: programSeed)
    let message = try! MessageCase.decode(json)
    let outcome = runner.run(message)
    if verbose {
        print("case:   \(MessageOutcome.line(json))")
        print("result: \(outcome.jsonLine(id: message.id))")
    }
    var violations: [String] = []
    if outcome.gasLeft < 0 || outcome.gasLeft > message.gas { violations.append("gas left \(outcome.gasLeft) outside [0, \(message.gas)]") }
    if outcome.status != .success {
        let before = runner.preStateRoot(message)
        if outcome.stateRoot != before { violations.append("\(outcome.status) changed the state root \(before) -> \(outcome.stateRoot)") }
        if !outcome.logs.isEmpty { violations.append("\(outcome.status) kept \(outcome.logs.count) logs") }
        if outcome.refund != 0 { violations.append("\(outcome.status) kept a refund of \(outcome.refund)") }
    }
    if case .failure = outcome.status, outcome.gasLeft != 0 { violations.append("exceptional halt left \(outcome.gasLeft) gas") }
    if programSeed % 16 == 0 {
        let again = runner.run(message).jsonLine(id: message.id)
        if again != outcome.jsonLine(id: message.id) { violations.append("a second run gave a different result: \(again)") }
    }
    return (violations, outcome.instructions)
}

if let emit {
    for i in 0..<UInt64(emit) { print(MessageOutcome.line(FuzzCase.make(seed: seed &+ i))) }
    exit(0)
}
installCrashReport()
if let replay {
    let (violations, _) = check(replay, verbose: true)
    for v in violations { print("VIOLATION: \(v)") }
    exit(violations.isEmpty ? 0 : 1)
}

print("kramaa-evmfuzz: seed \(seed), \(seconds) s (program i runs seed \(seed)+i)")
let start = Date()
var programs: UInt64 = 0, instructions: UInt64 = 0, failed = 0
while Date().timeIntervalSince(start) < seconds {
    for _ in 0..<64 {
        let programSeed = seed &+ programs
        let (violations, steps) = check(programSeed, verbose: false)
        programs += 1
        instructions += steps
        if !violations.isEmpty {
            failed += 1
            print("FAIL program seed \(programSeed) (replay: kramaa-evmfuzz --replay \(programSeed)):")
            for v in violations { print("  \(v)") }
        }
    }
}
let elapsed = Date().timeIntervalSince(start)
print(String(format: "%llu programs, %llu instructions in %.1f s: %.0f programs/s, %.0f instructions/s",
             programs, instructions, elapsed, Double(programs) / elapsed, Double(instructions) / elapsed))
print("\(Int(programs) - failed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
