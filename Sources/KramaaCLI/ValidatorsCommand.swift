import KramaaJSON
import ArgumentParser
import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaRPC

/// `kramaa validators ...`: the validator set and its governance, through a node's JSON-RPC.
struct ValidatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validators",
        abstract: "Show the validator set and propose or approve changes to it.",
        discussion: """
            The set lives in the validator set contract (\(ValidatorSetContract.address)). A change \
            is proposed by a validator and takes effect \(ValidatorSetContract.activationDelay) blocks \
            after more than two thirds of the current validators have approved it. Proposing and \
            approving are transactions signed with the validator's node key (--key).
            """,
        subcommands: [List.self, ProposeAdd.self, ProposeRemove.self, Approve.self, Show.self])

    typealias Connection = NodeConnection

    struct Signer: ParsableArguments {
        @Option(help: "The validator's secp256k1 key file (its node key).")
        var key: String
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the current validators and any scheduled set.")
        @OptionGroup var connection: Connection

        func run() throws {
            let client = try connection.contracts()
            let head = try RPCHex.decodeQuantity(try client.node.call("eth_blockNumber").stringValue ?? "")
            let current = try validators(client, atHeight: head + 1)
            print("validators of block \(head + 1):")
            for v in current { print("  \(v)") }
            let later = try validators(client, atHeight: head + 1 + ValidatorSetContract.activationDelay)
            if later != current {
                print("from block \(head + 1 + ValidatorSetContract.activationDelay) (scheduled):")
                for v in later { print("  \(v)") }
            }
        }

        func validators(_ client: ContractClient, atHeight height: UInt64) throws -> [Address] {
            try ValidatorSetClient(RPCContractCaller(client: client, signer: nil)).validators(atHeight: height)
        }
    }

    struct ProposeAdd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "propose-add", abstract: "Propose a new validator (counts as your approval).")
        @Argument(help: "The new validator's address (of its node key).") var validator: String
        @OptionGroup var connection: Connection
        @OptionGroup var signer: Signer

        func run() async throws {
            try await propose(validator, add: true, connection, signer)
        }
    }

    struct ProposeRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "propose-remove", abstract: "Propose removing a validator (counts as your approval).")
        @Argument(help: "The validator's address.") var validator: String
        @OptionGroup var connection: Connection
        @OptionGroup var signer: Signer

        func run() async throws {
            try await propose(validator, add: false, connection, signer)
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a proposed change.")
        @Argument(help: "The proposal's number.") var id: UInt64
        @OptionGroup var connection: Connection
        @OptionGroup var signer: Signer

        func run() async throws {
            let caller = try connection.caller(signer: .account(try readSecp256k1Key(signer.key)))
            let receipt = try await ValidatorSetClient(caller).approve(id)
            print("approved proposal \(id) in block \(receipt.blockNumber)")
            try printProposal(id, try connection.contracts())
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "proposal", abstract: "Show a proposal.")
        @Argument(help: "The proposal's number.") var id: UInt64
        @OptionGroup var connection: Connection

        func run() throws { try printProposal(id, try connection.contracts()) }
    }
}

private func propose(_ validator: String, add: Bool, _ connection: ValidatorsCommand.Connection,
                     _ signer: ValidatorsCommand.Signer) async throws {
    let address = try AccountName.resolve(validator, option: "validator")
    let caller = try connection.caller(signer: .account(try readSecp256k1Key(signer.key)))
    let id = try await ValidatorSetClient(caller).propose(address, add: add)
    print("proposal \(id)")
    try printProposal(id, caller.client)
}

private func printProposal(_ id: UInt64, _ client: ContractClient) throws {
    let proposal = try ValidatorSetClient(RPCContractCaller(client: client, signer: nil)).proposal(id)
    let state = proposal.status.map { "\($0)" } ?? "unknown"
    print("proposal \(id): \(proposal.add ? "add" : "remove") \(proposal.validator), \(proposal.approvals) approval(s), \(state)")
}
