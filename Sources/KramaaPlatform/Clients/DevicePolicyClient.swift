import KramaaEVM
import KramaaPrimitives

/// A device's policy as it stands (``DevicePolicies``), with the current period's spending.
public struct DevicePolicyRecord: Equatable, Sendable {
    public struct CallRule: Equatable, Sendable {
        public var target: Address
        /// Four bytes; ``DevicePolicies/anyFunction`` or ``DevicePolicies/plainTransfer`` included.
        public var selector: [UInt8]
        public init(target: Address, selector: [UInt8]) {
            self.target = target
            self.selector = selector
        }
    }

    public struct TokenLimit: Equatable, Sendable {
        public var token: Address
        public var perPeriod: UInt256
        public var spent: UInt256 = .zero
        public var remaining: UInt256 = .zero
        public init(token: Address, perPeriod: UInt256, spent: UInt256 = .zero, remaining: UInt256 = .zero) {
            self.token = token
            self.perPeriod = perPeriod
            self.spent = spent
            self.remaining = remaining
        }
    }

    public var revoked = false
    public var feesSponsored = false
    public var nativePerPeriod: UInt256 = .zero
    /// Seconds; 0: one period, the policy's whole life.
    public var period: UInt64 = 0
    /// Unix seconds; 0: no end.
    public var validUntil: UInt64 = 0
    public var nativeSpent: UInt256 = .zero
    public var nativeRemaining: UInt256 = .zero
    public var calls: [CallRule] = []
    public var tokens: [TokenLimit] = []

    public init() {}
}

/// The device policies, typed.
public struct DevicePolicyClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = DevicePolicies.Method

    public init(_ caller: Caller) { self.caller = caller }

    /// The device's policy; nil when it has none (it is then an ordinary account).
    public func policy(of device: Address) throws(ContractCallError) -> DevicePolicyRecord? {
        var record = DevicePolicyRecord()
        let exists = try M.get.read(caller, at: DevicePolicies.address, [.address(device)]) { d throws(ABIDecodingError) in
            let exists = try d.nextBool()
            (record.revoked, record.feesSponsored, record.nativePerPeriod) = (try d.nextBool(), try d.nextBool(), try d.nextUInt())
            (record.period, record.validUntil) = (try d.nextUInt64(), try d.nextUInt64())
            (record.nativeSpent, record.nativeRemaining) = (try d.nextUInt(), try d.nextUInt())
            return exists
        }
        guard exists else { return nil }
        record.calls = try M.getCallRules.read(caller, at: DevicePolicies.address, [.address(device)]) { d throws(ABIDecodingError) in
            let targets = try d.nextArray { d throws(ABIDecodingError) in try d.nextAddress() }
            let selectors = try d.nextArray { d throws(ABIDecodingError) in Array(try d.nextBytes32().bytes.prefix(4)) }
            return zip(targets, selectors).map { DevicePolicyRecord.CallRule(target: $0, selector: $1) }
        }
        record.tokens = try M.getTokens.read(caller, at: DevicePolicies.address, [.address(device)]) { d throws(ABIDecodingError) in
            let tokens = try d.nextArray { d throws(ABIDecodingError) in try d.nextAddress() }
            let columns = [try d.nextArray { d throws(ABIDecodingError) in try d.nextUInt() }, try d.nextArray { d throws(ABIDecodingError) in try d.nextUInt() },
                           try d.nextArray { d throws(ABIDecodingError) in try d.nextUInt() }]
            guard columns.allSatisfy({ $0.count == tokens.count }) else { throw .invalidWord(offset: 0, expected: "token columns of equal length") }
            return tokens.indices.map { DevicePolicyRecord.TokenLimit(token: tokens[$0], perPeriod: columns[0][$0], spent: columns[1][$0], remaining: columns[2][$0]) }
        }
        return record
    }

}

extension DevicePolicyRecord {
    /// The calldata of `putDevicePolicy` that makes this the device's whole policy.
    public func putCallData(device: Address) -> [UInt8] {
        DevicePolicies.Method.put.callData([
            .address(device), .uint(nativePerPeriod), .uint(UInt256(period)), .uint(UInt256(validUntil)), .bool(feesSponsored),
            .array(calls.map { .address($0.target) }), .array(calls.map { .fixedBytes(DevicePolicies.word($0.selector)) }),
            .array(tokens.map { .address($0.token) }), .array(tokens.map { .uint($0.perPeriod) }),
        ])
    }
}
