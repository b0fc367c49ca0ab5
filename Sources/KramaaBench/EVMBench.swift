import Foundation
import KramaaEVM
import KramaaEVMHarness
import KramaaPrimitives
import KramaaState

/// EVM execution speed on the standard evm-benchmarks workloads (the ones evmone reports),
/// in gas per second of execution. Each workload's calldata variant runs as one message
/// against the contract in the fixture's pre-state, as evmone's bench does. The same-run
/// reference is py-evm on a subset; evmone's published baseline-interpreter figure for a
/// machine of this kind is the goal (ours ≥ 0.7 × evmone, issue 21).
enum EVMBench {
    /// evmone baseline interpreter, gas/s, from the evm-benchmarks README (2 vCPU EPYC, 2.45 GHz).
    static let evmone: [String: Double] = [
        "blake2b_huff/8415nulls": 1.04e9, "blake2b_shifts/8415nulls": 1.53e9,
        "sha1_divs/5311": 0.69e9, "sha1_shifts/5311": 1.37e9, "snailtracer/benchmark": 5.90e9,
        "structarray_alloc/nfts_rank": 3.67e9, "swap_math/spent": 1.11e9, "weierstrudel/15": 0.26e9,
    ]
    /// The workloads py-evm runs in the same run (it is 600–900 × slower; a subset keeps the run short).
    static let pyevmSubset = ["sha1_divs/5311", "swap_math/spent", "weierstrudel/1"]

    struct Workload {
        var name: String
        var pre: [PreAccount]
        var block: BlockContext
        var sender: Address
        var target: Address
        var input: [UInt8]
        var gas: Int64
        var file: String
        var dataIndex: Int
    }

    static func run(vectors: String, python: String?, erc20InitCode: String?, only: String? = nil, runs: Int? = nil,
                    quick: Bool) -> Section {
        var section = Section(title: "EVM execution", command: "scripts/bench.sh evm")
        let root = vectors + "/evm-benchmarks/benchmarks"
        var workloads: [Workload] = []
        for folder in ["main", "micro"] {
            let dir = root + "/" + folder
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
                section.notes.append("missing folder \(dir): set KRAMAA_VECTORS")
                continue
            }
            for file in files.sorted() where file.hasSuffix(".json") {
                do { workloads += try load(dir + "/" + file) } catch { section.notes.append("\(file): \(error)") }
            }
        }
        for workload in workloads where only.map({ workload.name.contains($0) }) ?? true {
            let (gasUsed, rate, status) = measure(workload, seconds: quick ? 0.2 : 1.0, runs: runs)
            var reference: Double?
            var referenceName = "evmone baseline (published)"
            if let python, pyevmSubset.contains(workload.name) {
                reference = pyevmRate(python: python, workload: workload, seconds: quick ? 2 : 5)
                referenceName = "py-evm"
            } else {
                reference = evmone[workload.name]
            }
            let goal = evmone[workload.name].map { String(format: "≥ 0.7 × evmone %.2f G (ours %.2f ×)", $0 / 1e9, rate / $0) } ?? ""
            section.rows.append(Row(name: "\(workload.name) (\(Row.format(Double(gasUsed))) gas, \(status))",
                                    ours: rate, unit: "gas/s", reference: reference, referenceName: referenceName, goal: goal))
        }
        if only == nil || "ERC-20".contains(only!) {
            section.rows.append(contentsOf: ERC20Bench.rows(initCodePath: erc20InitCode, quick: quick))
        }
        section.notes.append("Gas per second of execution: one message per iteration against a fresh journal over the fixture's pre-state, code analysed once per code hash (as in the node), best of 3 rounds.")
        section.notes.append("py-evm rows are measured in the same run (tools/bench/pyevm_gas_rate.py); the other rows compare with evmone's published baseline-interpreter figure for this kind of machine, not a same-run measurement.")
        return section
    }

    static func load(_ path: String) throws -> [Workload] {
        let fixtures = try BenchFixture.load(path)
        return fixtures.flatMap { fixture in
            fixture.data.enumerated().map { index, input in
                Workload(name: fixture.name + "/" + (fixture.labels[index] ?? String(index)), pre: fixture.pre,
                         block: fixture.block, sender: fixture.sender, target: fixture.target, input: input,
                         gas: Int64(fixture.gasLimit), file: path, dataIndex: index)
            }
        }
    }

    /// Runs the workload's message once: returns gas used and the status.
    static func execute(_ w: Workload, backend: InMemoryState, cache: CodeCache) -> (Int64, ExecutionStatus) {
        let state = JournaledState(backend: backend, codeCache: cache)
        state.warm(w.sender)
        state.warm(w.target)
        let evm = EVM(state: state, block: w.block, transaction: TransactionContext(origin: w.sender, gasPrice: .one),
                      precompiles: Precompiles.cancun)
        let result = evm.call(Message(kind: .call, caller: w.sender, recipient: w.target, codeAddress: w.target,
                                      value: .zero, input: w.input, gas: w.gas, depth: 0))
        return (w.gas - result.gasLeft, result.status)
    }

    /// Gas used, gas/s and status: best of 3 timed rounds, or one round of exactly `runs` messages.
    static func measure(_ w: Workload, seconds: Double, runs: Int? = nil) -> (Int64, Double, String) {
        let backend = InMemoryState(pre: w.pre)
        let cache = CodeCache()  // as in the node: code is analysed once per code hash
        let (gasUsed, status) = execute(w, backend: backend, cache: cache)
        let perRun = if let runs {
            Double(runs) / Harness.time { for _ in 0..<runs { _ = execute(w, backend: backend, cache: cache) } }
        } else {
            Harness.rate(batch: 1, seconds: seconds * 3) { _ = execute(w, backend: backend, cache: cache) }
        }
        let label = status == .success ? "success" : "\(status)"
        return (gasUsed, perRun * Double(gasUsed), label)
    }

    /// py-evm's gas/s on the same workload, or nil when the reference script cannot run.
    static func pyevmRate(python: String, workload: Workload, seconds: Int) -> Double? {
        guard let out = Harness.run(python, ["tools/bench/pyevm_gas_rate.py", workload.file,
                                             "--data-index", String(workload.dataIndex), "--seconds", String(seconds)]),
              let data = out.split(separator: "\n").last.map({ Data($0.utf8) }),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let rate = json["gasPerSecond"] as? Double
        else { return nil }
        return rate
    }
}
