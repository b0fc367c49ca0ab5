import Foundation
import KramaaPrimitives

/// A genesis file in geth's shape: `config` (with `chainId` and Kramaa's own `kramaa`
/// section), `alloc`, `gasLimit`, `timestamp`, `extraData`, `baseFeePerGas`, `coinbase`.
///
///     { "config": { "chainId": 1337,
///                   "kramaa": { "blockPeriodSeconds": 1, "emptyBlocks": false, "historyCommitment": true,
///                               "validators": ["0x…"], "feePolicy": "eip1559",
///                               "allowList": ["0x…"] } },
///       "gasLimit": "0x1c9c380", "timestamp": "0x0",
///       "alloc": { "0x…": { "balance": "0x…", "nonce": "0x0", "code": "0x…", "storage": { "0x0": "0x1" } } } }
public struct Genesis: Equatable, Sendable {
    public struct Allocation: Equatable, Sendable {
        public var balance: UInt256 = .zero
        public var nonce: UInt64 = 0
        public var code: [UInt8] = []
        public var storage: [UInt256: UInt256] = [:]
        public init(balance: UInt256 = .zero, nonce: UInt64 = 0, code: [UInt8] = [], storage: [UInt256: UInt256] = [:]) {
            self.balance = balance
            self.nonce = nonce
            self.code = code
            self.storage = storage
        }
    }

    public var config: ChainConfig
    public var alloc: [Address: Allocation] = [:]
    public var gasLimit: UInt64 = 30_000_000
    public var timestamp: UInt64 = 0
    public var extraData: [UInt8] = []
    public var coinbase: Address = .zero
    /// Base fee of block 0 (zero under the zero-fee policy).
    public var baseFeePerGas: UInt256 = FeeMarket.initialBaseFee

    public init(config: ChainConfig) { self.config = config }

    /// What was wrong with a genesis file, naming the field.
    public struct FormatError: Error, CustomStringConvertible, Equatable {
        public var field: String
        public var problem: String
        public var description: String { "genesis: \(field): \(problem)" }
    }

    /// Parses a genesis JSON document.
    public static func parse(_ data: Data) throws(FormatError) -> Genesis {
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FormatError(field: "(document)", problem: "not a JSON object")
        }
        guard let configJSON = json["config"] as? [String: Any] else {
            throw FormatError(field: "config", problem: "missing; it must hold at least chainId")
        }
        guard let chainId = try uint64(configJSON["chainId"], "config.chainId"), chainId > 0 else {
            throw FormatError(field: "config.chainId", problem: "missing or zero")
        }
        var config = ChainConfig(chainId: chainId)
        if let k = configJSON["kramaa"] {
            guard let kramaa = k as? [String: Any] else { throw FormatError(field: "config.kramaa", problem: "must be an object") }
            if let period = try uint64(kramaa["blockPeriodSeconds"], "config.kramaa.blockPeriodSeconds") {
                config.blockPeriodSeconds = period
            }
            if let empty = kramaa["emptyBlocks"] {
                guard let b = empty as? Bool else { throw FormatError(field: "config.kramaa.emptyBlocks", problem: "must be true or false") }
                config.emptyBlocks = b
            }
            if let commits = kramaa["historyCommitment"] {
                guard let b = commits as? Bool else { throw FormatError(field: "config.kramaa.historyCommitment", problem: "must be true or false") }
                config.commitsHistory = b
            }
            config.validators = try addresses(kramaa["validators"], "config.kramaa.validators") ?? []
            if let policy = kramaa["feePolicy"] {
                guard let s = policy as? String, let p = FeePolicy(rawValue: s) else {
                    throw FormatError(field: "config.kramaa.feePolicy", problem: "must be \"eip1559\" or \"zero\"")
                }
                config.feePolicy = p
            }
            config.allowList = try addresses(kramaa["allowList"], "config.kramaa.allowList").map(Set.init)
            config.deployerAllowList = try addresses(kramaa["deployerAllowList"], "config.kramaa.deployerAllowList").map(Set.init)
            config.nodeAllowList = try addresses(kramaa["nodeAllowList"], "config.kramaa.nodeAllowList").map(Set.init)
        }
        var genesis = Genesis(config: config)
        if let g = try uint64(json["gasLimit"], "gasLimit") { genesis.gasLimit = g }
        if genesis.gasLimit < 5000 { throw FormatError(field: "gasLimit", problem: "below the minimum of 5000") }
        if let t = try uint64(json["timestamp"], "timestamp") { genesis.timestamp = t }
        if let e = json["extraData"] {
            guard let s = e as? String, let bytes = try? Hex.decode(s), bytes.count <= BlockHeader.maxExtraDataSize else {
                throw FormatError(field: "extraData", problem: "must be hex of at most 32 bytes")
            }
            genesis.extraData = bytes
        }
        if let c = json["coinbase"] { genesis.coinbase = try address(c, "coinbase") }
        if config.feePolicy == .zero {
            genesis.baseFeePerGas = .zero
        } else if let b = try uint256(json["baseFeePerGas"], "baseFeePerGas") {
            genesis.baseFeePerGas = b
        }
        if let a = json["alloc"] {
            guard let alloc = a as? [String: Any] else { throw FormatError(field: "alloc", problem: "must be an object") }
            for (key, value) in alloc {
                let field = "alloc[\(key)]"
                let address = try address(key.hasPrefix("0x") ? key : "0x" + key, field)
                guard let entry = value as? [String: Any] else { throw FormatError(field: field, problem: "must be an object") }
                var allocation = Allocation()
                allocation.balance = try uint256(entry["balance"], field + ".balance") ?? .zero
                allocation.nonce = try uint64(entry["nonce"], field + ".nonce") ?? 0
                if let c = entry["code"] {
                    guard let s = c as? String, let code = try? Hex.decode(s) else { throw FormatError(field: field + ".code", problem: "must be hex") }
                    allocation.code = code
                }
                if let s = entry["storage"] {
                    guard let storage = s as? [String: Any] else { throw FormatError(field: field + ".storage", problem: "must be an object") }
                    for (slot, v) in storage {
                        guard let k = try uint256(slot, field + ".storage key"), let x = try uint256(v, field + ".storage[\(slot)]") else { continue }
                        if !x.isZero { allocation.storage[k] = x }
                    }
                }
                genesis.alloc[address] = allocation
            }
        }
        return genesis
    }

    static func uint256(_ value: Any?, _ field: String) throws(FormatError) -> UInt256? {
        switch value {
        case nil: return nil
        case let s as String:
            guard let v = try? UInt256(parsing: s) else { throw FormatError(field: field, problem: "not a number: \(s)") }
            return v
        case let n as NSNumber where n.int64Value >= 0 && !Genesis.isBoolean(n) && n.doubleValue == Double(n.int64Value):
            return UInt256(UInt64(n.int64Value))
        default: throw FormatError(field: field, problem: "must be a hex or decimal number")
        }
    }

    /// JSON `true`/`false` arrive as NSNumber too; tell them apart by their stored type.
    static func isBoolean(_ n: NSNumber) -> Bool {
        let type = String(cString: n.objCType)
        return type == "c" || type == "B"
    }

    static func uint64(_ value: Any?, _ field: String) throws(FormatError) -> UInt64? {
        guard let v = try uint256(value, field) else { return nil }
        guard let small = v.uint64Value else { throw FormatError(field: field, problem: "does not fit in 64 bits") }
        return small
    }

    static func address(_ value: Any, _ field: String) throws(FormatError) -> Address {
        guard let s = value as? String, let a = try? Address(hex: s.lowercased()) else {
            throw FormatError(field: field, problem: "not a 20-byte hex address")
        }
        return a
    }

    static func addresses(_ value: Any?, _ field: String) throws(FormatError) -> [Address]? {
        guard let value else { return nil }
        guard let list = value as? [Any] else { throw FormatError(field: field, problem: "must be a list of addresses") }
        var out: [Address] = []
        for item in list { out.append(try address(item, field)) }
        return out
    }
}
