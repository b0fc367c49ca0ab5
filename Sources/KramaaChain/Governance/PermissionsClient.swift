import KramaaEVM
import KramaaPrimitives

/// A permission proposal (`getPermissionProposal`).
public struct PermissionProposal: Sendable, Equatable {
    public var id: UInt64
    public var list: PermissionsContract.List?
    public var account: Address
    /// A member change (true) or the list's restriction (false).
    public var membership: Bool
    public var value: Bool
    public var executed: Bool
    public var approvals: UInt64
}

/// The permissions contract, typed (`kramaa permissions` and the tests).
public struct PermissionsClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = PermissionsContract.Method
    static var address: Address { PermissionsContract.address }

    public init(_ caller: Caller) { self.caller = caller }

    public func isRestricted(_ list: PermissionsContract.List) throws(ContractCallError) -> Bool {
        try M.isRestricted.read(caller, at: Self.address, [.uint(UInt256(UInt64(list.rawValue)))]) { d throws(ABIDecodingError) in try d.nextBool() }
    }

    public func isAllowed(_ list: PermissionsContract.List, _ account: Address) throws(ContractCallError) -> Bool {
        try M.isAllowed.read(caller, at: Self.address, [.uint(UInt256(UInt64(list.rawValue))), .address(account)]) { d throws(ABIDecodingError) in try d.nextBool() }
    }

    public func proposal(_ id: UInt64) throws(ContractCallError) -> PermissionProposal {
        try M.getProposal.read(caller, at: Self.address, [.uint(UInt256(id))]) { d throws(ABIDecodingError) in
            let list = PermissionsContract.List(rawValue: UInt8(truncatingIfNeeded: try d.nextUInt64()))
            let account = try d.nextAddress()
            let kind = try d.nextUInt64()
            return PermissionProposal(id: id, list: list, account: account, membership: kind == 0, value: try d.nextBool(),
                                      executed: try d.nextUInt64() == 1, approvals: try d.nextUInt64())
        }
    }
}

extension PermissionsClient where Caller: ContractCaller {
    /// Proposes allowing (`allowed`) or refusing `account` on `list`; returns the proposal's id.
    public func propose(_ list: PermissionsContract.List, _ account: Address, allowed: Bool) async throws(ContractCallError) -> UInt64 {
        let receipt = try await M.proposePermission.send(caller, to: Self.address, [.uint(UInt256(UInt64(list.rawValue))), .address(account), .bool(allowed)])
        return try receipt.decode(M.proposePermission) { d throws(ABIDecodingError) in try d.nextUInt64() }
    }

    /// Proposes restricting (or opening) `list`; returns the proposal's id.
    public func propose(_ list: PermissionsContract.List, restricted: Bool) async throws(ContractCallError) -> UInt64 {
        let receipt = try await M.proposeRestriction.send(caller, to: Self.address, [.uint(UInt256(UInt64(list.rawValue))), .bool(restricted)])
        return try receipt.decode(M.proposeRestriction) { d throws(ABIDecodingError) in try d.nextUInt64() }
    }

    public func approve(_ id: UInt64) async throws(ContractCallError) -> ContractReceipt {
        try await M.approve.send(caller, to: Self.address, [.uint(UInt256(id))])
    }
}
