import Foundation
import KramaaPrimitives

/// Timing and reporting shared by every benchmark. Each figure is reported beside a reference
/// measured in the same run, because these machines are shared and noisy.
enum Harness {
    /// `perf record --control fifo:PATH` (named by `$KRAMAA_PERF_CONTROL`): `profiled` turns
    /// sampling on around a timed part only, so a profile holds that workload and not its setup.
    static let perfControl: FileHandle? = ProcessInfo.processInfo.environment["KRAMAA_PERF_CONTROL"].flatMap { FileHandle(forWritingAtPath: $0) }

    /// Runs `body` with perf sampling on when `$KRAMAA_PERF_CONTROL` names perf's control FIFO
    /// (start perf with `--delay=-1` so it begins disabled); otherwise just runs it.
    static func profiled<T>(_ body: () throws -> T) rethrows -> T {
        perfControl?.write(Data("enable\n".utf8))
        defer { perfControl?.write(Data("disable\n".utf8)) }
        return try body()
    }

    /// Seconds elapsed while running `body` once.
    static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Operations per second of `body`, which performs `batch` operations per call:
    /// repeated for about `seconds`, best of `rounds` rounds.
    static func rate(batch: Int, seconds: Double = 1.0, rounds: Int = 3, _ body: () -> Void) -> Double {
        var best = 0.0
        for _ in 0..<rounds {
            var ops = 0
            let elapsed = time {
                let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds / Double(rounds) * 1e9)
                repeat {
                    body()
                    ops += batch
                } while DispatchTime.now().uptimeNanoseconds < deadline
            }
            best = max(best, Double(ops) / elapsed)
        }
        return best
    }

    /// Operations per second of `threads` threads together, each repeating for `seconds` the
    /// operation `make(thread)` returns (made once per thread, outside the count: a connection,
    /// a buffer).
    static func rate(threads: Int, seconds: Double, _ make: @escaping @Sendable (Int) -> () -> Void) -> Double {
        let counts = Counts(threads)
        let elapsed = time {
            onThreads(threads) { thread in
                let operation = make(thread)
                let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
                var n = 0
                repeat {
                    operation()
                    n += 1
                } while DispatchTime.now().uptimeNanoseconds < deadline
                counts.set(thread, n)
            }
        }
        return Double(counts.total) / elapsed
    }

    /// Runs `body(i)` for i in 0..<count, each on its own thread, all at once; returns when all end.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread { body(i); group.leave() }.start()
        }
        group.wait()
    }

    /// Runs a command and returns its standard output, or nil if it could not run or failed.
    static func run(_ executable: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether `needle` occurs in `haystack`, by a plain byte scan: the clients check every
    /// answer with it, on the cores they share with the server (Foundation's generic
    /// `firstRange(of:)` took 4 % of the machine's CPU in the node benchmark).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                for i in 0...(h.count - n.count) where h[i] == first {
                    if memcmp(h.baseAddress! + i, n.baseAddress!, n.count) == 0 { return true }
                }
                return false
            }
        }
    }

    /// A deterministic byte pattern of `count` bytes.
    static func bytes(_ count: Int, seed: UInt64 = 0x5eed) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<words.count { words[i] = rng.next() }
        }
        return out
    }
}


/// One row of a results table: our figure, the reference's, and their ratio.
struct Row {
    var name: String
    var ours: Double
    var unit: String
    var reference: Double?
    var referenceName: String
    var goal: String = ""

    var ratio: String { reference.map { $0 > 0 ? String(format: "%.2f", ours / $0) : "n/a" } ?? "n/a" }

    static func format(_ v: Double) -> String {
        if v >= 1e9 { return String(format: "%.2f G", v / 1e9) }
        if v >= 1e6 { return String(format: "%.2f M", v / 1e6) }
        if v >= 1e3 { return String(format: "%.1f k", v / 1e3) }
        return String(format: "%.1f", v)
    }

    var markdown: String {
        let ref = reference.map { Row.format($0) + " " + unit } ?? "not measured"
        return "| \(name) | \(Row.format(ours)) \(unit) | \(referenceName): \(ref) | \(ratio) | \(goal) |"
    }
}

/// A titled table of rows, written as one section of BENCHMARKS.md.
struct Section {
    var title: String
    var command: String
    var rows: [Row] = []
    var notes: [String] = []

    var markdown: String {
        var lines = ["## \(title)", "", "Command: `\(command)`", "",
                     "| benchmark | ours | reference (same run) | ratio | goal |", "|---|---|---|---|---|"]
        lines += rows.map(\.markdown)
        if !notes.isEmpty { lines += [""] + notes.map { "- \($0)" } }
        return lines.joined(separator: "\n")
    }

    /// Replaces this section (same title) in `BENCHMARKS.md`, keeping the other sections.
    func write(to path: String, machine: String) throws {
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "# Benchmarks\n\nLatest figures of each benchmark. Every figure has a reference measured in the same run; compare ratios, not absolute times.\n"
        let header = "## \(title)"
        let body = markdown + "\n\nMeasured \(machine).\n"
        if let start = text.range(of: header) {
            let rest = text[start.upperBound...]
            let end = rest.range(of: "\n## ")?.lowerBound ?? text.endIndex
            text.replaceSubrange(start.lowerBound..<end, with: body)
        } else {
            text += "\n" + body
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
