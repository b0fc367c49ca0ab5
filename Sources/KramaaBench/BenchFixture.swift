import Foundation
import KramaaEVM
import KramaaPrimitives

/// A GeneralStateTest-shaped workload file from evm-benchmarks: pre-state, block environment
/// and the transaction's calldata variants.
struct BenchFixture {
    struct Account {
        var address: Address
        var nonce: UInt64
        var balance: UInt256
        var code: [UInt8]
        var storage: [UInt256: UInt256]
    }

    enum LoadError: Error, CustomStringConvertible {
        case field(String)
        var description: String {
            switch self { case .field(let f): return "missing or malformed field \(f)" }
        }
    }

    var name: String
    var pre: [Account]
    var block: BlockContext
    var sender: Address
    var target: Address
    var data: [[UInt8]]
    var labels: [Int: String]
    var gasLimit: UInt64

    static func load(_ path: String) throws -> [BenchFixture] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let tests = json as? [String: [String: Any]] else { throw LoadError.field("top level") }
        return try tests.sorted { $0.key < $1.key }.map { name, test in try BenchFixture(name: name, test) }
    }

    init(name: String, _ test: [String: Any]) throws {
        self.name = name
        guard let pre = test["pre"] as? [String: [String: Any]] else { throw LoadError.field("pre") }
        self.pre = try pre.map { key, value in
            var storage: [UInt256: UInt256] = [:]
            for (slot, v) in value["storage"] as? [String: String] ?? [:] {
                storage[try UInt256(parsing: slot)] = try UInt256(parsing: v)
            }
            return Account(address: try Address(hex: key.lowercased()),
                           nonce: try UInt256(parsing: value["nonce"] as? String ?? "0x0").uint64Value ?? 0,
                           balance: try UInt256(parsing: value["balance"] as? String ?? "0x0"),
                           code: try Hex.decode(value["code"] as? String ?? "0x"), storage: storage)
        }
        guard let env = test["env"] as? [String: String], let tx = test["transaction"] as? [String: Any] else {
            throw LoadError.field("env/transaction")
        }
        func number(_ key: String) throws -> UInt64 {
            guard let s = env[key], let v = (try? UInt256(parsing: s))?.uint64Value else { throw LoadError.field("env.\(key)") }
            return v
        }
        block = BlockContext(
            coinbase: try Address(hex: (env["currentCoinbase"] ?? "").lowercased()),
            number: try number("currentNumber"), timestamp: try number("currentTimestamp"),
            gasLimit: try number("currentGasLimit"), baseFee: try UInt256(parsing: env["currentBaseFee"] ?? "0x0"),
            prevRandao: try UInt256(parsing: env["currentRandom"] ?? "0x0").bytes32, chainId: 1, blobBaseFee: .one)
        guard let sender = tx["sender"] as? String, let to = tx["to"] as? String,
              let data = tx["data"] as? [String], let gas = (tx["gasLimit"] as? [String])?.first else {
            throw LoadError.field("transaction")
        }
        self.sender = try Address(hex: sender.lowercased())
        self.target = try Address(hex: to.lowercased())
        self.data = try data.map { try Hex.decode($0) }
        self.gasLimit = try UInt256(parsing: gas).uint64Value ?? 0
        var labels: [Int: String] = [:]
        for (k, v) in (test["_info"] as? [String: Any])?["labels"] as? [String: String] ?? [:] {
            if let i = Int(k) { labels[i] = v }
        }
        self.labels = labels
    }
}
