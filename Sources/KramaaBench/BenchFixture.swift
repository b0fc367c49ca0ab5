import Foundation
import KramaaEVM
import KramaaEVMHarness
import KramaaPrimitives

/// A GeneralStateTest-shaped workload file from evm-benchmarks: pre-state, block environment
/// (both parsed by the state-test harness) and the transaction's calldata variants.
struct BenchFixture {
    var name: String
    var pre: [PreAccount]
    var block: BlockContext
    var sender: Address
    var target: Address
    var data: [[UInt8]]
    var labels: [Int: String]
    var gasLimit: UInt64

    static func load(_ path: String) throws -> [BenchFixture] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let tests = json as? [String: [String: Any]] else { throw FixtureError("top level", in: path) }
        return try tests.sorted { $0.key < $1.key }.map { name, test in try BenchFixture(name: name, test) }
    }

    init(name: String, _ test: [String: Any]) throws {
        self.name = name
        pre = try FixtureJSON.preState(test["pre"], context: name)
        block = try FixtureJSON.blockContext(test["env"], context: name)
        guard let tx = test["transaction"] as? [String: Any], let sender = FixtureJSON.address(tx["sender"]),
              let target = FixtureJSON.address(tx["to"]), let data = tx["data"] as? [Any],
              let gas = FixtureJSON.quantity((tx["gasLimit"] as? [Any])?.first)?.uint64Value
        else { throw FixtureError("transaction", in: name) }
        self.sender = sender
        self.target = target
        self.data = try data.map { guard let bytes = FixtureJSON.bytes($0) else { throw FixtureError("transaction.data", in: name) }; return bytes }
        self.gasLimit = gas
        var labels: [Int: String] = [:]
        for (k, v) in (test["_info"] as? [String: Any])?["labels"] as? [String: String] ?? [:] {
            if let i = Int(k) { labels[i] = v }
        }
        self.labels = labels
    }
}
