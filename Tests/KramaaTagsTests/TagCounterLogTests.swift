import Foundation
import KramaaNFC
import KramaaTags
import Testing

/// The read-counter log (`tag-counters.log`): counters answered genuine are durable in it before
/// the table has them, survive a crash (a copy of the directory taken while the store is open),
/// and go into the table when it fills, at a stop and at the next open.
@Suite struct TagCounterLogTests {
    static let uids = (0..<3).map { try! TagUID(hex: "04C767F20661" + String(format: "%02X", 0x80 + $0)) }

    /// The files of `directory` as they are now, in a new directory: what a crash leaves.
    static func crashCopy(_ directory: URL) throws -> TemporaryDirectory {
        let copy = try TemporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            try FileManager.default.copyItem(at: directory.appendingPathComponent(name), to: copy.url.appendingPathComponent(name))
        }
        return copy
    }

    static func store(_ directory: URL, capacity: Int = 1 << 20) throws -> TagKeyStore {
        let store = try TagKeyStore(directory: directory, counterLogCapacity: capacity)
        for uid in uids where store.record(uid) == nil { try store.register(TagKeyStoreTests.registration(uid: uid)) }
        return store
    }

    static func logBytes(_ directory: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent("tag-counters.log")))
    }

    @Test func anAnsweredCounterIsInTheLogAndSurvivesACrash() async throws {
        let dir = try TemporaryDirectory()
        let store = try Self.store(dir.url)
        for counter in [3, 7, 12] as [UInt32] {
            _ = store.classify(uid: Self.uids[1], readCounter: counter, macIsValid: true)
            try await store.commit(uid: Self.uids[1], readCounter: counter)
        }
        let log = try Self.logBytes(dir.url)
        #expect(log.count == 1 << 20)
        // The third record: marker, UID, counter 12.
        #expect(log[32] == 0x4B && Array(log[33..<40]) == Self.uids[1].bytes && Array(log[40..<44]) == [0, 0, 0, 12])
        #expect(log[48..<64].allSatisfy { $0 == 0 })

        let crashed = try Self.crashCopy(dir.url)
        let recovered = try TagKeyStore(directory: crashed.url)
        #expect(recovered.record(Self.uids[1])?.lastReadCounter == 12)
        #expect(recovered.classify(uid: Self.uids[1], readCounter: 12, macIsValid: true)
                == .replayed(uid: Self.uids[1], readCounter: 12, lastReadCounter: 12))
        #expect(recovered.record(Self.uids[0])?.lastReadCounter == nil)
        // Opening folded the log into the table and zeroed it.
        #expect(try Self.logBytes(crashed.url).allSatisfy { $0 == 0 })
    }

    @Test func aFullLogIsCheckpointedIntoTheTableAndStartsAgain() async throws {
        let dir = try TemporaryDirectory()
        let store = try Self.store(dir.url, capacity: 4 * 16)
        var highest: [UInt32] = [0, 0, 0]
        for step in 1...25 {
            let tag = step % 3
            highest[tag] = UInt32(step * 10)
            _ = store.classify(uid: Self.uids[tag], readCounter: highest[tag], macIsValid: true)
            try await store.commit(uid: Self.uids[tag], readCounter: highest[tag])
        }
        let log = try Self.logBytes(dir.url)
        #expect(log.count == 64)
        // 25 records through a log of 4: six checkpoints, and the 25th is the first record now.
        #expect(Array(log[8..<12]) == [0, 0, 0, 250] && log[16..<64].allSatisfy { $0 == 0 })
        let crashed = try Self.crashCopy(dir.url)
        let recovered = try TagKeyStore(directory: crashed.url, counterLogCapacity: 64)
        for tag in 0..<3 { #expect(recovered.record(Self.uids[tag])?.lastReadCounter == highest[tag]) }
    }

    @Test func manyConcurrentCommitsLargerThanTheLogKeepEveryHighestCounter() async throws {
        let dir = try TemporaryDirectory()
        let store = try Self.store(dir.url, capacity: 3 * 16)
        await withTaskGroup(of: Void.self) { group in
            for counter in 1...120 {
                group.addTask { try? await store.commit(uid: Self.uids[counter % 3], readCounter: UInt32(counter)) }
            }
        }
        let crashed = try Self.crashCopy(dir.url)
        let recovered = try TagKeyStore(directory: crashed.url, counterLogCapacity: 48)
        #expect(recovered.record(Self.uids[0])?.lastReadCounter == 120)
        #expect(recovered.record(Self.uids[1])?.lastReadCounter == 118)
        #expect(recovered.record(Self.uids[2])?.lastReadCounter == 119)
    }

    @Test func aDamagedRecordEndsTheLogAndTheRecordsBeforeItCount() async throws {
        let dir = try TemporaryDirectory()
        let store = try Self.store(dir.url)
        for counter in [4, 5, 6] as [UInt32] { try await store.commit(uid: Self.uids[2], readCounter: counter) }
        let crashed = try Self.crashCopy(dir.url)
        var log = try Self.logBytes(crashed.url)
        log[16 + 9] ^= 0x01  // the second record's counter, its checksum now wrong
        try Data(log).write(to: crashed.url.appendingPathComponent("tag-counters.log"))
        #expect(try TagKeyStore(directory: crashed.url).record(Self.uids[2])?.lastReadCounter == 4)
    }

    @Test func aStoppedStoreLeavesItsCountersInTheTableAndAnEmptyLog() async throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try Self.store(dir.url)
            try await store.commit(uid: Self.uids[0], readCounter: 77)
        }
        #expect(try Self.logBytes(dir.url).allSatisfy { $0 == 0 })
        #expect(try TagKeyStore(directory: dir.url).record(Self.uids[0])?.lastReadCounter == 77)
    }

    @Test func aLogCapacityThatIsNotWholeRecordsIsRefusedAndChangesNothing() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: TagStoreError.self) { try TagKeyStore(directory: dir.url, counterLogCapacity: 100) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)
    }
}
