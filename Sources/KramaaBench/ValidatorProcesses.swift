import Foundation
import KramaaAPI
import KramaaJSON
import KramaaNode
import KramaaPrimitives
import KramaaRPC
import KramaaTestSupport

/// Validators as users run them: one `kramaa node` process each, with its own data folder
/// (made by `Node.initialize` from the benchmark's genesis, as `kramaa init` does), TLS peer
/// connections on loopback and JSON-RPC server. Validator 0's new blocks are read over its
/// JSON-RPC (`eth_blockNumber` every millisecond, then each new block's transaction hashes),
/// so a finality time includes up to a poll interval and one block read.
final class ProcessNetwork: BenchNetwork, @unchecked Sendable {
    let ports: [Int]
    let finality = FinalityLog()
    private let processes: [Process]
    /// Every validator's standard input (`--stop-with-stdin`): a pipe whose write end only this
    /// process holds, so it closes when this process ends, however it ends.
    private let lifeline: (read: FileHandle, write: Int32)
    private let directory: URL
    private let watching = Flag()

    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    init(kramaa: String, validators: Int, funded: [Address], feePolicy: String = "eip1559") throws {
        let keys = ValidatorBench.validatorKeys(validators)
        let genesis = ValidatorBench.genesis(validators: keys, funded: funded, feePolicy: feePolicy)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-vbench-processes-\(UUID().uuidString)")
        let base = Int.random(in: 20_000...30_000)
        ports = (0..<validators).map { base + $0 }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw StartFailure(description: "cannot make a pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)  // the validators inherit only the read end
        lifeline = (FileHandle(fileDescriptor: ends[0], closeOnDealloc: true), ends[1])
        var processes: [Process] = []
        defer { if processes.count < validators { for p in processes { p.terminate() } } }
        for i in 0..<validators {
            let folder = directory.appendingPathComponent("validator-\(i)")
            try Node.initialize(dataDirectory: folder, genesisDocument: genesis)
            let keyPath = folder.appendingPathComponent("node-key.json").path
            guard FileManager.default.createFile(atPath: keyPath, contents: Data(KeyFile(.secp256k1(keys[i])).encoded()),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw StartFailure(description: "cannot write \(keyPath)")
            }
            var arguments = ["node", "--datadir", folder.path, "--rpc-port", String(ports[i]), "--p2p-port", String(base + validators + i),
                             "--key", keyPath, "--no-mqtt", "--quiet", "--stop-with-stdin"]
            for j in 0..<validators where j != i {
                arguments += ["--bootnode", "\(keys[j].publicKey.address)@127.0.0.1:\(base + validators + j)"]
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: kramaa)
            process.arguments = arguments
            let log = folder.appendingPathComponent("node.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            // The lifeline: the validator stops when this process ends, even if it crashes.
            process.standardInput = lifeline.read
            try process.run()
            processes.append(process)
        }
        self.processes = processes
        // Every validator answers, or the start failed. (Until they have their peers, the
        // setup transactions wait for consensus: that is not timed.)
        let deadline = Date().addingTimeInterval(30)
        for (i, port) in ports.enumerated() {
            while (try? Self.call(port, "eth_blockNumber")) == nil {
                guard processes[i].isRunning, Date() < deadline else {
                    let log = (try? String(contentsOf: directory.appendingPathComponent("validator-\(i)/node.log"), encoding: .utf8)) ?? ""
                    stop()
                    throw StartFailure(description: "validator \(i) did not answer within 30 s: \(log.suffix(2000))")
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        let thread = Thread { [self] in watch() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// One JSON-RPC call to a validator on loopback.
    static func call(_ port: Int, _ method: String, _ params: String = "[]", socket: LoopbackSocket? = nil) throws -> JSON {
        let connection = try socket ?? LoopbackSocket(port: port, timeoutSeconds: 10)
        let reply = try connection.request(body: #"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":\#(params)}"#)
        guard let result = try JSON.parse(reply.body)["result"] else { throw StartFailure(description: "\(method): \(reply.text.prefix(300))") }
        return result
    }

    /// Records validator 0's blocks as they appear.
    private func watch() {
        guard let socket = try? LoopbackSocket(port: ports[0], timeoutSeconds: 10) else { return }
        var next: UInt64 = 1
        while watching.isUp {
            guard let head = (try? Self.call(ports[0], "eth_blockNumber", socket: socket))?.stringValue.flatMap({ UInt64($0.dropFirst(2), radix: 16) }) else { return }
            if head < next {
                Thread.sleep(forTimeInterval: 0.001)
                continue
            }
            for n in next...head {
                guard let block = try? Self.call(ports[0], "eth_getBlockByNumber", "[\"\(RPCHex.encodeQuantity(n))\",false]", socket: socket),
                      case .array(let transactions)? = block["transactions"] else { return }
                finality.record(transactions.compactMap { $0.stringValue.flatMap { try? Bytes32(Hex.decode($0)) } })
            }
            next = head + 1
        }
    }

    /// The phase clocks of every validator (their `/metrics`), summed.
    func phaseSeconds() -> [String: Double] {
        var sums: [String: Double] = [:]
        for port in ports {
            guard let socket = try? LoopbackSocket(port: port, timeoutSeconds: 10),
                  let reply = try? socket.request("GET", path: "/metrics", contentType: nil) else { continue }
            for line in reply.text.split(separator: "\n") where line.hasPrefix("kramaa_node_phase_seconds_total{") {
                guard let open = line.range(of: "phase=\""), let close = line[open.upperBound...].firstIndex(of: "\""),
                      let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
                sums[String(line[open.upperBound..<close]), default: 0] += value
            }
        }
        return sums
    }

    func cpuSeconds() -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return processes.reduce(ProcessCPU.seconds) { total, process in
            let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
            // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return total }
            return total + (user + system) / ticks
        }
    }

    /// Bytes of validator 0's chain database (`chain.sqlite` and its write-ahead log).
    var databaseBytes: Int64 { NodeMetrics.databaseBytes(in: directory.appendingPathComponent("validator-0")) }

    /// Resident memory of each validator process, in KiB (VmRSS), and its peak (VmHWM).
    var residentKiB: [(now: Int, peak: Int)] {
        processes.map { process in
            let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            func field(_ name: String) -> Int {
                status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
            }
            return (field("VmRSS"), field("VmHWM"))
        }
    }

    var notes: [String] {
        let memory = residentKiB.map { "\($0.now / 1024) MiB (peak \($0.peak / 1024) MiB)" }
        return ["Four `kramaa node` processes, each with its own SQLite data folder, TLS peer connections on loopback and JSON-RPC server; client and validators share the machine's \(ProcessInfo.processInfo.activeProcessorCount) cores. Validator 0's blocks are read over JSON-RPC (eth_blockNumber every millisecond), so each finality time includes up to that poll and one block read.",
                "Resident memory of the validators after the run: \(memory.joined(separator: ", "))."]
    }

    func stop() {
        watching.lower()  // the watcher ends at its next poll, or when its validator goes
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { process.waitUntilExit() }
        close(lifeline.write)
        try? FileManager.default.removeItem(at: directory)
    }

    /// A flag another thread lowers.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var up = true
        var isUp: Bool { lock.withLock { up } }
        func lower() { lock.withLock { up = false } }
    }
}
