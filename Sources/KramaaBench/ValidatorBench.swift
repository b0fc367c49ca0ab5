import Foundation
import KramaaAPI
import KramaaChain
import KramaaEVM
import KramaaNetwork
import KramaaNode
import KramaaPrimitives
import KramaaRPC
import KramaaTestSupport
import KramaaValidator

/// Four validators in one process (each with its own data folder, peer port over TLS on
/// loopback, consensus core and JSON-RPC server), sharing the machine's cores. Signed
/// ERC-20 transfers go to the four RPC servers round-robin; a transaction is final when
/// validator 0 stores the block holding it. Measures finalised transactions per second at
/// full load, then finality latency (p50, p99) at half that rate. The ceiling: the
/// machine's ecrecover rate (every validator recovers every sender once).
enum ValidatorBench {
    /// Four validators in this process.
    final class Network: BenchNetwork, @unchecked Sendable {
        let nodes: [Node]
        let runtimes: [ValidatorRuntime]
        let servers: [RPCServer]
        let directories: [URL]
        let finality = FinalityLog()
        var ports: [Int] { servers.map(\.port) }

        /// - Parameter funded: accounts funded besides the senders (device accounts).
        init(validators: Int, senders: [Secp256k1.PrivateKey], funded: [Address] = []) throws {
            let keys = ValidatorBench.validatorKeys(validators)
            let genesis = ValidatorBench.genesis(validators: keys, funded: senders.map(\.publicKey.address) + funded)
            directories = (0..<validators).map { _ in
                FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-vbench-\(UUID().uuidString)")
            }
            var nodes: [Node] = [], runtimes: [ValidatorRuntime] = [], servers: [RPCServer] = []
            for i in 0..<validators {
                try Node.initialize(dataDirectory: directories[i], genesisDocument: genesis)
                let node = try Node(dataDirectory: directories[i])
                let configuration = ValidatorRuntime.Configuration(listenPort: 0)
                let runtime = try ValidatorRuntime(node: node, key: keys[i], configuration: configuration)
                var rpc = RPCServer.Configuration(host: "127.0.0.1", port: 0)
                rpc.limits.maxBatchItems = 1000
                let router = EthAPI(node: node).router()
                servers.append(RPCBench.blocking { [rpc] in try! await RPCServer.start(handler: router, configuration: rpc) })
                RPCBench.blocking { try! await runtime.start() }
                nodes.append(node)
                runtimes.append(runtime)
            }
            for (i, runtime) in runtimes.enumerated() {
                for (j, other) in runtimes.enumerated() where j != i {
                    runtime.addBootnode(Bootnode(host: "127.0.0.1", port: other.p2pPort!, address: keys[j].publicKey.address))
                }
            }
            self.nodes = nodes
            self.runtimes = runtimes
            self.servers = servers
            nodes[0].addObserver { [finality] event in
                guard case .newBlock(let executed) = event else { return }
                finality.record(executed.transactionHashes)  // the block's own, not encoded and hashed again by the client
            }
            // Wait until every validator has its peers.
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline && runtimes.contains(where: { $0.peerCount < validators - 1 }) { Thread.sleep(forTimeInterval: 0.05) }
        }

        func cpuSeconds() -> Double { ProcessCPU.seconds }

        func phaseSeconds() -> [String: Double] { PhaseTotals.seconds(nodes) }

        var notes: [String] {
            let rounds = runtimes.map { $0.statistics }
            return ["Heights committed per validator: \(rounds.map(\.commits)); rounds beyond the first: \(rounds.map(\.extraRounds)).",
                    "Four validators in one process, each with its own SQLite data folder, TLS peer connections on loopback, consensus core and JSON-RPC server; client and validators share the machine's \(ProcessInfo.processInfo.activeProcessorCount) cores."]
        }

        func stop() {
            for r in runtimes { RPCBench.blocking { await r.stop() } }
            for s in servers { RPCBench.blocking { await s.shutdown() } }
            for d in directories { try? FileManager.default.removeItem(at: d) }
        }
    }

    /// The validators' keys, the same in every run.
    static func validatorKeys(_ count: Int) -> [Secp256k1.PrivateKey] {
        (0..<count).map { i in try! Secp256k1.PrivateKey(Keccak256.hash(Array("bench validator \(i)".utf8))) }
    }

    /// The benchmark chain's genesis: `validators`, and every `funded` account rich; fees by
    /// `feePolicy` (`eip1559`, or `zero` as consortium chains without fees run).
    static func genesis(validators keys: [Secp256k1.PrivateKey], funded: [Address], feePolicy: String = "eip1559") -> Data {
        let alloc = funded.map { "\"\($0)\": {\"balance\": \"0xffffffffffffffffffffffffffff\"}" }
        return Data("""
            {"config": {"chainId": \(BenchTransactions.chainId), "kramaa": {"feePolicy": "\(feePolicy)", "validators": [\(keys.map { "\"\($0.publicKey.address)\"" }.joined(separator: ","))]}},
             "gasLimit": "0x3938700", "alloc": {\(alloc.joined(separator: ","))}}
            """.utf8)
    }

    /// JSON-RPC batch requests of raw transactions, written before any timing starts.
    struct Requests {
        let batches: [Range<Int>]
        let bodies: [[UInt8]]

        init(_ raws: [[UInt8]], batch: Int) {
            batches = stride(from: 0, to: raws.count, by: batch).map { $0..<min($0 + batch, raws.count) }
            bodies = batches.map { BenchTransactions.batchRequest(raws[$0]) }
        }
    }

    /// Sends raw transactions as batches, batch k to server k mod n, one client thread per
    /// server, optionally paced (transactions per second overall); returns each one's send time.
    static func send(_ raws: [[UInt8]], hashes: [Bytes32], to ports: [Int], batch: Int, pace: Double?) -> [Bytes32: UInt64] {
        send(Requests(raws, batch: batch), hashes: hashes, to: ports, pace: pace)
    }

    /// ``send(_:hashes:to:batch:pace:)`` for requests written beforehand.
    static func send(_ requests: Requests, hashes: [Bytes32], to ports: [Int], pace: Double?) -> [Bytes32: UInt64] {
        let batches = requests.batches
        let times = Counts(hashes.count)
        let start = DispatchTime.now().uptimeNanoseconds
        // One thread per server (concurrentPerform would run only as many at once as there are cores).
        Harness.onThreads(ports.count) { c in
            let socket = try! LoopbackSocket(port: ports[c], timeoutSeconds: 60)
            for k in stride(from: c, to: batches.count, by: ports.count) {
                let range = batches[k]
                if let pace {
                    let due = start + UInt64(Double(range.lowerBound) / pace * 1e9)
                    let now = DispatchTime.now().uptimeNanoseconds
                    if due > now { Thread.sleep(forTimeInterval: Double(due - now) / 1e9) }
                }
                let now = DispatchTime.now().uptimeNanoseconds
                BenchTransactions.send(batchRequest: requests.bodies[k], on: socket)
                for i in range { times.set(i, Int(now)) }
            }
        }
        var sentAt: [Bytes32: UInt64] = [:]
        for (i, h) in hashes.enumerated() { sentAt[h] = UInt64(times.value(i)) }
        return sentAt
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
    }

    /// The validators in this process (`kramaa` nil), or as separate `kramaa node` processes of
    /// that binary: the same workload, measured the same way.
    static func run(erc20InitCode: String?, quick: Bool, kramaa: String? = nil) -> Section {
        var section = kramaa == nil ? Section(title: "Validators (4, BFT consensus)", command: "scripts/bench.sh validators")
            : Section(title: "Validators (4 `kramaa node` processes)", command: "scripts/bench.sh validators")
        guard let initCode = TokenWorkload.initCode(at: erc20InitCode) else {
            section.notes.append("Needs the compiled token: run through scripts/bench.sh.")
            return section
        }
        if let kramaa, !FileManager.default.isExecutableFile(atPath: kramaa) {
            section.notes.append("Needs the release `kramaa` beside kramaa-bench (or --kramaa PATH): run through scripts/bench.sh.")
            return section
        }
        let senders = BenchTransactions.senders(100)
        let network: any BenchNetwork
        do {
            if let kramaa {
                network = try ProcessNetwork(kramaa: kramaa, validators: 4, funded: senders.map(\.publicKey.address))
            } else {
                network = try Network(validators: 4, senders: senders)
            }
        } catch {
            section.notes.append("the network did not start: \(error)")
            return section
        }
        defer { network.stop() }
        measure(network, senders: senders, initCode: initCode, quick: quick, into: &section)
        return section
    }

    /// Full load, then finality latency at half that rate, on `network`.
    static func measure(_ network: any BenchNetwork, senders: [Secp256k1.PrivateKey], initCode: [UInt8], quick: Bool, into section: inout Section) {
        let ports = network.ports
        let finality = network.finality
        let probe = try! Transaction.decode(BenchTransactions.signed(senders[0], nonce: 0, to: senders[1].publicKey.address, gas: 21_000))
        let ceiling = RecoveryCeiling(probe: probe, quick: quick)
        let cores = ceiling.cores

        // Setup: deploy the token and fund every sender (not timed).
        var workload = TokenWorkload(senders: senders, initCode: initCode)
        let setup = workload.setup()
        _ = send(setup, hashes: setup.map { Keccak256.hash($0) }, to: [ports[0]], batch: 100, pace: nil)
        guard finality.waitFor(setup.count) else {
            section.notes.append("setup transactions were not finalised within 120 s")
            return
        }
        /// `n` transfers, senders taking turns (each sender's nonces in order).
        func transfers(_ n: Int) -> ([[UInt8]], [Bytes32]) {
            let lists = workload.transfers(perSender: n / senders.count)
            let raws = (0..<(n / senders.count)).flatMap { k in lists.map { $0[k] } }
            return (raws, raws.map { Keccak256.hash($0) })
        }

        // Full load.
        let total = quick ? 3_000 : 12_000
        let (raws, hashes) = transfers(total)
        let requests = Requests(raws, batch: 100)
        let before = finality.count, blocksBefore = finality.blocks
        let phasesBefore = network.phaseSeconds(), cpuBefore = network.cpuSeconds()
        let started = DispatchTime.now().uptimeNanoseconds
        let finished = Harness.profiled {
            _ = send(requests, hashes: hashes, to: ports, pace: nil)
            return finality.waitFor(before + total)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let phaseNote = type(of: network).phaseNote(before: phasesBefore, after: network.phaseSeconds(), transactions: total)
        let cpu = network.cpuSeconds() - cpuBefore
        let cpuNote = "CPU at full load: \(String(format: "%.1f", cpu)) s over \(String(format: "%.1f", seconds)) s (\(String(format: "%.2f", cpu / seconds)) of \(cores) cores busy; validators and client together), \(String(format: "%.0f", cpu / Double(total) * 1e6)) µs of CPU per transaction."
        let rate = Double(total) / seconds
        section.rows.append(Row(name: "ERC-20 transfers finalised, 4 validators (\(total) txs, \(finality.blocks - blocksBefore) blocks\(finished ? "" : ", TIMED OUT"))",
                                ours: rate, unit: "tx/s", reference: ceiling.allCores,
                                referenceName: "ecrecover on \(cores) cores", goal: "≥ 6,000"))

        // Latency at half that rate.
        let paced = quick ? 1_500 : 6_000
        let (raws2, hashes2) = transfers(paced)
        let requests2 = Requests(raws2, batch: 20)
        let before2 = finality.count
        let sentAt = send(requests2, hashes: hashes2, to: ports, pace: rate / 2)
        _ = finality.waitFor(before2 + paced)
        let latencies = finality.latencies(hashes2, sentAt: sentAt)
        let p50 = percentile(latencies, 0.5), p99 = percentile(latencies, 0.99)
        section.rows.append(Row(name: "Finality latency p50 at \(Int(rate / 2)) tx/s (send → stored on validator 0)", ours: p50 * 1000,
                                unit: "ms", reference: nil, referenceName: "-", goal: "< 500 ms"))
        section.rows.append(Row(name: "Finality latency p99 at \(Int(rate / 2)) tx/s", ours: p99 * 1000, unit: "ms",
                                reference: nil, referenceName: "-", goal: "< 300 ms"))
        section.notes += network.notes
        section.notes.append(phaseNote)
        section.notes.append(cpuNote)
        section.notes.append("Transactions are signed and their requests written before timing, and sent as JSON-RPC batches (100 at full load, 20 when paced) to the four servers in turn; a transaction counts when validator 0 stores its block (final: BFT commit with a certificate). Every answer waits for the receiving validator's pool journal on disk (group commit); every validator journals what its peers gossip, without waiting.")
        section.notes.append("Each validator recovers each sender once (when the transaction reaches its pool). \(ceiling.note(rate: rate, named: "full-load row (4 recoveries per transaction)", recoveriesPerTransaction: 4))")
        section.notes.append("Since 2026-12-08: transactions a validator's pool takes reach its consensus thread in one hand-off per 2 ms batch (before, about one wake of that thread per transaction: in process, futex calls fell from about 140 k to 40 k per run and CPU per transaction from 366/354/325 to 298/320/303 µs in three alternating rounds); transaction hashes and log keys are folded into their SQLite indexes every 16 blocks in key order instead of written row by row with each block (docs/DATA.md; pwrite calls of the in-process network about a quarter fewer); the requests are written before timing, as this note says (before, about 8 ms of the run was spent writing them inside the timing), and the client takes the finalised hashes from the stored block instead of hashing its transactions again.")
        section.notes.append("Each validator saves its consensus state before every vote it sends: since 2026-12-07 in place, one of two slots of consensus.rlp and one fdatasync (before, a temporary file, fsync, rename and a directory fsync: about 190 µs of CPU per save in perf); and it writes each committed block behind consensus (docs/CONSENSUS.md).")
    }
}

/// A network of validators a benchmark sends to: their JSON-RPC ports and what validator 0 finalised.
protocol BenchNetwork: AnyObject {
    var ports: [Int] { get }
    var finality: FinalityLog { get }
    /// How the network was run, for the section's notes.
    var notes: [String] { get }
    /// Seconds each phase of the nodes' phase clocks took since start, summed over the validators.
    func phaseSeconds() -> [String: Double]
    /// CPU seconds used so far by the validators and this process (the client), together.
    func cpuSeconds() -> Double
    func stop()
}

extension BenchNetwork {
    /// Microseconds per transaction in each phase between two ``phaseSeconds()`` readings, as a note.
    static func phaseNote(before: [String: Double], after: [String: Double], transactions: Int) -> String {
        "Where a transaction's time went at full load (kramaa_node_phase_seconds_total, per finalised transaction, summed over the four validators; phases overlap on several threads): "
            + PhaseTotals.perTransaction(before: before, after: after, transactions: transactions) + "."
    }
}

/// The nodes' phase clocks (`kramaa_node_phase_seconds_total`) read and compared by benchmarks.
enum PhaseTotals {
    /// Seconds per phase since start, summed over `nodes`.
    static func seconds(_ nodes: [Node]) -> [String: Double] {
        var sums: [String: Double] = [:]
        for node in nodes { for total in node.phases.totals { sums[total.phase.rawValue, default: 0] += total.seconds } }
        return sums
    }

    /// Microseconds per transaction in each phase between two ``seconds(_:)`` readings
    /// ("admission 80.1 µs, journal …"); phases that never ran are left out.
    static func perTransaction(before: [String: Double], after: [String: Double], transactions: Int) -> String {
        PhaseClock.Phase.allCases.compactMap { phase -> String? in
            guard let end = after[phase.rawValue], end > 0 else { return nil }
            let seconds = end - (before[phase.rawValue] ?? 0)
            return "\(phase.rawValue) \(String(format: "%.1f", seconds / Double(max(transactions, 1)) * 1e6)) µs"
        }.joined(separator: ", ")
    }
}

/// CPU seconds (user and system) this process used so far.
enum ProcessCPU {
    static var seconds: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// When validator 0 stored each transaction, and how many transactions and blocks it stored.
final class FinalityLog: @unchecked Sendable {
    private let lock = NSCondition()
    private var finalisedAt: [Bytes32: UInt64] = [:]
    private var transactions = 0
    private var blockCount = 0

    var count: Int { lock.withLock { transactions } }
    var blocks: Int { lock.withLock { blockCount } }

    /// A block stored now, holding these transactions.
    func record(_ hashes: [Bytes32]) {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        for h in hashes { finalisedAt[h] = now }
        transactions += hashes.count
        blockCount += 1
        lock.broadcast()
        lock.unlock()
    }

    func waitFor(_ total: Int, timeout: TimeInterval = 120) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while transactions < total { if !lock.wait(until: deadline) { return false } }
        return true
    }

    /// Seconds from send to storage of each of `hashes` that was stored, ascending.
    func latencies(_ hashes: [Bytes32], sentAt: [Bytes32: UInt64]) -> [Double] {
        lock.withLock { hashes.compactMap { h in finalisedAt[h].flatMap { f in sentAt[h].map { Double(f &- $0) / 1e9 } } } }.sorted()
    }
}
