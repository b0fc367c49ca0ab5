import ArgumentParser
import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaRPC

/// `kramaa permissions ...`: the senders, deployers and nodes lists and their governance
/// (docs/PERMISSIONING.md), through a node's JSON-RPC; proposals are signed with a validator's
/// node key, as for `kramaa validators`.
struct PermissionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "permissions", abstract: "Show the permission lists (senders, deployers, nodes) and propose or approve changes.",
        discussion: "A change is proposed by a validator and applies from the block after more than two thirds of the validators approved it.",
        subcommands: [Show.self, Allow.self, Restrict.self, Approve.self])

    enum ListName: String, ExpressibleByArgument, CaseIterable {
        case senders, deployers, nodes
        var list: PermissionsContract.List { [.senders: .senders, .deployers: .deployers, .nodes: .nodes][self]! }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whether each list is restricted; with --account, whether it is allowed on each.")
        @Option(help: "An account or node address to check.") var account: String?
        @Option(help: "A proposal to show.") var proposal: UInt64?
        @OptionGroup var connection: NodeConnection

        func run() throws {
            let client = PermissionsClient(RPCContractCaller(client: try connection.contracts(), signer: nil))
            if let proposal {
                let p = try client.proposal(proposal)
                let what = p.membership ? "\(p.value ? "allow" : "refuse") \(p.account) on" : (p.value ? "restrict" : "open")
                print("proposal \(proposal): \(what) \(p.list?.name ?? "?"), \(p.approvals) approval(s), \(p.executed ? "executed" : "open")")
                return
            }
            let account = try self.account.map { try AccountName.resolve($0, option: "--account") }
            for list in PermissionsContract.List.allCases {
                var line = "\(list.name): \(try client.isRestricted(list) ? "restricted" : "open")"
                if let account { line += ", \(account) \(try client.isAllowed(list, account) ? "allowed" : "not allowed")" }
                print(line)
            }
        }
    }

    struct Allow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Propose allowing (or with --refuse, refusing) an account on a list; counts as your approval.")
        @Argument(help: "senders, deployers or nodes.") var list: ListName
        @Argument(help: "The account (or node address).") var account: String
        @Flag(help: "Propose removing it instead.") var refuse = false
        @OptionGroup var connection: NodeConnection
        @OptionGroup var signer: ValidatorsCommand.Signer

        func run() async throws {
            let caller = try connection.caller(signer: .account(try readSecp256k1Key(signer.key)))
            let id = try await PermissionsClient(caller).propose(list.list, try AccountName.resolve(account, option: "account"), allowed: !refuse)
            print("proposal \(id)")
        }
    }

    struct Restrict: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Propose restricting a list to its members (or with --open, opening it); counts as your approval.")
        @Argument(help: "senders, deployers or nodes.") var list: ListName
        @Flag(help: "Propose opening it instead.") var open = false
        @OptionGroup var connection: NodeConnection
        @OptionGroup var signer: ValidatorsCommand.Signer

        func run() async throws {
            let caller = try connection.caller(signer: .account(try readSecp256k1Key(signer.key)))
            let id = try await PermissionsClient(caller).propose(list.list, restricted: !open)
            print("proposal \(id)")
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a permission proposal.")
        @Argument(help: "The proposal's number.") var id: UInt64
        @OptionGroup var connection: NodeConnection
        @OptionGroup var signer: ValidatorsCommand.Signer

        func run() async throws {
            let caller = try connection.caller(signer: .account(try readSecp256k1Key(signer.key)))
            let receipt = try await PermissionsClient(caller).approve(id)
            let p = try PermissionsClient(RPCContractCaller(client: try connection.contracts(), signer: nil)).proposal(id)
            print("approved proposal \(id) in block \(receipt.blockNumber): \(p.approvals) approval(s), \(p.executed ? "executed" : "open")")
        }
    }
}
