import KramaaEVM
import KramaaPrimitives

/// `getProposal(uint256) returns (address validator, bool add, uint8 status, uint256 approvals)`.
public struct ValidatorProposal: Sendable, Equatable {
    public var id: UInt64
    public var validator: Address
    public var add: Bool
    public var status: ValidatorSetContract.ProposalStatus?
    public var approvals: UInt64

    public init(id: UInt64, decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.id = id
        validator = try d.nextAddress()
        add = try d.nextBool()
        status = ValidatorSetContract.ProposalStatus(rawValue: UInt8(truncatingIfNeeded: try d.nextUInt64()))
        approvals = try d.nextUInt64()
    }
}

/// The validator set contract, typed (the CLI's `kramaa validators` and the tests use it).
public struct ValidatorSetClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = ValidatorSetContract.Method
    static var address: Address { ValidatorSetContract.address }

    public init(_ caller: Caller) { self.caller = caller }

    /// The validators of block `height` as the head's state says (scheduled changes included).
    public func validators(atHeight height: UInt64) throws(ContractCallError) -> [Address] {
        try M.validatorsAt.read(caller, at: Self.address, [.uint(UInt256(height))]) { d throws(ABIDecodingError) in
            try d.nextArray { d throws(ABIDecodingError) in try d.nextAddress() }
        }
    }

    public func proposal(_ id: UInt64) throws(ContractCallError) -> ValidatorProposal {
        try M.getProposal.read(caller, at: Self.address, [.uint(UInt256(id))]) { d throws(ABIDecodingError) in
            try ValidatorProposal(id: id, decoding: &d)
        }
    }
}

extension ValidatorSetClient where Caller: ContractCaller {
    /// Proposes adding (`add`) or removing `validator`; the proposer's approval counts. Returns the proposal's id.
    public func propose(_ validator: Address, add: Bool) async throws(ContractCallError) -> UInt64 {
        let method = add ? M.proposeAdd : M.proposeRemove
        let receipt = try await method.send(caller, to: Self.address, [.address(validator)])
        return try receipt.decode(method) { d throws(ABIDecodingError) in try d.nextUInt64() }
    }

    public func approve(_ id: UInt64) async throws(ContractCallError) -> ContractReceipt {
        try await M.approve.send(caller, to: Self.address, [.uint(UInt256(id))])
    }
}
