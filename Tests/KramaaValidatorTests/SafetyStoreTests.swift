import Foundation
import KramaaConsensus
import KramaaPrimitives
import Testing

@testable import KramaaValidator

/// The consensus safety state is what keeps a restarted validator from signing twice: a crash
/// at any point of a save must leave the state of the last completed save, and nothing else.
@Suite struct SafetyStoreTests {
    static func path() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-safety-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("consensus.rlp")
    }

    static func store(_ path: URL) -> SafetyStore { SafetyStore(path: path, beforeSaving: {}) }

    static func state(_ height: UInt64, blockBytes: Int = 0) -> SafetyState {
        let block = blockBytes > 0 ? (0..<blockBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(height)) } : nil
        return SafetyState(height: height, round: Int(height % 3), step: .prevote, validRound: block == nil ? -1 : 0,
                           validHash: block.map { Keccak256.hash($0) }, validBlock: block)
    }

    static func inode(_ path: URL) throws -> UInt64 {
        try #require(FileManager.default.attributesOfItem(atPath: path.path)[.systemFileNumber] as? UInt64)
    }

    @Test func eachSaveIsWhatAFreshLoadReadsIncludingStatesThatOutgrowTheSlots() throws {
        let path = try Self.path()
        #expect(try Self.store(path).load() == nil)
        let store = Self.store(path)
        for height in 1...6 {
            // Height 4 carries a block larger than the first slots: the file is made again, larger.
            let state = Self.state(UInt64(height), blockBytes: height == 4 ? 200_000 : height * 100)
            try store.save(state)
            #expect(try Self.store(path).load() == state)
        }
        // A store opened on the file goes on from its latest state.
        let reopened = Self.store(path)
        #expect(try reopened.load()?.height == 6)
        try reopened.save(Self.state(7))
        #expect(try Self.store(path).load() == Self.state(7))
    }

    @Test func savesOnceTheFileExistsOverwriteItInPlace() throws {
        let path = try Self.path()
        let store = Self.store(path)
        try store.save(Self.state(1))
        let inode = try Self.inode(path)
        let size = try #require(FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int)
        for height in 2...20 { try store.save(Self.state(UInt64(height), blockBytes: 1000)) }
        #expect(try Self.inode(path) == inode, "no rename: the same file")
        #expect(try FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int == size)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path.deletingLastPathComponent().path) == ["consensus.rlp"],
                "no temporary file left beside it")
    }

    /// A crash in the middle of writing a slot leaves that slot torn: loading takes the other
    /// one, the state of the save before. Both slots torn is a corrupt file, refused by name.
    @Test func aTornSlotLoadsThePreviousStateAndTwoTornSlotsAreRefused() throws {
        let path = try Self.path()
        let store = Self.store(path)
        try store.save(Self.state(1, blockBytes: 300))
        try store.save(Self.state(2, blockBytes: 300))
        var bytes = [UInt8](try Data(contentsOf: path))
        let slot = bytes.count / 2
        // Sequence 2 went into slot 0 (sequence % 2): tear its state's bytes.
        bytes[SafetyStore.headerSize + 100] ^= 0xFF
        try Data(bytes).write(to: path)
        #expect(try Self.store(path).load() == Self.state(1, blockBytes: 300))
        bytes[slot + SafetyStore.headerSize + 100] ^= 0xFF
        try Data(bytes).write(to: path)
        #expect(throws: ValidatorError.self) { try Self.store(path).load() }
        do { _ = try Self.store(path).load() } catch {
            #expect("\(error)".contains("neither slot holds a whole state"))
            #expect("\(error)".contains(path.path))
        }
    }

    /// A torn header (a sequence written, its hash not) is not taken for a newer state.
    @Test func aSlotWhoseSequenceWasWrittenButNotItsHashIsIgnored() throws {
        let path = try Self.path()
        let store = Self.store(path)
        try store.save(Self.state(1))
        try store.save(Self.state(2))
        var bytes = [UInt8](try Data(contentsOf: path))
        let slot = bytes.count / 2
        // Slot 1 holds sequence 1; make it claim sequence 3 without its hash following.
        bytes[slot + 8 + 7] = 3
        try Data(bytes).write(to: path)
        #expect(try Self.store(path).load() == Self.state(2))
    }

    @Test func aFileOfTheEarlierFormatLoadsAndTheNextSaveRewritesItInSlots() throws {
        let path = try Self.path()
        let old = Self.state(9, blockBytes: 500)
        try Data(old.encoded).write(to: path)
        let store = Self.store(path)
        #expect(try store.load() == old)
        try store.save(Self.state(10))
        let bytes = [UInt8](try Data(contentsOf: path))
        #expect(bytes.count == 2 * SafetyStore.minimumSlotSize, "two slots")
        #expect(try Self.store(path).load() == Self.state(10))
    }
}
