import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState

/// A field of a JSON fixture (a state test, an EVM message case) that is missing or malformed.
public struct FixtureError: Error, CustomStringConvertible {
    /// The field, as a path (`pre[0x..].storage`, `env.currentNumber`).
    public var field: String
    /// What holds it: `test NAME`, `case`.
    public var context: String
    /// Why it was refused, when more can be said than "missing or bad".
    public var detail: String?

    public init(_ field: String, in context: String, _ detail: String? = nil) {
        self.field = field
        self.context = context
        self.detail = detail
    }

    public var description: String {
        "malformed \(context): missing or bad field \(field)" + (detail.map { ": \($0)" } ?? "")
    }
}

/// One account of a pre-state: what `InMemoryState.set` takes.
public struct PreAccount: Sendable {
    public var address: Address
    public var nonce: UInt64
    /// In wei.
    public var balance: UInt256
    /// Deployed code (empty for an externally owned account).
    public var code: [UInt8]
    /// Slot to value; zero values are dropped when the state is built.
    public var storage: [UInt256: UInt256]

    public init(address: Address, nonce: UInt64 = 0, balance: UInt256 = .zero, code: [UInt8] = [],
                storage: [UInt256: UInt256] = [:]) {
        self.address = address
        self.nonce = nonce
        self.balance = balance
        self.code = code
        self.storage = storage
    }
}

extension InMemoryState {
    /// A state holding exactly these accounts, with these answers for BLOCKHASH.
    public convenience init(pre: [PreAccount], blockHashes: [UInt64: Bytes32] = [:]) {
        self.init()
        for a in pre { set(a.address, nonce: a.nonce, balance: a.balance, code: a.code, storage: a.storage) }
        self.blockHashes = blockHashes
    }
}

/// The JSON shapes the Ethereum GeneralStateTests use for `pre` and `env`, shared by the state
/// test runner and the `kramaa evm` message cases. Quantities are `0x` hex or decimal strings
/// (JSON numbers are accepted too).
public enum FixtureJSON {
    /// A quantity: a JSON number or a `0x` hex / decimal string.
    public static func quantity(_ value: Any?) -> UInt256? {
        if let s = value as? String { return try? UInt256(parsing: s) }
        // Integral, non-negative JSON numbers only ("1.5" and "-1" do not parse as decimal).
        if let n = value as? NSNumber { return try? UInt256(decimal: n.stringValue) }
        return nil
    }

    /// Bytes from a `0x` hex string.
    public static func bytes(_ value: Any?) -> [UInt8]? {
        (value as? String).flatMap { try? Hex.decode($0) }
    }

    /// An address from a `0x` hex string of 20 bytes.
    public static func address(_ value: Any?) -> Address? {
        (value as? String).flatMap { try? Address(hex: $0.lowercased()) }
    }

    /// `pre`: `{address: {balance, nonce, code, storage: {slot: value}}}`; absent fields are zero/empty.
    public static func preState(_ json: Any?, context: String) throws(FixtureError) -> [PreAccount] {
        guard let pre = json as? [String: Any] else { throw FixtureError("pre", in: context, "expected an object of accounts") }
        var accounts: [PreAccount] = []
        for (key, raw) in pre.sorted(by: { $0.key < $1.key }) {
            guard let value = raw as? [String: Any], let address = Self.address(key),
                  let nonce = quantity(value["nonce"] ?? "0x0")?.uint64Value,
                  let balance = quantity(value["balance"] ?? "0x0"),
                  let code = bytes(value["code"] ?? "0x")
            else { throw FixtureError("pre[\(key)]", in: context) }
            var storage: [UInt256: UInt256] = [:]
            guard let slots = (value["storage"] ?? [String: Any]()) as? [String: Any] else {
                throw FixtureError("pre[\(key)].storage", in: context)
            }
            for (slot, v) in slots {
                guard let s = try? UInt256(parsing: slot), let x = quantity(v) else {
                    throw FixtureError("pre[\(key)].storage", in: context, "slot \(slot)")
                }
                storage[s] = x
            }
            accounts.append(PreAccount(address: address, nonce: nonce, balance: balance, code: code, storage: storage))
        }
        return accounts
    }

    /// `env`: currentCoinbase, currentNumber, currentTimestamp, currentGasLimit, currentBaseFee,
    /// currentRandom (or currentDifficulty), currentExcessBlobGas; chain id 1 unless `chainId` is given.
    public static func blockContext(_ json: Any?, context: String) throws(FixtureError) -> BlockContext {
        guard let env = json as? [String: Any] else { throw FixtureError("env", in: context, "expected an object") }
        func number(_ key: String) throws(FixtureError) -> UInt256 {
            guard let v = quantity(env[key]) else { throw FixtureError("env.\(key)", in: context) }
            return v
        }
        let random: UInt256
        if let r = quantity(env["currentRandom"]) { random = r } else { random = try number("currentDifficulty") }
        let excess = quantity(env["currentExcessBlobGas"])?.uint64Value ?? 0
        guard let coinbase = address(env["currentCoinbase"]) else { throw FixtureError("env.currentCoinbase", in: context) }
        let chainId = try env["chainId"] == nil ? 1 : number("chainId").clampedUInt64
        return BlockContext(
            coinbase: coinbase,
            number: try number("currentNumber").clampedUInt64,
            timestamp: try number("currentTimestamp").clampedUInt64,
            gasLimit: try number("currentGasLimit").clampedUInt64,
            baseFee: quantity(env["currentBaseFee"]) ?? .zero,
            prevRandao: random.bytes32,
            chainId: chainId,
            blobBaseFee: BlobRules.blobBaseFee(excessBlobGas: excess))
    }

    /// The hashes BLOCKHASH can see below block `number`; the state tests (like geth's runner)
    /// take keccak256 of the decimal block number.
    public static func blockHashes(below number: UInt64) -> [UInt64: Bytes32] {
        var hashes: [UInt64: Bytes32] = [:]
        for n in (number > 256 ? number - 256 : 0)..<number {
            hashes[n] = Keccak256.hash(Array(String(n).utf8))
        }
        return hashes
    }
}

extension UInt256 {
    /// The value as UInt64, saturating.
    public var clampedUInt64: UInt64 { uint64Value ?? .max }
}
