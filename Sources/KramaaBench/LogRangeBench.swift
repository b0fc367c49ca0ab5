import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaStorage
import KramaaTestSupport

/// Log queries over a long range of stored blocks (the storage layer eth_getLogs reads): a
/// token's Transfer events in every block, and queries that match a few hundred of them.
/// The reference is reading just the matching blocks' logs by number, what an ideal index
/// leaves to do; a query that scans the range costs far more than that.
enum LogRangeBench {
    static let holders = 2_000
    static let transfersPerBlock = 4
    static let token = Address(word: UInt256(0x7070))
    static let other = Address(word: UInt256(0x0a0a))
    static let transfer = Keccak256.hash(Array("Transfer(address,address,uint256)".utf8))
    static let approval = Keccak256.hash(Array("Approval(address,address,uint256)".utf8))

    static func holder(_ i: Int) -> Bytes32 { UInt256(UInt64(0x1_0000 + i)).bytes32 }

    /// Appends `count` blocks after genesis: each with `transfersPerBlock` token transfers
    /// between random holders and one Approval of another contract.
    static func build(_ store: ChainStore, count: Int) throws {
        var random = SplitMix64(seed: 42)
        var parent = Bytes32.zero
        let genesis = SyntheticLogBlocks.block(number: 0, parent: &parent, transactions: [], logs: [])
        try store.initialize(genesisDocument: Data("{}".utf8), block: genesis.block, changes: StateChanges())
        let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [3])
        let tx = Transaction(type: .dynamicFee, chainId: 5, nonce: 0, maxPriorityFeePerGas: .one, maxFeePerGas: UInt256(10_000_000_000),
                             gasLimit: 100_000, to: token, data: []).signed(with: key)
        func anyHolder() -> Bytes32 { holder(Int(random.next() % UInt64(holders))) }
        for n in 1...UInt64(count) {
            var logs = (0..<transfersPerBlock).map { _ in
                Log(address: token, topics: [transfer, anyHolder(), anyHolder()], data: UInt256(n).bigEndianBytes)
            }
            logs.append(Log(address: other, topics: [approval, anyHolder(), anyHolder()], data: UInt256(n).bigEndianBytes))
            let executed = SyntheticLogBlocks.block(number: n, parent: &parent, transactions: [tx], logs: [logs])
            try store.append(executed, changes: StateChanges())
        }
    }

    /// Seconds per call of `body`, repeated for about `seconds` (at least twice; the first call
    /// is not timed, so both sides see the same warm cache of decoded blocks).
    static func perCall(seconds: Double, _ body: () -> Void) -> Double {
        body()
        var calls = 0
        let elapsed = Harness.time {
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
            repeat { body(); calls += 1 } while calls < 2 || DispatchTime.now().uptimeNanoseconds < deadline
        }
        return elapsed / Double(calls)
    }

    static func run(quick: Bool) -> [Row] {
        let blocks = quick ? 10_000 : 100_000
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-logrange-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try! ChainStore(path: directory.appendingPathComponent("chain.sqlite").path)
        let buildSeconds = Harness.time { try! build(store, count: blocks) }
        print("log range: stored \(blocks) blocks in \(String(format: "%.1f", buildSeconds)) s")

        let queries: [(String, LogFilter)] = [
            ("token address, Transfer, one recipient", LogFilter(fromBlock: 1, toBlock: UInt64(blocks), addresses: [token],
                                                                  topics: [[transfer], nil, [holder(7)]])),
            ("no address, one sender (topic 1)", LogFilter(fromBlock: 1, toBlock: UInt64(blocks), topics: [nil, [holder(7)]])),
        ]
        var rows: [Row] = []
        for (name, filter) in queries {
            let found = try! store.logs(filter)
            let numbers = Array(Set(found.map(\.blockNumber))).sorted()
            let seconds = perCall(seconds: quick ? 0.5 : 2) { blackHole(try! store.logs(filter)) }
            let direct = perCall(seconds: quick ? 0.5 : 2) {
                for n in numbers { blackHole(try! store.locatedLogs(number: n)) }
            }
            rows.append(Row(name: "Log query over \(blocks) stored blocks: \(name) (\(found.count) logs in \(numbers.count) blocks)",
                            ours: seconds * 1e3, unit: "ms", reference: direct * 1e3,
                            referenceName: "reading those \(numbers.count) blocks' logs by number"))
        }
        return rows
    }
}
