import Foundation
import KramaaChain
import KramaaJSON
import KramaaPrimitives

/// The relayer's work, one checkpoint at a time (blocking JSON-RPC on both chains).
public struct Relayer: Sendable {
    public let kramaa: NodeClient
    public let parent: ContractClient
    public let contract: Address
    public let key: Secp256k1.PrivateKey?
    public let every: UInt64
    public let confirmations: UInt64

    public init(kramaa: NodeClient, parent: ContractClient, contract: Address, key: Secp256k1.PrivateKey?, every: UInt64, confirmations: UInt64) {
        self.kramaa = kramaa
        self.parent = parent
        self.contract = contract
        self.key = key
        self.every = every
        self.confirmations = confirmations
    }

    static let submit = "submitCheckpoint(bytes,uint256,bytes32[],bytes32[],uint8[],bytes32,address[])"

    public func latestAnchored() throws -> UInt64 {
        let out = try parent.read(contract, ABI.selector("latestNumber()"))
        guard out.count >= 32, let n = try UInt256(bigEndianBytes: out[0..<32]).uint64Value else { throw ClientError("\(contract) answers no latestNumber(): not a checkpoint contract") }
        return n
    }

    public func head() throws -> UInt64 { try RPCHex.decodeQuantity(try kramaa.call("eth_blockNumber").stringValue ?? "") }

    /// The next block to anchor after `latest`: the block before the first validator-set change
    /// still to follow (the contract must see each change certified by the set before it), else
    /// the last multiple of `every` up to the head; nil when caught up.
    public func nextTarget(after latest: UInt64, head: UInt64) throws -> UInt64? {
        let logs = try kramaa.call("eth_getLogs", [["address": .string(ValidatorSetContract.address.description), "fromBlock": "0x0", "toBlock": .string(RPCHex.encodeQuantity(head)),
                                                     "topics": [.string(ValidatorSetContract.Event.scheduled.description)]]])
        let changes = (logs.arrayValue ?? []).compactMap { log -> UInt64? in
            guard let data = log["data"]?.stringValue.flatMap({ try? Hex.decode($0) }), data.count >= 32 else { return nil }
            return (try? UInt256(bigEndianBytes: data[0..<32]))?.uint64Value.map { $0 - 1 }
        }.filter { $0 > latest && $0 <= head }
        if let first = changes.min() { return first }
        guard every > 0 else { return nil }
        let target = head / every * every
        return target > latest ? target : nil
    }

    /// Anchors the next target and waits for its confirmations; nil when caught up.
    public func step() throws -> JSONObject? {
        guard let key else { throw ClientError("a key is required to submit checkpoints (--key, or `key` in the anchor configuration)") }
        let latest = try latestAnchored()
        guard let target = try nextTarget(after: latest, head: try head()) else { return nil }
        let block = JSON.string(RPCHex.encodeQuantity(target))
        let header = try Hex.decode(try kramaa.call("debug_getRawHeader", [block]).stringValue ?? "")
        let certificate = try kramaa.call("kramaa_getCommitCertificate", [block])
        guard !certificate.isNull else { throw ClientError("block \(target) has no commit certificate: a single-node chain cannot be anchored") }
        let commitment = try kramaa.call("kramaa_getHeaderCommitment", [block])
        let precommits = (certificate["precommits"]?.arrayValue ?? []).compactMap { p -> (Address, [UInt8])? in
            guard let v = p["validator"]?.stringValue.flatMap({ try? Address(hex: $0) }),
                  let s = p["signature"]?.stringValue.flatMap({ try? Hex.decode($0) }), s.count == 65 else { return nil }
            return (v, s)
        }.sorted { UInt256($0.0) < UInt256($1.0) }
        let data = ABI.selector(Self.submit) + ABI.encode([
            .bytes(header), .uint(UInt256(Self.quantity(certificate["round"]))),
            .array(precommits.map { .fixedBytes(try! Bytes32($0.1[0..<32])) }), .array(precommits.map { .fixedBytes(try! Bytes32($0.1[32..<64])) }),
            .array(precommits.map { .uint(UInt256(UInt64($0.1[64] < 27 ? $0.1[64] + 27 : $0.1[64]))) }),
            .fixedBytes(try Bytes32(hex: commitment["historyRoot"]?.stringValue ?? "")),
            .array(try Self.addresses(commitment["nextValidators"] ?? .null).map { .address($0) }),
        ])
        let balance = try UInt256(hex: try parent.node.call("eth_getBalance", [.string(key.publicKey.address.checksummed), "latest"]).stringValue ?? "0x0")
        guard !balance.isZero else {
            throw ClientError("the relayer's account \(key.publicKey.address.checksummed) holds nothing on the parent chain: fund it to pay for checkpoints")
        }
        let receipt: JSON
        do { receipt = try parent.send(contract, data, signer: .account(key)) } catch let error as TransactionNotIncluded {
            return ["event": "dropped", "number": .number(JSONNumber(target)), "parentTransaction": .string(error.hash), "reason": .string(error.description)]
        }
        let included = Self.quantity(receipt["blockNumber"])
        while Self.quantity(try parent.node.call("eth_blockNumber")) + 1 < included + confirmations { Thread.sleep(forTimeInterval: 0.5) }
        // Still there after the confirmations (a parent reorganisation would have dropped it:
        // then the next step sees the contract behind and sends it again).
        // A receipt the parent no longer knows (geth answers null, eth-tester an error) was dropped too.
        let again = (try? parent.node.call("eth_getTransactionReceipt", [receipt["transactionHash"] ?? .null])) ?? .null
        guard again["blockHash"] == receipt["blockHash"], try latestAnchored() >= target else {
            return ["event": "dropped", "number": .number(JSONNumber(target)), "parentTransaction": receipt["transactionHash"] ?? .null]
        }
        return ["event": "anchored", "number": .number(JSONNumber(target)), "blockHash": certificate["blockHash"] ?? .null,
                "signers": .number(JSONNumber(precommits.count)), "parentTransaction": receipt["transactionHash"] ?? .null,
                "parentBlock": .number(JSONNumber(included)), "confirmations": .number(JSONNumber(confirmations)),
                "gasUsed": .number(JSONNumber(Self.quantity(receipt["gasUsed"])))]
    }

    /// The parent block and transaction that anchored checkpoint `number` (its CheckpointAnchored log); nil if none.
    public func anchoredIn(_ number: UInt64) throws -> (block: UInt64, transaction: JSON)? {
        guard number > 0 else { return nil }
        let logs = try parent.node.call("eth_getLogs", [["address": .string(contract.checksummed), "fromBlock": "0x0", "toBlock": "latest",
                                                          "topics": [.string(Self.anchoredTopic.description), .string(Hex.encode(UInt256(number).bigEndianBytes))]]])
        guard let last = logs.arrayValue?.last else { return nil }
        return (Self.quantity(last["blockNumber"]), last["transactionHash"] ?? .null)
    }

    /// The topic of Checkpoint.vy's `CheckpointAnchored(uint256 indexed number, bytes32 indexed blockHash, bytes32, uint256)`.
    public static let anchoredTopic = ABI.eventTopic("CheckpointAnchored(uint256,bytes32,bytes32,uint256)")

    public func status() throws -> JSONObject {
        let latest = try latestAnchored(), head = try head()
        var out: JSONObject = ["contract": .string(contract.checksummed), "latestAnchored": .number(JSONNumber(latest)),
                               "head": .number(JSONNumber(head)), "backlog": .number(JSONNumber(head - min(head, latest)))]
        if let key {
            let balance = try parent.node.call("eth_getBalance", [.string(key.publicKey.address.checksummed), "latest"])
            out["parentAccount"] = .string(key.publicKey.address.checksummed)
            out["parentBalance"] = .string((try? UInt256(hex: balance.stringValue ?? "0x0"))?.description ?? "?")
        }
        return out
    }

    public static func quantity(_ value: JSON?) -> UInt64 {
        guard let value else { return 0 }
        if let text = value.stringValue { return (try? RPCHex.decodeQuantity(text)) ?? 0 }
        return value.numberValue.flatMap { UInt64($0.description) } ?? 0
    }

    public static func addresses(_ value: JSON) throws -> [Address] {
        guard let items = value.arrayValue else { throw ClientError("expected a list of addresses, got \(value)") }
        return try items.map { item in
            guard let text = item.stringValue, let a = try? Address(hex: text) else { throw ClientError("\(item) is not an address") }
            return a
        }
    }
}
