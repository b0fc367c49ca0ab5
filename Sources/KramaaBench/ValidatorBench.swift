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
    final class Network: @unchecked Sendable {
        let nodes: [Node]
        let runtimes: [ValidatorRuntime]
        let servers: [RPCServer]
        let directories: [URL]
        let lock = NSCondition()
        var finalisedAt: [Bytes32: UInt64] = [:]
        var count = 0
        var blocks = 0

        /// - Parameter funded: accounts funded besides the senders (device accounts).
        init(validators: Int, senders: [Secp256k1.PrivateKey], funded: [Address] = []) throws {
            let keys = (0..<validators).map { i in try! Secp256k1.PrivateKey(Keccak256.hash(Array("bench validator \(i)".utf8))) }
            let alloc = (senders.map(\.publicKey.address) + funded).map { "\"\($0)\": {\"balance\": \"0xffffffffffffffffffffffffffff\"}" }
            let genesis = """
                {"config": {"chainId": \(BenchTransactions.chainId), "kramaa": {"validators": [\(keys.map { "\"\($0.publicKey.address)\"" }.joined(separator: ","))]}},
                 "gasLimit": "0x3938700", "alloc": {\(alloc.joined(separator: ","))}}
                """
            directories = (0..<validators).map { _ in
                FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-vbench-\(UUID().uuidString)")
            }
            var nodes: [Node] = [], runtimes: [ValidatorRuntime] = [], servers: [RPCServer] = []
            for i in 0..<validators {
                try Node.initialize(dataDirectory: directories[i], genesisDocument: Data(genesis.utf8))
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
            nodes[0].addObserver { [weak self] event in
                guard let self, case .newBlock(let executed) = event else { return }
                let now = DispatchTime.now().uptimeNanoseconds
                lock.lock()
                for tx in executed.block.transactions { finalisedAt[tx.hash] = now }
                count += executed.block.transactions.count
                blocks += 1
                lock.broadcast()
                lock.unlock()
            }
            // Wait until every validator has its peers.
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline && runtimes.contains(where: { $0.peerCount < validators - 1 }) { Thread.sleep(forTimeInterval: 0.05) }
        }

        func waitFor(_ total: Int, timeout: TimeInterval = 120) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            lock.lock()
            defer { lock.unlock() }
            while count < total { if !lock.wait(until: deadline) { return false } }
            return true
        }

        func stop() {
            for r in runtimes { RPCBench.blocking { await r.stop() } }
            for s in servers { RPCBench.blocking { await s.shutdown() } }
            for d in directories { try? FileManager.default.removeItem(at: d) }
        }
    }

    /// Sends raw transactions as batches, batch k to server k mod n, one client thread per
    /// server, optionally paced (transactions per second overall); returns each one's send time.
    static func send(_ raws: [[UInt8]], hashes: [Bytes32], to ports: [Int], batch: Int, pace: Double?) -> [Bytes32: UInt64] {
        let batches = stride(from: 0, to: raws.count, by: batch).map { $0..<min($0 + batch, raws.count) }
        let times = Counts(raws.count)
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
                BenchTransactions.sendBatch(raws[range], on: socket)
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

    static func run(erc20InitCode: String?, quick: Bool) -> Section {
        var section = Section(title: "Validators (4, BFT consensus)", command: "scripts/bench.sh validators")
        guard let initCode = TokenWorkload.initCode(at: erc20InitCode) else {
            section.notes.append("Needs the compiled token: run through scripts/bench.sh.")
            return section
        }
        let senders = BenchTransactions.senders(100)
        let network = try! Network(validators: 4, senders: senders)
        defer { network.stop() }
        let ports = network.servers.map(\.port)
        let probe = try! Transaction.decode(BenchTransactions.signed(senders[0], nonce: 0, to: senders[1].publicKey.address, gas: 21_000))
        let recoverOne = Harness.rate(batch: 1, seconds: quick ? 0.3 : 1) { blackHole(try! probe.sender()) }
        let cores = ProcessInfo.processInfo.activeProcessorCount

        // Setup: deploy the token and fund every sender (not timed).
        var workload = TokenWorkload(senders: senders, initCode: initCode)
        let setup = workload.setup()
        _ = send(setup, hashes: setup.map { Keccak256.hash($0) }, to: [ports[0]], batch: 100, pace: nil)
        guard network.waitFor(setup.count) else {
            section.notes.append("setup transactions were not finalised within 120 s")
            return section
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
        let before = network.count, blocksBefore = network.blocks
        let started = DispatchTime.now().uptimeNanoseconds
        _ = send(raws, hashes: hashes, to: ports, batch: 100, pace: nil)
        let finished = network.waitFor(before + total)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let rate = Double(total) / seconds
        section.rows.append(Row(name: "ERC-20 transfers finalised, 4 validators (\(total) txs, \(network.blocks - blocksBefore) blocks\(finished ? "" : ", TIMED OUT"))",
                                ours: rate, unit: "tx/s", reference: recoverOne * Double(cores),
                                referenceName: "ecrecover on \(cores) cores", goal: "≥ 2,000"))

        // Latency at half that rate.
        let paced = quick ? 1_500 : 6_000
        let (raws2, hashes2) = transfers(paced)
        let before2 = network.count
        let sentAt = send(raws2, hashes: hashes2, to: ports, batch: 20, pace: rate / 2)
        _ = network.waitFor(before2 + paced)
        let latencies = network.lock.withLock {
            hashes2.compactMap { h in network.finalisedAt[h].flatMap { f in sentAt[h].map { Double(f &- $0) / 1e9 } } }
        }.sorted()
        let p50 = percentile(latencies, 0.5), p99 = percentile(latencies, 0.99)
        section.rows.append(Row(name: "Finality latency p50 at \(Int(rate / 2)) tx/s (send → stored on validator 0)", ours: p50 * 1000,
                                unit: "ms", reference: nil, referenceName: "-", goal: "< 500 ms"))
        section.rows.append(Row(name: "Finality latency p99 at \(Int(rate / 2)) tx/s", ours: p99 * 1000, unit: "ms",
                                reference: nil, referenceName: "-", goal: "< 1,500 ms"))
        let rounds = network.runtimes.map { $0.statistics }
        section.notes.append("Heights committed per validator: \(rounds.map(\.commits)); rounds beyond the first: \(rounds.map(\.extraRounds)).")
        section.notes.append("Four validators in one process, each with its own SQLite data folder, TLS peer connections on loopback, consensus core and JSON-RPC server; client and validators share the machine's \(cores) cores. Transactions are signed before timing and sent as JSON-RPC batches (100 at full load, 20 when paced) to the four servers in turn; a transaction counts when validator 0 stores its block (final: BFT commit with a certificate). Every answer waits for the receiving validator's pool journal on disk (group commit); every validator journals what its peers gossip, without waiting.")
        section.notes.append("Ceiling: \(Row.format(recoverOne)) ecrecover/s on one core; each validator recovers each sender once (when the transaction reaches its pool).")
        return section
    }
}
