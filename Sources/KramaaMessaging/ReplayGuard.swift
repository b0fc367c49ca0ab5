import KramaaPrimitives

/// Why an envelope was refused as a replay (or as one the guard cannot tell from a replay).
public enum ReplayError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The sender's sequence number is not above the highest already accepted from it.
    case replayed(sender: Address, sequence: UInt64, highest: UInt64)
    /// From a sender the guard no longer remembers, dated at or before the floor (the newest
    /// timestamp of a sender it forgot): it could be a replay of what it forgot.
    case belowFloor(sender: Address, timestamp: UInt64, floor: UInt64)
    /// Dated further in the future than the clock skew allows (ms).
    case fromTheFuture(timestamp: UInt64, now: UInt64, maximumSkew: UInt64)
    /// Older than the guard's maximum age (ms).
    case tooOld(timestamp: UInt64, now: UInt64, maximumAge: UInt64)

    public var description: String {
        switch self {
        case .replayed(let sender, let sequence, let highest):
            return "replayed: sequence \(sequence) from \(sender) is not above \(highest), the highest already accepted"
        case .belowFloor(let sender, let timestamp, let floor):
            return "envelope from \(sender) dated \(timestamp) is not after \(floor), the oldest date this node can still check for replays"
        case .fromTheFuture(let timestamp, let now, let skew):
            return "envelope dated \(timestamp) is more than \(skew) ms ahead of now (\(now)); check the sender's clock"
        case .tooOld(let timestamp, let now, let maximumAge):
            return "envelope dated \(timestamp) is more than \(maximumAge) ms old (now \(now))"
        }
    }
}

/// Refuses replayed envelopes with bounded memory (docs/MESSAGING.md, "Replay").
///
/// Per sender it keeps the highest sequence number accepted and the newest timestamp seen, and
/// refuses a sequence at or below that. When more than `capacity` senders are remembered, the
/// eighth with the oldest timestamps is forgotten and the **floor** rises to the newest timestamp
/// among them: an envelope from a sender not remembered must be dated after the floor, so a
/// forgotten sender's old envelopes stay refused. Timestamps more than `maximumFutureSkew` ahead
/// are refused, so no sender can push the floor (and everyone's envelopes) into the future.
///
/// Check only envelopes whose signature was verified: the guard believes the origin it is given.
/// Its state is `entries` and `floor`; persist them to carry the guard across restarts.
public struct ReplayGuard: Sendable {
    /// What the guard remembers of one sender.
    public struct Entry: Hashable, Sendable {
        public var sender: Address
        /// The highest sequence accepted.
        public var sequence: UInt64
        /// The newest timestamp accepted (ms).
        public var timestamp: UInt64

        public init(sender: Address, sequence: UInt64, timestamp: UInt64) {
            self.sender = sender
            self.sequence = sequence
            self.timestamp = timestamp
        }
    }

    public let capacity: Int
    public let maximumFutureSkew: UInt64
    public let maximumAge: UInt64?
    /// Envelopes from senders not remembered must be dated after this (ms); nil while no sender
    /// was forgotten.
    public private(set) var floor: UInt64?
    private var senders: [Address: Entry] = [:]

    /// A guard remembering up to `capacity` senders; `maximumFutureSkew` and `maximumAge` in ms
    /// (no age limit when nil); restored from `entries` and `floor` when given.
    public init(capacity: Int = 100_000, maximumFutureSkew: UInt64 = 300_000, maximumAge: UInt64? = nil,
                restoring entries: [Entry] = [], floor: UInt64? = nil) {
        precondition(capacity >= 1, "a replay guard remembers at least one sender")
        self.capacity = capacity
        self.maximumFutureSkew = maximumFutureSkew
        self.maximumAge = maximumAge
        self.floor = floor
        for entry in entries {
            if let known = senders[entry.sender], known.sequence >= entry.sequence { continue }
            senders[entry.sender] = entry
        }
        evictIfFull()
    }

    /// The remembered senders (unordered).
    public var entries: [Entry] { Array(senders.values) }
    public var count: Int { senders.count }

    /// The highest sequence accepted from `sender`, if remembered.
    public func highestSequence(of sender: Address) -> UInt64? { senders[sender]?.sequence }

    /// Throws when `origin` would be refused at `now` (unix ms); changes nothing.
    public func check(_ origin: EnvelopeOrigin, now: UInt64) throws(ReplayError) {
        if origin.timestamp > now, origin.timestamp - now > maximumFutureSkew {
            throw .fromTheFuture(timestamp: origin.timestamp, now: now, maximumSkew: maximumFutureSkew)
        }
        if let maximumAge, now > origin.timestamp, now - origin.timestamp > maximumAge {
            throw .tooOld(timestamp: origin.timestamp, now: now, maximumAge: maximumAge)
        }
        if let known = senders[origin.sender] {
            guard origin.sequence > known.sequence else { throw .replayed(sender: origin.sender, sequence: origin.sequence, highest: known.sequence) }
        } else if let floor, origin.timestamp <= floor {
            throw .belowFloor(sender: origin.sender, timestamp: origin.timestamp, floor: floor)
        }
    }

    /// Accepts `origin` (remembering its sequence) or throws without changing anything.
    public mutating func admit(_ origin: EnvelopeOrigin, now: UInt64) throws(ReplayError) {
        try check(origin, now: now)
        let newest = max(senders[origin.sender]?.timestamp ?? 0, origin.timestamp)
        senders[origin.sender] = Entry(sender: origin.sender, sequence: origin.sequence, timestamp: newest)
        evictIfFull()
    }

    /// Forgets the eighth of the senders with the oldest timestamps when over capacity.
    private mutating func evictIfFull() {
        guard senders.count > capacity else { return }
        let excess = senders.count - capacity
        let forget = senders.values.sorted { $0.timestamp < $1.timestamp }.prefix(max(excess, capacity / 8, 1))
        for entry in forget {
            senders[entry.sender] = nil
            floor = max(floor ?? 0, entry.timestamp)
        }
    }
}
