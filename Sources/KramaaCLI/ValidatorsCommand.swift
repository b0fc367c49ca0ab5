import ArgumentParser
import Foundation
import KramaaChain
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
            let out = try client.read(ValidatorSetContract.address, ABI.call("validatorsAt(uint256)", [.uint(UInt256(height))]))
            var decoder = ABIDecoder(out[...])
            return try decoder.nextArray { d throws(ABIDecodingError) in try d.nextAddress() }
        }
    }

    struct ProposeAdd: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "propose-add", abstract: "Propose a new validator (counts as your approval).")
        @Argument(help: "The new validator's address (of its node key).") var validator: String
        @OptionGroup var connection: Connection
        @OptionGroup var signer: Signer

        func run() throws {
            try propose("proposeAddValidator(address)", validator, connection, signer)
        }
    }

    struct ProposeRemove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "propose-remove", abstract: "Propose removing a validator (counts as your approval).")
        @Argument(help: "The validator's address.") var validator: String
        @OptionGroup var connection: Connection
        @OptionGroup var signer: Signer

        func run() throws {
            try propose("proposeRemoveValidator(address)", validator, connection, signer)
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a proposed change.")
        @Argument(help: "The proposal's number.") var id: UInt64
        @OptionGroup var connection: Connection
        @OptionGroup var signer: Signer

        func run() throws {
            let receipt = try connection.contracts().send(ValidatorSetContract.address, ABI.call("approve(uint256)", [.uint(UInt256(id))]),
                                                          key: try readSecp256k1Key(signer.key))
            print("approved proposal \(id) in block \(receipt["blockNumber"].flatMap { try? RPCHex.decodeQuantity($0.stringValue ?? "") } ?? 0)")
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

private func propose(_ function: String, _ validator: String, _ connection: ValidatorsCommand.Connection,
                     _ signer: ValidatorsCommand.Signer) throws {
    let address: Address
    do { address = try Address(hex: validator) } catch { throw ValidationError("\(validator): \(error)") }
    let client = try connection.contracts()
    let data = ABI.call(function, [.address(address)])
    let key = try readSecp256k1Key(signer.key)
    // The proposal's number is what the call returns; read it first, then send.
    var decoder = ABIDecoder(try client.read(ValidatorSetContract.address, data, from: key.publicKey.address)[...])
    let id = try decoder.nextUInt64()
    _ = try client.send(ValidatorSetContract.address, data, key: key)
    print("proposal \(id)")
    try printProposal(id, client)
}

private func printProposal(_ id: UInt64, _ client: ContractClient) throws {
    let out = try client.read(ValidatorSetContract.address, ABI.call("getProposal(uint256)", [.uint(UInt256(id))]))
    var d = ABIDecoder(out[...])
    let validator = try d.nextAddress(), add = try d.nextBool(), status = try d.nextUInt64(), approvals = try d.nextUInt64()
    let state = ValidatorSetContract.ProposalStatus(rawValue: UInt8(truncatingIfNeeded: status)).map { "\($0)" } ?? "unknown"
    print("proposal \(id): \(add ? "add" : "remove") \(validator), \(approvals) approval(s), \(state)")
}
