import Foundation

/// `kramaa-bench [primitives|trie|evm|rpc|node|validators|epcis|epcis-hash|ops|verify|all] [--quick] [--out BENCHMARKS.md] [--erc20 INITCODE.hex] [--only NAME] [--runs N] [--kramaa PATH]`:
/// runs benchmarks and writes their sections of BENCHMARKS.md. Always run from a release build.
/// The EVM section reads `$KRAMAA_VECTORS` and runs py-evm with `$KRAMAA_PYTHON`.
var arguments = Array(CommandLine.arguments.dropFirst())
let quick = arguments.contains("--quick")
/// The value after `flag`, removed from the arguments with it.
@MainActor func option(_ flag: String) -> String? {
    guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count else { return nil }
    let value = arguments[i + 1]
    arguments.removeSubrange(i...i + 1)
    return value
}
let out = option("--out") ?? "BENCHMARKS.md"
let erc20InitCode = option("--erc20")
/// Runs only the workloads whose name contains this text (EVM section).
let only = option("--only")
/// Runs each EVM workload this many times instead of for a set time, so that instruction
/// counts (callgrind) compare between builds.
let runs = option("--runs").flatMap { Int($0) }
/// The `kramaa` binary the validators-as-processes benchmark runs (default: beside this one).
let kramaaBinary = option("--kramaa") ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kramaa").path
/// The sections this binary runs (`all`: every one but `validators-memory`, which takes minutes).
let sections: Set = ["all", "primitives", "trie", "evm", "rpc", "node", "epcis", "epcis-hash", "validators", "validators-memory",
                     "dashboard", "ops", "verify"]
let usage = "usage: kramaa-bench [\(sections.sorted().joined(separator: "|"))] [--quick] [--out BENCHMARKS.md] [--erc20 INITCODE.hex] [--only NAME] [--runs N] [--kramaa PATH]"
// Anything else (a misspelt section, --help) is refused before a section runs: each one
// rewrites its part of BENCHMARKS.md, and running them all takes a quarter of an hour.
if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
    print(usage)
    exit(0)
}
let unknown = arguments.filter { $0 != "--quick" && ($0.hasPrefix("-") || !sections.contains($0)) }
if !unknown.isEmpty {
    FileHandle.standardError.write(Data("kramaa-bench: unknown \(unknown.joined(separator: " ")): nothing was run\n\(usage)\n".utf8))
    exit(64)
}
arguments.removeAll { $0.hasPrefix("--") }
let which = Set(arguments.isEmpty ? ["all"] : arguments)

let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?
    .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
let date = ISO8601DateFormatter().string(from: Date())
let machine = "on \(ProcessInfo.processInfo.activeProcessorCount) × \(cpu), \(date)"

if which.contains("all") || which.contains("primitives") {
    let section = PrimitivesBench.run(quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("trie") {
    let section = TrieBench.run(quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("evm") {
    let environment = ProcessInfo.processInfo.environment
    let section = EVMBench.run(vectors: environment["KRAMAA_VECTORS"] ?? "../shared/vectors",
                               python: environment["KRAMAA_PYTHON"], erc20InitCode: erc20InitCode, only: only, runs: runs,
                               quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("rpc") {
    let section = RPCBench.run(quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("node") {
    let section = NodeBench.run(erc20InitCode: erc20InitCode, quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("epcis") {
    let section = EPCISBench.run(quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("validators") {
    let section = ValidatorBench.run(erc20InitCode: erc20InitCode, quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
    let processes = ValidatorBench.run(erc20InitCode: erc20InitCode, quick: quick, kramaa: kramaaBinary)
    print(processes.markdown)
    do { try processes.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

// Long (1 million transactions): only when asked for by name.
if which.contains("validators-memory") {
    let section = ValidatorMemoryBench.run(erc20InitCode: erc20InitCode, kramaa: kramaaBinary, quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("dashboard") {
    let section = DashboardBench.run(quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("ops") {
    let section = OpsBench.run(quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

if which.contains("all") || which.contains("verify") {
    let section = VerifyBench.run(quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}

// `epcis-hash` runs the event hash alone (one thread, no network: what callgrind can profile).
if which.contains("all") || which.contains("epcis") || which.contains("epcis-hash") {
    let section = EPCISHashBench.run(vectors: ProcessInfo.processInfo.environment["KRAMAA_VECTORS"] ?? "../shared/vectors", quick: quick)
    print(section.markdown)
    do { try section.write(to: out, machine: machine) } catch { print("cannot write \(out): \(error)"); exit(1) }
}
