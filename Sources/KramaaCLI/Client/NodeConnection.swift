import ArgumentParser
import Foundation
import KramaaAPI
import KramaaJSON
import KramaaPrimitives

/// The node a client command talks to and the credentials it shows, shared by every command
/// that calls a node: `--rpc` (or `KRAMAA_RPC`) and `--token` (or `KRAMAA_TOKEN`).
struct NodeConnection: ParsableArguments {
    static let defaultURL = "http://127.0.0.1:8545"

    @Option(name: .customLong("rpc"), help: "The node's URL (JSON-RPC and the REST APIs share it); default $KRAMAA_RPC or \(defaultURL).")
    var rpcOption: String?

    @Option(help: "Bearer token for writes (`kramaa token create` on the node); default $KRAMAA_TOKEN.")
    var token: String?

    var url: String { rpcOption ?? Self.environmentURL }

    /// `$KRAMAA_RPC`, or the default node URL.
    static var environmentURL: String { ProcessInfo.processInfo.environment["KRAMAA_RPC"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultURL }

    var bearer: String? { token ?? ProcessInfo.processInfo.environment["KRAMAA_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } }

    func client() throws -> NodeClient {
        var client = try NodeClient(url)
        client.token = bearer
        return client
    }
}

/// Account names the CLI accepts wherever it takes an address: `0x…` or a devnet account
/// `dev0`, `dev1`, … (the devnet's fixed, publicly known development accounts).
enum AccountName {
    /// The EIP-55 address `text` names.
    static func resolve(_ text: String, option: String) throws -> Address {
        if text.hasPrefix("dev"), let index = Int(text.dropFirst(3)), (0..<1000).contains(index) {
            return DevAccounts.derived(count: index + 1).addresses[index]
        }
        do { return try Address(hex: text) } catch {
            throw ValidationError("\(option) \(text): not an address (0x and 40 hex digits) or a dev account name (dev0, dev1, …)")
        }
    }
}

extension NodeConnection {
    /// The chain id the node reports (`eth_chainId`).
    func chainId() throws -> UInt64 {
        try RPCHex.decodeQuantity(try client().call("eth_chainId").stringValue ?? "")
    }

    /// Contract calls and transactions through this node.
    func contracts() throws -> ContractClient { ContractClient(node: try client()) }
}
