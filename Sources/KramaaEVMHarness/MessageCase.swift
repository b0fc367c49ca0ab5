import Foundation
import KramaaEVM
import KramaaPrimitives
import KramaaState

/// One EVM message to run from outside the chain (`kramaa evm run`, `kramaa evm batch`, the
/// fuzzer): a pre-state, the block and transaction environment, and the message itself.
///
/// JSON form (every field but `message.gas` optional; quantities are numbers, `0x` hex or decimal strings):
/// ```
/// {"id": any, "pre": {ADDR: {"balance", "nonce", "code", "storage": {SLOT: VALUE}}},
///  "env": {"currentCoinbase", "currentNumber", "currentTimestamp", "currentGasLimit",
///          "currentBaseFee", "currentRandom", "currentExcessBlobGas", "chainId"},
///  "tx": {"origin", "gasPrice", "blobHashes": [HASH]},
///  "message": {"caller", "to", "value", "data", "gas", "static"}}
/// ```
/// Without `message.to` the message creates a contract with `data` as its init code.
public struct MessageCase {
    /// Echoed in the result line (any JSON value).
    public var id: Any?
    /// The accounts that exist before the message.
    public var pre: [PreAccount]
    public var block: BlockContext
    /// ORIGIN, GASPRICE and the blob hashes.
    public var transaction: TransactionContext
    /// CALLER of the first frame.
    public var caller: Address
    /// The called account; nil for contract creation.
    public var to: Address?
    /// Wei moved from the caller to the called (or created) account.
    public var value: UInt256
    /// Call data, or the init code of a creation.
    public var data: [UInt8]
    /// Gas given to the first frame (no intrinsic gas is taken from it).
    public var gas: Int64
    /// Whether the first frame runs as STATICCALL.
    public var isStatic: Bool

    public init(id: Any? = nil, pre: [PreAccount], block: BlockContext, transaction: TransactionContext,
                caller: Address, to: Address?, value: UInt256 = .zero, data: [UInt8] = [], gas: Int64,
                isStatic: Bool = false) {
        self.id = id
        self.pre = pre
        self.block = block
        self.transaction = transaction
        self.caller = caller
        self.to = to
        self.value = value
        self.data = data
        self.gas = gas
        self.isStatic = isStatic
    }

    /// The environment used when a case leaves `env` fields out.
    nonisolated(unsafe) public static let defaultEnv: [String: Any] = [
        "currentCoinbase": "0x00000000000000000000000000000000c014ba5e",
        "currentNumber": "0x1", "currentTimestamp": "0x3e8", "currentGasLimit": "0x1c9c380",
        "currentBaseFee": "0x7", "currentRandom": "0x0", "currentExcessBlobGas": "0x0",
    ]

    /// The most gas a case may give: far above any block, far below Int64 overflow in the interpreter.
    public static let maxGas: UInt64 = 1 << 60

    /// Decodes one case from a JSON text.
    public static func decode(json text: some StringProtocol) throws(FixtureError) -> MessageCase {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw FixtureError("(whole line)", in: "case", "not valid JSON")
        }
        guard let json = object as? [String: Any] else { throw FixtureError("(whole line)", in: "case", "expected a JSON object") }
        return try decode(json)
    }

    /// Decodes one case from parsed JSON.
    public static func decode(_ json: [String: Any]) throws(FixtureError) -> MessageCase {
        let known: Set<String> = ["id", "pre", "env", "tx", "message"]
        if let extra = json.keys.sorted().first(where: { !known.contains($0) }) {
            throw FixtureError(extra, in: "case", "unknown field (expected id, pre, env, tx, message)")
        }
        let pre = try FixtureJSON.preState(json["pre"] ?? [String: Any](), context: "case")
        guard let envFields = (json["env"] ?? [String: Any]()) as? [String: Any] else { throw FixtureError("env", in: "case") }
        let block = try FixtureJSON.blockContext(defaultEnv.merging(envFields) { $1 }, context: "case")
        guard let message = json["message"] as? [String: Any] else {
            throw FixtureError("message", in: "case", "expected an object with at least gas")
        }
        func field<T>(_ name: String, _ parse: (Any?) -> T?) throws(FixtureError) -> T? {
            guard let raw = message[name], !(raw is NSNull) else { return nil }
            guard let v = parse(raw) else { throw FixtureError("message.\(name)", in: "case") }
            return v
        }
        let caller = try field("caller", FixtureJSON.address) ?? Address.zero
        let to = try field("to", FixtureJSON.address)
        let value = try field("value", FixtureJSON.quantity) ?? .zero
        let data = try field("data", FixtureJSON.bytes) ?? []
        guard let gas = try field("gas", FixtureJSON.quantity) else {
            throw FixtureError("message.gas", in: "case", "the gas limit is required")
        }
        guard gas <= UInt256(maxGas) else { throw FixtureError("message.gas", in: "case", "at most \(maxGas)") }
        let isStatic = try field("static") { $0 as? Bool } ?? false
        if to == nil && data.count > EVM.maxInitCodeSize {
            throw FixtureError("message.data", in: "case", "init code of \(data.count) bytes is over the EIP-3860 limit of \(EVM.maxInitCodeSize)")
        }
        if to == nil && isStatic { throw FixtureError("message.static", in: "case", "a contract creation cannot be static") }
        return MessageCase(id: json["id"], pre: pre, block: block,
                           transaction: try transactionContext(json["tx"], caller: caller),
                           caller: caller, to: to, value: value, data: data, gas: Int64(gas.low64), isStatic: isStatic)
    }

    static func transactionContext(_ json: Any?, caller: Address) throws(FixtureError) -> TransactionContext {
        guard let tx = (json ?? [String: Any]()) as? [String: Any] else { throw FixtureError("tx", in: "case") }
        var origin = caller
        if let raw = tx["origin"] {
            guard let a = FixtureJSON.address(raw) else { throw FixtureError("tx.origin", in: "case") }
            origin = a
        }
        guard let gasPrice = FixtureJSON.quantity(tx["gasPrice"] ?? "0x7") else { throw FixtureError("tx.gasPrice", in: "case") }
        var hashes: [Bytes32] = []
        for raw in tx["blobHashes"] as? [Any] ?? [] {
            guard let s = raw as? String, let h = try? Bytes32(hex: s) else { throw FixtureError("tx.blobHashes", in: "case") }
            hashes.append(h)
        }
        return TransactionContext(origin: origin, gasPrice: gasPrice, blobHashes: hashes)
    }
}

/// What running a `MessageCase` produced: the frame's result and the state after it, with the
/// end-of-transaction rules applied (EIP-6780 deletions, EIP-161 touched empty accounts).
public struct MessageOutcome {
    public var status: ExecutionStatus
    /// The gas the message was given.
    public var gas: Int64
    public var gasLeft: Int64
    /// The refund counter at the end (EIP-3529), before any cap.
    public var refund: Int64
    public var output: [UInt8]
    public var createdAddress: Address?
    public var logs: [Log]
    /// Every account the message read or wrote, after it: nil for an account that does not exist.
    public var post: [(Address, InMemoryState.Account?, code: [UInt8])]
    public var stateRoot: Bytes32
    /// Instructions the interpreter executed, over all frames.
    public var instructions: UInt64

    public var gasUsed: Int64 { gas - gasLeft }

    /// The result as JSON (see `kramaa evm batch --help` for the fields).
    public func json(id: Any?) -> [String: Any] {
        var out: [String: Any] = [
            "gasUsed": gasUsed, "gasLeft": gasLeft, "refund": refund,
            "output": Hex.encode(output), "stateRoot": stateRoot.description,
            "logs": logs.map { log -> [String: Any] in
                ["address": log.address.lowercased, "topics": log.topics.map(\.description), "data": Hex.encode(log.data)]
            },
        ]
        switch status {
        case .success: out["status"] = "success"
        case .revert: out["status"] = "revert"
        case .failure(let error):
            out["status"] = "failure"
            out["reason"] = "\(error)"
        }
        if let id { out["id"] = id }
        if let createdAddress { out["createdAddress"] = createdAddress.lowercased }
        var accounts: [String: Any] = [:]
        for (address, account, code) in post {
            guard let account else { accounts[address.lowercased] = NSNull(); continue }
            var storage: [String: String] = [:]
            for (slot, value) in account.storage where !value.isZero { storage[slot.hexQuantity] = value.hexQuantity }
            accounts[address.lowercased] = [
                "balance": account.info.balance.hexQuantity, "nonce": UInt256(account.info.nonce).hexQuantity,
                "code": Hex.encode(code), "storage": storage,
            ] as [String: Any]
        }
        out["post"] = accounts
        return out
    }

    /// The JSON as one line with sorted keys.
    public func jsonLine(id: Any?) -> String { MessageOutcome.line(json(id: id)) }

    /// Any JSON object as one line with sorted keys.
    public static func line(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
