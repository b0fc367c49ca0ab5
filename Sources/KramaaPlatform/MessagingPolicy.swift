import KramaaEVM
import KramaaPrimitives

/// What an organisation's devices may do on MQTT with another organisation's (`0x…4b520015`),
/// set by the first organisation's admins (docs/MESSAGING.md, "Topics and rights"). By default
/// devices talk only within their own organisation; a grant lets the devices of `peer` publish
/// to (`publish`, 1) and/or subscribe to (`subscribe`, 2) the namespaces of `org`'s devices
/// (`devices/{device}/…`) and of `org` itself (`orgs/{org}/…`). Nodes re-read a grant in the
/// block that changes it.
///
/// ```
/// function setTopicAccess(uint256 org, uint256 peer, uint8 rights)   // admins of org; rights 0 revokes
/// function topicAccess(uint256 org, uint256 peer) view returns (uint8 rights)
/// event TopicAccessChanged(uint256 indexed org, uint256 indexed peer, uint8 rights)
/// ```
public struct MessagingPolicy: SystemContract {
    public static let address = SystemContracts.address(0x15)

    /// Rights a grant gives.
    public struct Rights: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let publish = Rights(rawValue: 1)
        public static let subscribe = Rights(rawValue: 2)
    }

    enum Slot {
        static let grants = StorageSlot.named("kramaa.messaging.grants")
        static func grant(_ org: UInt64, _ peer: UInt64) -> UInt256 { StorageSlot.mapping(StorageSlot.mapping(grants, UInt256(org)), UInt256(peer)) }
    }

    public enum Method {
        public static let set = SystemMethod("setTopicAccess(uint256,uint256,uint8)")
        public static let get = SystemMethod("topicAccess(uint256,uint256)")
    }

    public enum Event {
        public static let changed = ABI.eventTopic("TopicAccessChanged(uint256,uint256,uint8)")
    }

    public init() {}

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.set.selector:
            try call.requireNoValue()
            let (org, peer, rights) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextUInt64(), try d.nextUInt64()) }
            try call.require(rights <= 3, "rights \(rights) are not a combination of publish (1) and subscribe (2)")
            try call.require(org != peer, "an organisation's own devices always talk to each other")
            try call.require(try OrganizationRegistry.exists(peer, call.reading(OrganizationRegistry.address)), "no organisation \(peer)")
            try OrganizationRegistry.require(call.caller, holds: .admin, in: org, call)
            try call.store(Slot.grant(org, peer), rights)
            try call.emit([Event.changed, Bytes32(UInt256(org)), Bytes32(UInt256(peer))], ABI.encode([.uint(UInt256(rights))]))
            return []
        case Method.get.selector:
            let (org, peer) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextUInt64()) }
            return ABI.encode([.uint(try call.load(Slot.grant(org, peer)))])
        default:
            throw .reverted("unknown function of the messaging policy")
        }
    }
}
