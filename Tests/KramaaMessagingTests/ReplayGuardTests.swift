import KramaaMessaging
import KramaaPrimitives
import Testing

/// The replay guard: strictly increasing sequences per sender, bounded memory with a floor,
/// clocks, and its state carried across a restart.
@Suite struct ReplayGuardTests {
    static let now: UInt64 = 1_750_000_000_000

    static func sender(_ n: Int) -> Address { try! Address([UInt8](repeating: 0, count: 19) + [UInt8(n)]) }
    static func origin(_ sender: Int, _ sequence: UInt64, at timestamp: UInt64 = now) -> EnvelopeOrigin {
        EnvelopeOrigin(chainId: 1, sender: Self.sender(sender), senderKey: Self.sender(sender), sequence: sequence, timestamp: timestamp)
    }

    @Test func aSequenceAtOrBelowTheHighestIsARefusedReplayAndChangesNothing() throws {
        var guardian = ReplayGuard()
        try guardian.admit(Self.origin(1, 5), now: Self.now)
        try guardian.admit(Self.origin(2, 1), now: Self.now)
        for replay: UInt64 in [5, 4, 0] {
            #expect(throws: ReplayError.replayed(sender: Self.sender(1), sequence: replay, highest: 5)) { try guardian.admit(Self.origin(1, replay), now: Self.now) }
        }
        #expect(guardian.highestSequence(of: Self.sender(1)) == 5)
        try guardian.admit(Self.origin(1, 9), now: Self.now)  // gaps are allowed
        #expect(guardian.highestSequence(of: Self.sender(1)) == 9 && guardian.count == 2)
        // check() alone never remembers.
        try guardian.check(Self.origin(1, 10), now: Self.now)
        #expect(guardian.highestSequence(of: Self.sender(1)) == 9)
    }

    @Test func clocksFarAheadOrTooOldAreRefused() throws {
        var guardian = ReplayGuard(maximumFutureSkew: 1_000, maximumAge: 60_000)
        #expect(throws: ReplayError.fromTheFuture(timestamp: Self.now + 1_001, now: Self.now, maximumSkew: 1_000)) {
            try guardian.admit(Self.origin(1, 1, at: Self.now + 1_001), now: Self.now)
        }
        #expect(throws: ReplayError.tooOld(timestamp: Self.now - 60_001, now: Self.now, maximumAge: 60_000)) {
            try guardian.admit(Self.origin(1, 1, at: Self.now - 60_001), now: Self.now)
        }
        try guardian.admit(Self.origin(1, 1, at: Self.now + 1_000), now: Self.now)
        #expect(guardian.count == 1)
    }

    @Test func memoryStaysBoundedAndForgottenSendersCannotBeReplayed() throws {
        var guardian = ReplayGuard(capacity: 16)
        for n in 1...40 { try guardian.admit(Self.origin(n, 3, at: Self.now + UInt64(n)), now: Self.now + 100) }
        #expect(guardian.count <= 16)
        let floor = try #require(guardian.floor)
        // Sender 1 was forgotten (oldest); its old envelope (dated before the floor) stays refused.
        #expect(guardian.highestSequence(of: Self.sender(1)) == nil)
        #expect(throws: ReplayError.belowFloor(sender: Self.sender(1), timestamp: Self.now + 1, floor: floor)) {
            try guardian.admit(Self.origin(1, 3, at: Self.now + 1), now: Self.now + 100)
        }
        // A new envelope of a forgotten sender, dated after the floor, is accepted.
        try guardian.admit(Self.origin(1, 4, at: floor + 1), now: Self.now + 100)
        // Remembered senders are judged by sequence whatever the date.
        #expect(throws: ReplayError.replayed(sender: Self.sender(40), sequence: 3, highest: 3)) {
            try guardian.admit(Self.origin(40, 3, at: Self.now + 99), now: Self.now + 100)
        }
    }

    @Test func theGuardRestoredFromItsEntriesRefusesTheSameReplays() throws {
        var guardian = ReplayGuard(capacity: 8)
        for n in 1...20 { try guardian.admit(Self.origin(n, UInt64(n), at: Self.now + UInt64(n)), now: Self.now + 50) }
        var restored = ReplayGuard(capacity: 8, restoring: guardian.entries, floor: guardian.floor)
        #expect(Set(restored.entries) == Set(guardian.entries) && restored.floor == guardian.floor)
        for n in 1...20 {
            #expect(throws: ReplayError.self) { try restored.admit(Self.origin(n, UInt64(n), at: Self.now + UInt64(n)), now: Self.now + 50) }
        }
        // Duplicate entries keep the higher sequence.
        let merged = ReplayGuard(restoring: [.init(sender: Self.sender(1), sequence: 7, timestamp: 1), .init(sender: Self.sender(1), sequence: 3, timestamp: 2)])
        #expect(merged.highestSequence(of: Self.sender(1)) == 7)
    }
}
