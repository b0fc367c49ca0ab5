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
/// function putDevicePolicy(address device, uint256 nativePerPeriod, uint64 period, uint64 validUntil, bool feesSponsored,
///                          address[] targets, bytes4[] selectors, address[] tokens, uint256[] perPeriod)  // the whole policy at once
/// function getDeviceCallRules(address device) view returns (address[] targets, bytes4[] selectors)
/// function getDeviceTokens(address device) view returns (address[] tokens, uint256[] perPeriod, uint256[] spent, uint256[] remaining)
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
    /// Most call rules and token limits one device's policy holds (each is a storage slot the
    /// policy's reads and replacements walk).
    public static let maximumCallRules = 64, maximumTokens = 16

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
        /// The allowed calls as a word array (target ‖ selector, left-aligned), and the tokens with a limit.
        static func callList(_ d: Address) -> UInt256 { StorageSlot.offset(policy(d), 6) }
        static func tokenList(_ d: Address) -> UInt256 { StorageSlot.offset(policy(d), 7) }
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
        public static let put = SystemMethod("putDevicePolicy(address,uint256,uint64,uint64,bool,address[],bytes4[],address[],uint256[])")
        public static let getCallRules = SystemMethod("getDeviceCallRules(address)")
        public static let getTokens = SystemMethod("getDeviceTokens(address)")
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
            try setLimits(device, native, period, until, sponsored, call)
            return []
        case Method.put.selector:
            try call.requireNoValue()
            let (device, native, period, until, sponsored, targets, selectors, tokens, limits) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextAddress(), try d.nextUInt(), try d.nextUInt64(), try d.nextUInt64(), try d.nextBool(),
                 try d.nextArray { d throws(ABIDecodingError) in try d.nextAddress() },
                 try d.nextArray { d throws(ABIDecodingError) in Array(try d.nextBytes32().bytes.prefix(4)) },
                 try d.nextArray { d throws(ABIDecodingError) in try d.nextAddress() }, try d.nextArray { d throws(ABIDecodingError) in try d.nextUInt() })
            }
            try call.require(targets.count == selectors.count, "\(targets.count) targets but \(selectors.count) selectors: give one selector per target")
            try call.require(tokens.count == limits.count, "\(tokens.count) tokens but \(limits.count) limits: give one limit per token")
            try call.require(!limits.contains(.zero), "a token's limit must be above zero (leave the token out to allow none of it)")
            try call.require(Set(zip(targets, selectors).map { $0.bytes + $1 }).count <= Self.maximumCallRules,
                             "a device's policy holds at most \(Self.maximumCallRules) call rules; allow a contract's every function (0xffffffff) instead")
            try call.require(Set(tokens).count <= Self.maximumTokens, "a device's policy limits at most \(Self.maximumTokens) tokens")
            try requireAdmin(of: device, call)
            try setLimits(device, native, period, until, sponsored, call)
            for rule in try call.loadWordArray(Slot.callList(device)) { try setCall(device, Self.rule(rule), allowed: false, call) }
            for token in try call.loadAddressArray(Slot.tokenList(device)) { try setTokenLimit(device, token, .zero, call) }
            for (target, selector) in zip(targets, selectors) { try setCall(device, (target, selector), allowed: true, call) }
            for (token, limit) in zip(tokens, limits) { try setTokenLimit(device, token, limit, call) }
            return []
        case Method.getCallRules.selector:
            let device = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            let rules = try call.loadWordArray(Slot.callList(device)).map(Self.rule)
            return ABI.encode([.array(rules.map { .address($0.target) }), .array(rules.map { .fixedBytes(Self.word($0.selector)) })])
        case Method.getTokens.selector:
            let device = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            var columns: [[ABIValue]] = [[], [], [], []]
            for token in try call.loadAddressArray(Slot.tokenList(device)) {
                let limit = try TokenLimit(device, token, call, timestamp: call.timestamp)
                for (i, value) in [ABIValue.address(token), .uint(limit.perPeriod), .uint(limit.spent), .uint(limit.remaining)].enumerated() {
                    columns[i].append(value)
                }
            }
            return ABI.encode(columns.map(ABIValue.array))
        case Method.allowCall.selector:
            try call.requireNoValue()
            let (device, target, selector, allowed) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextAddress(), try d.nextAddress(), Array(try d.nextBytes32().bytes.prefix(4)), try d.nextBool())
            }
            try requireAdmin(of: device, call)
            try requirePolicy(device, call)
            try setCall(device, (target, selector), allowed: allowed, call)
            return []
        case Method.setTokenLimit.selector:
            try call.requireNoValue()
            let (device, token, limit) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextAddress(), try d.nextUInt()) }
            try requireAdmin(of: device, call)
            try requirePolicy(device, call)
            try setTokenLimit(device, token, limit, call)
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

    private func requirePolicy(_ device: Address, _ call: SystemCall) throws(SystemCallError) {
        try call.require(try call.load(Slot.flags(device)) != .zero, "device \(device) has no policy; set one with setDevicePolicy first")
    }

    private func setLimits(_ device: Address, _ native: UInt256, _ period: UInt64, _ until: UInt64, _ sponsored: Bool,
                           _ call: SystemCall) throws(SystemCallError) {
        try call.store(Slot.flags(device), Flag.exists | (sponsored ? Flag.feesSponsored : 0))
        try call.store(Slot.nativePerPeriod(device), native)
        try call.store(Slot.period(device), period)
        try call.store(Slot.validUntil(device), until)
        try call.emit([Event.set, Bytes32(UInt256(device))],
                      ABI.encode([.uint(native), .uint(UInt256(period)), .uint(UInt256(until)), .bool(sponsored)]))
    }

    /// Allows or withdraws one call, keeping the list of allowed calls.
    private func setCall(_ device: Address, _ rule: (target: Address, selector: [UInt8]), allowed: Bool, _ call: SystemCall) throws(SystemCallError) {
        var list = try call.loadWordArray(Slot.callList(device))
        let word = UInt256(try! Bytes32(rule.target.bytes + rule.selector + [UInt8](repeating: 0, count: 8)))
        if allowed, !list.contains(word) {
            try call.require(list.count < Self.maximumCallRules, "device \(device)'s policy holds \(Self.maximumCallRules) call rules already; allow a contract's every function (0xffffffff) instead")
            list.append(word)
        } else if !allowed {
            list.removeAll { $0 == word }
        }
        try call.storeWordArray(Slot.callList(device), list)
        try call.store(Slot.call(device, rule.target, rule.selector), allowed)
        try call.emit([Event.callRuleSet, Bytes32(UInt256(device)), Bytes32(UInt256(rule.target))],
                      ABI.encode([.fixedBytes(Self.word(rule.selector)), .bool(allowed)]))
    }

    /// Sets one token's limit (0 removes it), keeping the list of tokens with a limit.
    private func setTokenLimit(_ device: Address, _ token: Address, _ limit: UInt256, _ call: SystemCall) throws(SystemCallError) {
        var list = try call.loadAddressArray(Slot.tokenList(device))
        if !limit.isZero, !list.contains(token) {
            try call.require(list.count < Self.maximumTokens, "device \(device)'s policy limits \(Self.maximumTokens) tokens already")
            list.append(token)
        } else if limit.isZero {
            list.removeAll { $0 == token }
        }
        try call.storeAddressArray(Slot.tokenList(device), list)
        try call.store(Slot.tokenLimit(device, token), limit)
        try call.emit([Event.tokenLimitSet, Bytes32(UInt256(device)), Bytes32(UInt256(token))], ABI.encode([.uint(limit)]))
    }

    /// A call rule's word back as target and selector.
    static func rule(_ word: UInt256) -> (target: Address, selector: [UInt8]) {
        let bytes = Bytes32(word).bytes
        return (try! Address(Array(bytes[0..<20])), Array(bytes[20..<24]))
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
