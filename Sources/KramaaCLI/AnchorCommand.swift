import ArgumentParser
import Foundation
import KramaaChain
import KramaaContracts
import KramaaJSON
import KramaaPrimitives

/// `kramaa anchor deploy|run|status`: checkpoints of this chain on a parent EVM chain, in the
/// checkpoint contract (contracts/Checkpoint.vy, docs/ANCHORING.md). The relayer holds no
/// trust: the contract checks every certificate; the relayer only carries headers across.
struct AnchorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "anchor", abstract: "Anchor this chain's checkpoints on a parent EVM chain (docs/ANCHORING.md).",
                                                    subcommands: [Deploy.self, Run.self, Status.self, Receipt.self, Verify.self])

    /// The parent chain and the relayer's key on it.
    struct Parent: ParsableArguments {
        @Option(name: .customLong("parent-rpc"), help: "The parent chain's JSON-RPC URL.") var url: String
        @Option(name: .customLong("key"), help: "The secp256k1 key file of the account that pays on the parent chain.") var keyFile: String?

        func client() throws -> ContractClient { ContractClient(node: try NodeClient(url)) }
        func key() throws -> Secp256k1.PrivateKey {
            guard let keyFile else { throw ValidationError("--key is required: the account that pays on the parent chain") }
            return try readSecp256k1Key(keyFile)
        }
    }

    struct Deploy: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deploy the checkpoint contract on the parent chain; prints its address last.")
        @OptionGroup var parent: Parent
        @Option(name: .customLong("trusted-block"), help: "The block the contract starts from (its next validators are trusted as given): default 0, genesis.")
        var trustedBlock: UInt64 = 0
        @OptionGroup var node: NodeConnection

        func run() throws {
            let kramaa = try node.client()
            let chainId = try RPCHex.decodeQuantity(try kramaa.call("eth_chainId").stringValue ?? "")
            let validators = try Relayer.addresses(try kramaa.call("kramaa_validators", [.string(RPCHex.encodeQuantity(trustedBlock + 1))]))
            let receipt = try parent.client().deploy(CompiledContract.checkpoint.deployment([
                .uint(UInt256(chainId)), .uint(UInt256(trustedBlock)), .array(validators.map { .address($0) })]), key: try parent.key())
            guard let address = receipt["contractAddress"]?.stringValue else { throw CLIFailure("the deployment has no contract address: \(receipt)") }
            print("deployed in parent block \(Relayer.quantity(receipt["blockNumber"])) for chain \(chainId) from block \(trustedBlock), \(validators.count) validators")
            print(address)
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit checkpoints: the block before each validator-set change and every --every N blocks; one JSON line per checkpoint.",
            discussion: "Progress is the contract's own latest checkpoint, so a restart neither skips nor repeats one. A checkpoint counts once --confirmations parent blocks hold it; one that a parent reorganisation dropped is sent again.")
        @OptionGroup var parent: Parent
        @Option(help: "The checkpoint contract on the parent chain.") var contract: String
        @Option(help: "Anchor every N blocks (0: only the blocks before validator-set changes).") var every: UInt64 = 100
        @Option(help: "Parent blocks (the including one counted) before a checkpoint counts.") var confirmations: UInt64 = 2
        @Flag(help: "Stop once caught up instead of waiting for new blocks.") var once = false
        @OptionGroup var node: NodeConnection

        func run() throws {
            let relayer = Relayer(kramaa: try node.client(), parent: try parent.client(), contract: try Address(hex: contract), key: try parent.key(),
                                  every: every, confirmations: max(confirmations, 1))
            while true {
                if let anchored = try relayer.step() {
                    Console.line(String(decoding: JSON.object(anchored).serialized(), as: UTF8.self))
                } else if once {
                    return
                } else {
                    Thread.sleep(forTimeInterval: 1)
                }
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The relayer's state, as JSON: latest anchored block, backlog, the parent balance of --key's account.")
        @OptionGroup var parent: Parent
        @Option(help: "The checkpoint contract on the parent chain.") var contract: String
        @OptionGroup var node: NodeConnection

        func run() throws {
            let relayer = Relayer(kramaa: try node.client(), parent: try parent.client(), contract: try Address(hex: contract),
                                  key: try parent.keyFile.map(readSecp256k1Key), every: 0, confirmations: 1)
            print(String(decoding: JSON.object(try relayer.status()).serialized(), as: UTF8.self))
        }
    }
}

/// The relayer's work, one checkpoint at a time (blocking JSON-RPC on both chains).
struct Relayer {
    let kramaa: NodeClient
    let parent: ContractClient
    let contract: Address
    let key: Secp256k1.PrivateKey?
    let every: UInt64
    let confirmations: UInt64
    static let submit = "submitCheckpoint(bytes,uint256,bytes32[],bytes32[],uint8[],bytes32,address[])"

    func latestAnchored() throws -> UInt64 {
        let out = try parent.read(contract, ABI.selector("latestNumber()"))
        guard out.count >= 32, let n = try UInt256(bigEndianBytes: out[0..<32]).uint64Value else { throw CLIFailure("\(contract) answers no latestNumber(): not a checkpoint contract") }
        return n
    }

    func head() throws -> UInt64 { try RPCHex.decodeQuantity(try kramaa.call("eth_blockNumber").stringValue ?? "") }

    /// The next block to anchor after `latest`: the block before the first validator-set change
    /// still to follow (the contract must see each change certified by the set before it), else
    /// the last multiple of `every` up to the head; nil when caught up.
    func nextTarget(after latest: UInt64, head: UInt64) throws -> UInt64? {
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
    func step() throws -> JSONObject? {
        guard let key else { throw ValidationError("--key is required to submit checkpoints") }
        let latest = try latestAnchored()
        guard let target = try nextTarget(after: latest, head: try head()) else { return nil }
        let block = JSON.string(RPCHex.encodeQuantity(target))
        let header = try Hex.decode(try kramaa.call("debug_getRawHeader", [block]).stringValue ?? "")
        let certificate = try kramaa.call("kramaa_getCommitCertificate", [block])
        guard !certificate.isNull else { throw CLIFailure("block \(target) has no commit certificate: a single-node chain cannot be anchored") }
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
            throw CLIFailure("the relayer's account \(key.publicKey.address.checksummed) holds nothing on the parent chain: fund it to pay for checkpoints")
        }
        let receipt = try parent.send(contract, data, signer: .account(key))
        let included = Self.quantity(receipt["blockNumber"])
        while Self.quantity(try parent.node.call("eth_blockNumber")) + 1 < included + confirmations { Thread.sleep(forTimeInterval: 0.5) }
        // Still there after the confirmations (a parent reorganisation would have dropped it:
        // then the next step sees the contract behind and sends it again).
        let again = try parent.node.call("eth_getTransactionReceipt", [receipt["transactionHash"] ?? .null])
        guard again["blockHash"] == receipt["blockHash"], try latestAnchored() >= target else { return ["event": "dropped", "number": .number(JSONNumber(target))] }
        return ["event": "anchored", "number": .number(JSONNumber(target)), "blockHash": certificate["blockHash"] ?? .null,
                "signers": .number(JSONNumber(precommits.count)), "parentTransaction": receipt["transactionHash"] ?? .null,
                "parentBlock": .number(JSONNumber(included)), "confirmations": .number(JSONNumber(confirmations)),
                "gasUsed": .number(JSONNumber(Self.quantity(receipt["gasUsed"])))]
    }

    func status() throws -> JSONObject {
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

    static func quantity(_ value: JSON?) -> UInt64 {
        guard let value else { return 0 }
        if let text = value.stringValue { return (try? RPCHex.decodeQuantity(text)) ?? 0 }
        return value.numberValue.flatMap { UInt64($0.description) } ?? 0
    }

    static func addresses(_ value: JSON) throws -> [Address] {
        guard let items = value.arrayValue else { throw CLIFailure("expected a list of addresses, got \(value)") }
        return try items.map { item in
            guard let text = item.stringValue, let a = try? Address(hex: text) else { throw CLIFailure("\(item) is not an address") }
            return a
        }
    }
}
