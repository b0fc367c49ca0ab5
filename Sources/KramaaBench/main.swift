import Foundation

/// `kramaa-bench [primitives|trie|all] [--quick] [--out BENCHMARKS.md]`: runs benchmarks and writes
/// their section of BENCHMARKS.md. Always run from a release build.
var arguments = Array(CommandLine.arguments.dropFirst())
let quick = arguments.contains("--quick")
var out = "BENCHMARKS.md"
if let i = arguments.firstIndex(of: "--out"), i + 1 < arguments.count { out = arguments[i + 1] }
arguments.removeAll { $0.hasPrefix("--") || $0 == out }
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
