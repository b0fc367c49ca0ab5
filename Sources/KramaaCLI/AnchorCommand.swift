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
            return try AnchorConfiguration.readKey(keyFile)
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
        static let configuration = CommandConfiguration(
            abstract: "The relayers' state, as JSON: latest anchored block, backlog, parent balance, last error.",
            discussion: "Without --parent-rpc: the node's own relayers (kramaa_anchorStatus, `kramaa node --anchor-config`); with it and --contract: that contract's progress.")
        @Option(name: .customLong("parent-rpc"), help: "The parent chain's JSON-RPC URL (default: ask the node for its relayers).") var parentURL: String?
        @Option(name: .customLong("key"), help: "The secp256k1 key file of the account that pays on the parent chain.") var keyFile: String?
        @Option(help: "The checkpoint contract on the parent chain (with --parent-rpc).") var contract: String?
        @Option(help: "Only the node's relayer to this parent chain (its label in the anchor configuration).") var label: String?
        @OptionGroup var node: NodeConnection

        func run() throws {
            guard let parentURL else {
                let all = try node.client().call("kramaa_anchorStatus").arrayValue ?? []
                guard let label else { return print(String(decoding: JSON.array(all).serialized(), as: UTF8.self)) }
                guard let one = all.first(where: { $0["label"]?.stringValue == label }) else {
                    throw CLIFailure("the node has no relayer for a parent labelled \"\(label)\"; its parents: \(all.compactMap { $0["label"]?.stringValue }.joined(separator: ", "))")
                }
                return print(String(decoding: one.serialized(), as: UTF8.self))
            }
            guard let contract else { throw ValidationError("--contract is required with --parent-rpc") }
            let relayer = Relayer(kramaa: try node.client(), parent: ContractClient(node: try NodeClient(parentURL)), contract: try Address(hex: contract),
                                  key: try keyFile.map { try AnchorConfiguration.readKey($0) }, every: 0, confirmations: 1)
            print(String(decoding: JSON.object(try relayer.status()).serialized(), as: UTF8.self))
        }
    }
}
