import KramaaEVM
import KramaaJSON
import KramaaPrimitives

/// The delivery registry (`0x…4b520014`): Merkle roots of delivered messages, committed by the
/// nodes that delivered them (docs/MESSAGING.md, "Proof of delivery"). The messages stay off
/// chain; a leaf is `keccak256(0x19 ‖ "kramaa:delivery" ‖ 0x00 ‖ chainId (8) ‖ envelopeHash (32)
/// ‖ recipient (20))`, so a proof shows that envelope M reached device B through the node
/// that committed the root, by the block that holds it.
///
/// ```
/// function commitDeliveries(bytes32 root, uint64 count)                  // reverts if the root is known
/// function deliveryRoot(bytes32 root) view returns (address committer, uint256 blockNumber, uint256 count)
/// event DeliveriesCommitted(bytes32 indexed root, address indexed committer, uint256 count)
/// ```
public struct DeliveryRegistry: SystemContract {
    public static let address = SystemContracts.address(0x14)

    enum Slot {
        static let roots = StorageSlot.named("kramaa.deliveries.roots")
        static func committer(_ root: Bytes32) -> UInt256 { StorageSlot.mapping(roots, root) }
        static func block(_ root: Bytes32) -> UInt256 { StorageSlot.offset(committer(root), 1) }
        static func count(_ root: Bytes32) -> UInt256 { StorageSlot.offset(committer(root), 2) }
    }

    public enum Method {
        public static let commit = SystemMethod("commitDeliveries(bytes32,uint64)")
        public static let root = SystemMethod("deliveryRoot(bytes32)")
    }

    public enum Event {
        public static let committed = ABI.eventTopic("DeliveriesCommitted(bytes32,address,uint256)")
    }

    /// Who committed a root, in which block, and how many deliveries it holds: the answer of
    /// `deliveryRoot`, read by the node that serves proofs and by whoever checks one.
    public struct Commitment: Sendable, Equatable {
        public var committer: Address
        public var blockNumber: UInt64
        public var count: UInt64

        /// Decodes `deliveryRoot`'s answer; nil when it is not one, or the root is not committed.
        public init?(rootAnswer output: [UInt8]) {
            var d = ABIDecoder(output[...])
            guard let committer = try? d.nextAddress(), let block = try? d.nextUInt64(), let count = try? d.nextUInt64(), block > 0 else { return nil }
            (self.committer, blockNumber, self.count) = (committer, block, count)
        }

        /// As proofs of delivery carry it (`committed`).
        public var json: JSON {
            .object(["committer": .string(committer.lowercased), "blockNumber": .number(JSONNumber(blockNumber)), "count": .number(JSONNumber(count))])
        }
    }

    public init() {}

    /// The leaf of one delivery.
    public static func leaf(chainId: UInt64, envelopeHash: Bytes32, recipient: Address) -> Bytes32 {
        var bytes: [UInt8] = [0x19] + Array("kramaa:delivery".utf8) + [0]
        withUnsafeBytes(of: chainId.bigEndian) { bytes += $0 }
        bytes += envelopeHash.bytes + recipient.bytes
        return Keccak256.hash(bytes)
    }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.commit.selector:
            try call.requireNoValue()
            let (root, count) = try call.decode { d throws(ABIDecodingError) in (try d.nextBytes32(), try d.nextUInt64()) }
            try call.require(count > 0, "a delivery batch holds at least one delivery")
            try call.require(try call.load(Slot.block(root)) == .zero, "root \(root) is committed already")
            try call.store(Slot.committer(root), call.caller)
            try call.store(Slot.block(root), call.blockNumber)
            try call.store(Slot.count(root), count)
            try call.emit([Event.committed, root, Bytes32(UInt256(call.caller))], ABI.encode([.uint(UInt256(count))]))
            return []
        case Method.root.selector:
            let root = try call.decode { d throws(ABIDecodingError) in try d.nextBytes32() }
            return ABI.encode([.address(try call.loadAddress(Slot.committer(root))), .uint(try call.load(Slot.block(root))),
                               .uint(try call.load(Slot.count(root)))])
        default:
            throw .reverted("unknown function of the delivery registry")
        }
    }
}
