import KramaaEVM
import KramaaPrimitives

/// The messaging policy, typed: which rights one organisation grants another's devices.
public struct MessagingPolicyClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = MessagingPolicy.Method

    public init(_ caller: Caller) { self.caller = caller }

    /// What `org` lets the devices of `peer` do with its devices and topics.
    public func rights(of peer: UInt64, on org: UInt64) throws(ContractCallError) -> MessagingPolicy.Rights {
        try M.get.read(caller, at: MessagingPolicy.address, [.uint(UInt256(org)), .uint(UInt256(peer))]) { d throws(ABIDecodingError) in
            MessagingPolicy.Rights(rawValue: UInt8(truncatingIfNeeded: try d.nextUInt64()))
        }
    }
}

extension MessagingPolicy.Rights {
    /// Names as the REST API and the CLI write them.
    public static let named: [(String, MessagingPolicy.Rights)] = [("publish", .publish), ("subscribe", .subscribe)]
    public var names: [String] { Self.named.filter { contains($0.1) }.map(\.0) }
}
