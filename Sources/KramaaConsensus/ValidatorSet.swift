import KramaaPrimitives

/// A validator: an address (the secp256k1 key that signs its votes) and its voting power.
public struct Validator: Sendable, Hashable, CustomStringConvertible {
    public let address: Address
    public let power: UInt64

    public init(address: Address, power: UInt64) {
        self.address = address
        self.power = power
    }

    public var description: String { "\(address)×\(power)" }
}

/// Why a list of validators is not a usable validator set.
public enum ValidatorSetError: Error, Hashable, CustomStringConvertible {
    case empty
    case zeroPower(Address)
    case duplicate(Address)
    case totalPowerTooLarge

    public var description: String {
        switch self {
        case .empty: return "a validator set needs at least one validator"
        case .zeroPower(let a): return "validator \(a) has zero voting power"
        case .duplicate(let a): return "validator \(a) appears twice"
        case .totalPowerTooLarge: return "total voting power above 2^62"
        }
    }
}

/// The validators of one height, in the order the application gives them.
///
/// Thresholds (strict, by voting power, `T` = total power):
/// - quorum (`2f+1` in the paper): power `p` with `3p > 2T`, i.e. `p ≥ ⌊2T/3⌋ + 1`;
/// - round skip (`f+1`): power `p` with `3p > T`, i.e. `p ≥ ⌊T/3⌋ + 1`.
///
/// Proposer rule (weighted round robin, a pure function of the set, the height and the round):
/// let `g` be the gcd of the powers, `w_i = power_i / g`, `W = Σ w_i`. Slot `k = (height + round) mod W`
/// is scattered to `s = k·m mod W`, where `m` is the smallest integer `≥ max(1, ⌊0.618·W⌋)` coprime
/// with `W` (a golden-ratio stride, so consecutive rounds go to different validators). The proposer is
/// the validator whose range `[Σ_{j<i} w_j, Σ_{j≤i} w_j)` contains `s`. Since `k ↦ s` is a bijection of
/// `0..<W`, in every `W` consecutive (height + round) values validator `i` proposes exactly `w_i` times.
public struct ValidatorSet: Sendable, Hashable {
    public let validators: [Validator]
    public let totalPower: UInt64
    private let indexByAddress: [Address: Int]
    /// Cumulative reduced weights: `cumulative[i] = Σ_{j<i} w_j`.
    private let cumulative: [UInt64]
    private let reducedTotal: UInt64
    private let stride: UInt64

    public init(_ validators: [Validator]) throws(ValidatorSetError) {
        guard !validators.isEmpty else { throw .empty }
        var index: [Address: Int] = [:]
        var total: UInt64 = 0
        var g: UInt64 = 0
        for (i, v) in validators.enumerated() {
            guard v.power > 0 else { throw .zeroPower(v.address) }
            guard index[v.address] == nil else { throw .duplicate(v.address) }
            index[v.address] = i
            let (sum, overflow) = total.addingReportingOverflow(v.power)
            guard !overflow, sum <= ConsensusLimits.maxTotalPower else { throw .totalPowerTooLarge }
            total = sum
            g = Self.gcd(g, v.power)
        }
        self.validators = validators
        self.totalPower = total
        self.indexByAddress = index
        var cumulative: [UInt64] = []
        var running: UInt64 = 0
        for v in validators {
            cumulative.append(running)
            running += v.power / g
        }
        self.cumulative = cumulative
        self.reducedTotal = running
        var m = max(1, UInt64(Double(running) * 0.618))
        while Self.gcd(m, running) != 1 { m += 1 }
        self.stride = m
    }

    private static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    public var count: Int { validators.count }

    /// The index of `address` in the set, or nil for an outsider.
    public func index(of address: Address) -> Int? { indexByAddress[address] }

    public func contains(_ address: Address) -> Bool { indexByAddress[address] != nil }

    /// The voting power of `address` (0 for an outsider).
    public func power(of address: Address) -> UInt64 {
        indexByAddress[address].map { validators[$0].power } ?? 0
    }

    /// The least power that is more than 2/3 of the total.
    public var quorumPower: UInt64 { totalPower * 2 / 3 + 1 }

    /// The least power that is more than 1/3 of the total (`f+1`).
    public var skipPower: UInt64 { totalPower / 3 + 1 }

    /// True when `power` is more than 2/3 of the total.
    public func isQuorum(_ power: UInt64) -> Bool { power >= quorumPower }

    /// True when `power` is more than 1/3 of the total.
    public func exceedsOneThird(_ power: UInt64) -> Bool { power >= skipPower }

    /// The proposer of `round` at `height` (see the type's documentation).
    public func proposer(height: UInt64, round: Int) -> Validator {
        let w = reducedTotal
        let k = (height % w + UInt64(round) % w) % w
        let product = k.multipliedFullWidth(by: stride)
        let s = w.dividingFullWidth((high: product.high, low: product.low)).remainder
        // The last i with cumulative[i] <= s.
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if cumulative[mid] <= s { lo = mid } else { hi = mid - 1 }
        }
        return validators[lo]
    }

    public static func == (a: ValidatorSet, b: ValidatorSet) -> Bool { a.validators == b.validators }
    public func hash(into hasher: inout Hasher) { hasher.combine(validators) }

    // MARK: RLP: [[address, power], ...]

    public var encoded: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            for v in validators {
                w.appendList { w in
                    w.append(address: v.address)
                    w.append(uint: v.power)
                }
            }
        }
        return w.bytes
    }

    public init(rlp bytes: [UInt8]) throws(ConsensusDecodingError) {
        self = try decodeWhole(bytes) { (r: inout RLPReader) throws(ConsensusDecodingError) in
            var list = try r.list()
            var validators: [Validator] = []
            while !list.isAtEnd {
                var item = try list.list()
                let address = try item.address()
                let power = try item.uint64()
                try item.end()
                validators.append(Validator(address: address, power: power))
            }
            do throws(ValidatorSetError) { return try ValidatorSet(validators) } catch { throw .badValidatorSet(error) }
        }
    }
}
