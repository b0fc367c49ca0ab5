import KramaaEVM
import KramaaPrimitives

/// What each device may do with its own account (`0x…4b520017`), set by its organisation's
/// admins and enforced by the protocol (``DevicePolicyGate``) before any transaction of the
/// device runs, in the pool and in every block: a device key that leaks cannot do more than its
/// policy allows. docs/DEVICE-POLICIES.md.
///
/// A device without a policy is unrestricted (as an ordinary account). Once its organisation
/// sets one, the device may only call the functions listed (`allowDeviceCall`; selector
/// `0xffffffff` for every function of a contract, `0x00000000` for plain transfers), spend at
/// most `nativePerPeriod` wei of native coin per period (value sent, and the fees it pays itself)
/// and, per ERC-20 token with a limit, move or approve at most that much per period
/// (`transfer`, `approve`, and `transferFrom` from itself, which a limit allows on that token);
/// until `validUntil` (unix seconds, 0: no end); with `feesSponsored`, only when its organisation
/// (any sponsor) pays the gas. `revokeDevicePolicy` stops every transaction of the device until
/// a new policy is set. Periods are fixed windows of `period` seconds of block time (0: one
/// window, the policy's whole life).
///
/// ```
/// function setDevicePolicy(address device, uint256 nativePerPeriod, uint64 period, uint64 validUntil, bool feesSponsored)
/// function allowDeviceCall(address device, address target, bytes4 selector, bool allowed)
/// function setDeviceTokenLimit(address device, address token, uint256 perPeriod)   // 0 removes the token's rule
/// function revokeDevicePolicy(address device)
/// function getDevicePolicy(address device) view returns (bool exists, bool revoked, bool feesSponsored, uint256 nativePerPeriod,
///                                                         uint64 period, uint64 validUntil, uint256 nativeSpent, uint256 nativeRemaining)
/// function isDeviceCallAllowed(address device, address target, bytes4 selector) view returns (bool)
/// function getDeviceTokenLimit(address device, address token) view returns (uint256 perPeriod, uint256 spent, uint256 remaining)
/// event DevicePolicySet(address indexed device, uint256 nativePerPeriod, uint64 period, uint64 validUntil, bool feesSponsored)
/// event DeviceCallRuleSet(address indexed device, address indexed target, bytes4 selector, bool allowed)
/// event DeviceTokenLimitSet(address indexed device, address indexed token, uint256 perPeriod)
/// event DevicePolicyRevoked(address indexed device)
/// ```
public struct DevicePolicies: SystemContract {
    public static let address = SystemContracts.address(0x17)
    /// The selector that stands for every function of a target.
    public static let anyFunction: [UInt8] = [0xff, 0xff, 0xff, 0xff]
    /// The selector that stands for a transfer without call data.
    public static let plainTransfer: [UInt8] = [0, 0, 0, 0]

    enum Flag {
        static let exists: UInt64 = 1, revoked: UInt64 = 2, feesSponsored: UInt64 = 4
    }

    enum Slot {
        static let policies = StorageSlot.named("kramaa.devicePolicies")
        static let calls = StorageSlot.named("kramaa.devicePolicies.calls")
        static let tokens = StorageSlot.named("kramaa.devicePolicies.tokens")

        static func policy(_ d: Address) -> UInt256 { StorageSlot.mapping(policies, d) }
        static func flags(_ d: Address) -> UInt256 { policy(d) }
        static func nativePerPeriod(_ d: Address) -> UInt256 { StorageSlot.offset(policy(d), 1) }
        static func period(_ d: Address) -> UInt256 { StorageSlot.offset(policy(d), 2) }
        static func validUntil(_ d: Address) -> UInt256 { StorageSlot.offset(policy(d), 3) }
        /// Native coin spent in the window `nativeWindow`.
        static func nativeSpent(_ d: Address) -> UInt256 { StorageSlot.offset(policy(d), 4) }
        static func nativeWindow(_ d: Address) -> UInt256 { StorageSlot.offset(policy(d), 5) }
        static func call(_ d: Address, _ target: Address, _ selector: [UInt8]) -> UInt256 {
            StorageSlot.mapping(StorageSlot.mapping(calls, d), Keccak256.hash(target.bytes + selector))
        }
        static func token(_ d: Address, _ token: Address) -> UInt256 { StorageSlot.mapping(StorageSlot.mapping(tokens, d), token) }
        static func tokenLimit(_ d: Address, _ t: Address) -> UInt256 { token(d, t) }
        static func tokenSpent(_ d: Address, _ t: Address) -> UInt256 { StorageSlot.offset(token(d, t), 1) }
        static func tokenWindow(_ d: Address, _ t: Address) -> UInt256 { StorageSlot.offset(token(d, t), 2) }
    }

    public enum Method {
        public static let set = SystemMethod("setDevicePolicy(address,uint256,uint64,uint64,bool)")
        public static let allowCall = SystemMethod("allowDeviceCall(address,address,bytes4,bool)")
        public static let setTokenLimit = SystemMethod("setDeviceTokenLimit(address,address,uint256)")
        public static let revoke = SystemMethod("revokeDevicePolicy(address)")
        public static let get = SystemMethod("getDevicePolicy(address)")
        public static let isCallAllowed = SystemMethod("isDeviceCallAllowed(address,address,bytes4)")
        public static let getTokenLimit = SystemMethod("getDeviceTokenLimit(address,address)")
    }

    public enum Event {
        public static let set = ABI.eventTopic("DevicePolicySet(address,uint256,uint64,uint64,bool)")
        public static let callRuleSet = ABI.eventTopic("DeviceCallRuleSet(address,address,bytes4,bool)")
        public static let tokenLimitSet = ABI.eventTopic("DeviceTokenLimitSet(address,address,uint256)")
        public static let revoked = ABI.eventTopic("DevicePolicyRevoked(address)")
    }

    public init() {}

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.set.selector:
            try call.requireNoValue()
            let (device, native, period, until, sponsored) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextAddress(), try d.nextUInt(), try d.nextUInt64(), try d.nextUInt64(), try d.nextBool())
            }
            try requireAdmin(of: device, call)
            try call.store(Slot.flags(device), Flag.exists | (sponsored ? Flag.feesSponsored : 0))
            try call.store(Slot.nativePerPeriod(device), native)
            try call.store(Slot.period(device), period)
            try call.store(Slot.validUntil(device), until)
            try call.emit([Event.set, Bytes32(UInt256(device))],
                          ABI.encode([.uint(native), .uint(UInt256(period)), .uint(UInt256(until)), .bool(sponsored)]))
            return []
        case Method.allowCall.selector:
            try call.requireNoValue()
            let (device, target, selector, allowed) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextAddress(), try d.nextAddress(), Array(try d.nextBytes32().bytes.prefix(4)), try d.nextBool())
            }
            try requireAdmin(of: device, call)
            try call.require(try call.load(Slot.flags(device)) != .zero, "device \(device) has no policy; set one with setDevicePolicy first")
            try call.store(Slot.call(device, target, selector), allowed)
            try call.emit([Event.callRuleSet, Bytes32(UInt256(device)), Bytes32(UInt256(target))],
                          ABI.encode([.fixedBytes(Self.word(selector)), .bool(allowed)]))
            return []
        case Method.setTokenLimit.selector:
            try call.requireNoValue()
            let (device, token, limit) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextAddress(), try d.nextUInt()) }
            try requireAdmin(of: device, call)
            try call.require(try call.load(Slot.flags(device)) != .zero, "device \(device) has no policy; set one with setDevicePolicy first")
            try call.store(Slot.tokenLimit(device, token), limit)
            try call.emit([Event.tokenLimitSet, Bytes32(UInt256(device)), Bytes32(UInt256(token))], ABI.encode([.uint(limit)]))
            return []
        case Method.revoke.selector:
            try call.requireNoValue()
            let device = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            try requireAdmin(of: device, call)
            let flags = try call.loadUInt64(Slot.flags(device))
            try call.store(Slot.flags(device), Flag.exists | Flag.revoked | (flags & Flag.feesSponsored))
            try call.emit([Event.revoked, Bytes32(UInt256(device))])
            return []
        case Method.get.selector:
            let device = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            let policy = try Policy(device, call, timestamp: call.timestamp)
            return ABI.encode([.bool(policy.exists), .bool(policy.revoked), .bool(policy.feesSponsored), .uint(policy.nativePerPeriod),
                               .uint(UInt256(policy.period)), .uint(UInt256(policy.validUntil)), .uint(policy.nativeSpent),
                               .uint(policy.nativeRemaining)])
        case Method.isCallAllowed.selector:
            let (device, target, selector) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextAddress(), try d.nextAddress(), Array(try d.nextBytes32().bytes.prefix(4)))
            }
            return ABI.encode([.bool(try Self.callAllowed(device, target, selector, call))])
        case Method.getTokenLimit.selector:
            let (device, token) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextAddress()) }
            let limit = try TokenLimit(device, token, call, timestamp: call.timestamp)
            return ABI.encode([.uint(limit.perPeriod), .uint(limit.spent), .uint(limit.remaining)])
        default:
            throw .reverted("unknown function of the device policies")
        }
    }

    /// Only an admin of the device's organisation sets its policy.
    private func requireAdmin(of device: Address, _ call: SystemCall) throws(SystemCallError) {
        guard let org = try DeviceRegistry.organization(of: device, call.reading(DeviceRegistry.address)) else {
            throw .reverted("no device \(device) in the device registry")
        }
        try OrganizationRegistry.require(call.caller, holds: .admin, in: org, call)
    }

    /// The ABI word of a `bytes4` selector (left-aligned).
    public static func word(_ selector: [UInt8]) -> Bytes32 { try! Bytes32(selector + [UInt8](repeating: 0, count: 28)) }

    static func callAllowed(_ device: Address, _ target: Address, _ selector: [UInt8], _ storage: some StorageReader) throws(SystemCallError) -> Bool {
        if try storage.loadBool(Slot.call(device, target, selector)) { return true }
        return selector != plainTransfer ? try storage.loadBool(Slot.call(device, target, anyFunction)) : false
    }

    /// The window a timestamp falls in: periods of `period` seconds, or one window when 0.
    static func window(_ timestamp: UInt64, period: UInt64) -> UInt64 { period == 0 ? 0 : timestamp / period }

    /// A device's policy as stored, with the spending of the current window.
    struct Policy {
        var exists: Bool, revoked: Bool, feesSponsored: Bool
        var nativePerPeriod: UInt256, period: UInt64, validUntil: UInt64
        /// Spent in the window of the timestamp it was read at.
        var nativeSpent: UInt256
        var nativeRemaining: UInt256 { nativePerPeriod > nativeSpent ? nativePerPeriod &- nativeSpent : .zero }

        init(_ device: Address, _ storage: some StorageReader, timestamp: UInt64) throws(SystemCallError) {
            let flags = try storage.loadUInt64(Slot.flags(device))
            exists = flags & Flag.exists != 0
            revoked = flags & Flag.revoked != 0
            feesSponsored = flags & Flag.feesSponsored != 0
            nativePerPeriod = try storage.load(Slot.nativePerPeriod(device))
            period = try storage.loadUInt64(Slot.period(device))
            validUntil = try storage.loadUInt64(Slot.validUntil(device))
            let current = try storage.loadUInt64(Slot.nativeWindow(device)) == DevicePolicies.window(timestamp, period: period)
            nativeSpent = current ? try storage.load(Slot.nativeSpent(device)) : .zero
        }
    }

    /// A device's limit on one token, with the spending of the current window (the policy's period).
    struct TokenLimit {
        var perPeriod: UInt256, spent: UInt256
        var remaining: UInt256 { perPeriod > spent ? perPeriod &- spent : .zero }

        init(_ device: Address, _ token: Address, _ storage: some StorageReader, timestamp: UInt64) throws(SystemCallError) {
            perPeriod = try storage.load(Slot.tokenLimit(device, token))
            let window = DevicePolicies.window(timestamp, period: try storage.loadUInt64(Slot.period(device)))
            spent = try storage.loadUInt64(Slot.tokenWindow(device, token)) == window ? try storage.load(Slot.tokenSpent(device, token)) : .zero
        }
    }
}
