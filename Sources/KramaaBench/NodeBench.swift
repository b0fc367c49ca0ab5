import KramaaJSON
import Foundation
import KramaaAPI
import KramaaChain
import KramaaEVM
import KramaaNode
import KramaaPrimitives
import KramaaRPC
import KramaaTestSupport

/// One node end to end: signed transactions sent over JSON-RPC (HTTP, batches of 100 on 4
/// connections) until every one is included in a stored block, and read calls (eth_call,
/// eth_getLogs). The ceiling measured in the same run is the machine's ecrecover rate, the
/// one cost per transaction nothing can avoid; reads are compared with eth_chainId, which
/// touches no state.
enum NodeBench {
    static let senders = 100

    final class Chain: @unchecked Sendable {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-bench-\(UUID().uuidString)")
        let node: Node
        let server: RPCServer
        let producer: BlockProducer
        let keys: [Secp256k1.PrivateKey]
        let included = NSCondition()
        var count = 0
        var failed = 0
        var blocks = 0

        init(keys: [Secp256k1.PrivateKey]) throws {
            self.keys = keys
            let alloc = keys.map { "\"\($0.publicKey.address)\": {\"balance\": \"0xffffffffffffffffffffffffffff\"}" }
            let genesis = """
                {"config": {"chainId": \(BenchTransactions.chainId), "kramaa": {"blockPeriodSeconds": 0}}, "gasLimit": "0x3938700",
                 "alloc": {\(alloc.joined(separator: ","))}}
                """
            try Node.initialize(dataDirectory: directory, genesisDocument: Data(genesis.utf8))
            node = try Node(dataDirectory: directory)
            var configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0)
            configuration.limits.maxBatchItems = 1000
            let router = EthAPI(node: node).router()
            server = RPCBench.blocking { [configuration] in try! await RPCServer.start(handler: router, configuration: configuration) }
            producer = BlockProducer(node: node) { error in fatalError("block production failed: \(error)") }
            node.addObserver { [weak self] event in
                guard let self, case .newBlock(let executed) = event else { return }
                included.lock()
                count += executed.block.transactions.count
                failed += executed.receipts.filter { !$0.success }.count
                blocks += 1
                included.broadcast()
                included.unlock()
            }
            producer.start()
        }

        func waitForIncluded(_ total: Int) {
            included.lock()
            while count < total { included.wait() }
            included.unlock()
        }

        func stop() {
            producer.stop()
            RPCBench.blocking { [server] in await server.shutdown() }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Sends `transactions` (per sender, in nonce order) on `connections` HTTP connections in
    /// batches, and returns the seconds until the last one is in a stored block.
    static func submit(_ transactions: [[[UInt8]]], to chain: Chain, connections: Int = 4, batch: Int = 100) -> Double {
        let total = transactions.reduce(0) { $0 + $1.count } + chain.count
        // Each connection takes a share of the senders and interleaves them nonce by nonce.
        let shares: [[[UInt8]]] = (0..<connections).map { c in
            let mine = stride(from: c, to: transactions.count, by: connections).map { transactions[$0] }
            let depth = mine.map(\.count).max() ?? 0
            return (0..<depth).flatMap { i in mine.compactMap { i < $0.count ? $0[i] : nil } }
        }
        let requests = shares.map { share in
            stride(from: 0, to: share.count, by: batch).map { BenchTransactions.batchRequest(share[$0..<min($0 + batch, share.count)]) }
        }
        let port = chain.server.port
        return Harness.time {
            Harness.onThreads(connections) { c in
                let socket = try! LoopbackSocket(port: port, timeoutSeconds: 60)
                for request in requests[c] { BenchTransactions.send(batchRequest: request, on: socket) }
            }
            chain.waitForIncluded(total)
        }
    }

    /// Requests per second of one JSON-RPC call repeated on 4 connections.
    static func requestRate(port: Int, body: String, seconds: Double) -> Double {
        let request = Array(LoopbackSocket.requestText(body: body).utf8)
        return Harness.rate(threads: 4, seconds: seconds) { _ in
            let socket = try! LoopbackSocket(port: port)
            return {
                try! socket.send(request)
                let reply = try! socket.readResponse()
                // The envelope names `result` or `error` first; checking only its head keeps
                // the client (sharing the cores with the server) from scanning large answers.
                precondition(reply.status == 200 && reply.body.starts(with: Self.resultHead), "failed: \(reply.text.prefix(300))")
            }
        }
    }

    /// The head of a successful answer to id 1 (the dispatcher writes `jsonrpc`, `id`, then `result`).
    static let resultHead = Array(#"{"jsonrpc":"2.0","id":1,"result":"#.utf8)

    static func run(erc20InitCode: String?, quick: Bool) -> Section {
        var section = Section(title: "Node over JSON-RPC", command: "scripts/bench.sh node")
        let keys = BenchTransactions.senders(senders)
        let perSender = quick ? 20 : 100

        // The ceiling: recovering each transaction's sender, on one core and on all.
        let tx = try! Transaction.decode(BenchTransactions.signed(keys[0], nonce: 0, to: keys[1].publicKey.address, gas: 21_000))
        let ceiling = RecoveryCeiling(probe: tx, quick: quick)
        let cores = ceiling.cores, recoverAll = ceiling.allCores

        // Plain transfers.
        do {
            let chain = try! Chain(keys: keys)
            defer { chain.stop() }
            let txs = keys.enumerated().map { i, key in
                (0..<perSender).map { n in
                    BenchTransactions.signed(key, nonce: UInt64(n), to: keys[(i + 1) % keys.count].publicKey.address, gas: 21_000)
                }
            }
            let seconds = submit(txs, to: chain)
            let total = Double(senders * perSender)
            section.rows.append(Row(name: "Plain transfers included (\(Int(total)) txs from \(senders) senders, \(chain.blocks) blocks, \(chain.failed) failed)",
                                    ours: total / seconds, unit: "tx/s", reference: recoverAll,
                                    referenceName: "ecrecover on \(cores) cores"))
        }

        guard let initCode = TokenWorkload.initCode(at: erc20InitCode) else {
            section.notes.append("ERC-20 rows need the compiled token: run through scripts/bench.sh.")
            return section
        }
        let chain = try! Chain(keys: keys)
        defer { chain.stop() }
        // Setup (not timed): deploy the token from sender 0, give every sender tokens.
        var workload = TokenWorkload(senders: keys, initCode: initCode)
        let token = workload.token
        _ = submit([workload.setup()], to: chain, connections: 1)
        precondition(chain.failed == 0, "token setup failed")
        let txs = workload.transfers(perSender: perSender)
        let blocksBefore = chain.blocks
        let phasesBefore = PhaseTotals.seconds([chain.node]), cpuBefore = ProcessCPU.seconds
        let seconds = Harness.profiled { submit(txs, to: chain) }
        let cpu = ProcessCPU.seconds - cpuBefore
        let total = Double(senders * perSender)
        let phases = PhaseTotals.perTransaction(before: phasesBefore, after: PhaseTotals.seconds([chain.node]), transactions: Int(total))
        section.notes.append("ERC-20 run: where a transaction's time went (kramaa_node_phase_seconds_total per included transaction; phases overlap on several threads): \(phases). CPU: \(String(format: "%.2f", cpu)) s over \(String(format: "%.2f", seconds)) s (\(String(format: "%.2f", cpu / seconds)) of \(cores) cores busy; node and client together), \(String(format: "%.0f", cpu / total * 1e6)) µs of CPU per transaction.")
        let erc20Rate = total / seconds
        section.rows.append(Row(name: "ERC-20 transfers included (Vyper token, \(Int(total)) txs from \(senders) senders, \(chain.blocks - blocksBefore) blocks, \(chain.failed) failed)",
                                ours: erc20Rate, unit: "tx/s", reference: recoverAll,
                                referenceName: "ecrecover on \(cores) cores", goal: "≥ 20,000"))

        // Reads against the chain just built.
        let port = chain.server.port
        let readSeconds = quick ? 0.5 : 2
        let baseline = requestRate(port: port, body: #"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#, seconds: readSeconds)
        let balanceOf = RPCHex.encodeData(ABI.call("balanceOf(address)", [.address(keys[1].publicKey.address)]))
        let call = requestRate(port: port, body: #"{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"\#(token.lowercased)","input":"\#(balanceOf)"},"latest"]}"#,
                               seconds: readSeconds)
        section.rows.append(Row(name: "eth_call ERC-20 balanceOf, 4 connections", ours: call, unit: "req/s", reference: baseline,
                                referenceName: "eth_chainId (no state)"))
        // The block of the transfer run holding the most Transfer events (how many transfers
        // a block gets depends on timing; the fullest one is the steadiest measure).
        func logCount(_ n: UInt64) -> Int { (try? chain.node.receipts(number: n))??.receipts.reduce(0) { $0 + $1.logs.count } ?? 0 }
        let fullest = (UInt64(blocksBefore + 1)...chain.node.latest.number).max { logCount($0) < logCount($1) } ?? chain.node.latest.number
        let block = RPCHex.encodeQuantity(fullest)
        let logs = requestRate(port: port, body: #"{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"fromBlock":"\#(block)","toBlock":"\#(block)","address":"\#(token.lowercased)"}]}"#,
                               seconds: readSeconds)
        section.rows.append(Row(name: "eth_getLogs Transfer events of the transfer run's fullest block (\(logCount(fullest)) logs), 4 connections", ours: logs,
                                unit: "req/s", reference: baseline, referenceName: "eth_chainId (no state)", goal: "≥ 1,000"))
        section.rows += LogRangeBench.run(quick: quick)
        section.notes.append("Log queries over stored blocks run in process on the storage layer (no JSON-RPC): \(LogRangeBench.transfersPerBlock) Transfer events of one token between \(LogRangeBench.holders) holders and one Approval of another contract per block; each query is repeated, so the blocks it reads are in the store's cache of decoded blocks after the first run (the reference reads the same blocks the same way).")
        section.notes.append("Transactions are signed and their requests written before timing, and sent as batches of 100 eth_sendRawTransaction calls on 4 HTTP connections; time runs until the last one is in a stored block (SQLite, synchronous=FULL). Each answer waits until the transaction is in the pool journal on disk (group commit: one fdatasync per batch or fewer). Blocks are sealed as soon as transactions wait (block period 0), each holding what arrived while the previous one was built.")
        section.notes.append("Client, server, block producer and SQLite share the machine's \(cores) cores. \(ceiling.note(rate: erc20Rate, named: "ERC-20 row"))")
        section.notes.append("The client checks every batch's answer for an error by a byte scan; until 2026-12-07 it used Foundation's generic `firstRange(of:)`, which took about 4 % of the machine's CPU in perf of the ERC-20 run, on the client's side of the shared cores.")
        return section
    }
}

/// Per-thread counters written from concurrent loops.
final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int]
    init(_ n: Int) { values = Array(repeating: 0, count: n) }
    func set(_ i: Int, _ v: Int) { lock.withLock { values[i] = v } }
    var total: Int { lock.withLock { values.reduce(0, +) } }
    func value(_ i: Int) -> Int { lock.withLock { values[i] } }
}
