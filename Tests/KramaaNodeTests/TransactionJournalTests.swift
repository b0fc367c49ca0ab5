import Foundation
import KramaaChain
import KramaaNode
import KramaaPrimitives
import Testing

/// The pool journal: what a node acknowledged is in its pool again after a crash (a new `Node`
/// on the same directory without the old one closing), what a block holds is not, a torn tail
/// is ignored, concurrent submissions share syncs, and rewrites keep exactly the live pool.
@Suite struct TransactionJournalTests {
    func journalPath(_ dir: URL) -> String { dir.appendingPathComponent("txpool.journal").path }

    func freshNode() throws -> (Node, URL) {
        let dir = NodeTests.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: NodeTests.genesisDocument())
        return (try Node(dataDirectory: dir), dir)
    }

    @Test func anAcknowledgedTransactionIsInThePoolAfterACrash() async throws {
        let (node, dir) = try freshNode()
        var hashes: [Bytes32] = []
        for n in 0..<3 { hashes.append(try await node.submit(raw: NodeTests().tx(UInt64(n), to: "0x00000000000000000000000000000000000000aa"))) }
        // No close, no block: as after kill -9, only the disk knows.
        let reopened = try Node(dataDirectory: dir)
        #expect(reopened.journalReplay.restored == 3)
        #expect(reopened.journalReplay.dropped == 0)
        for hash in hashes { #expect(reopened.pooledTransaction(hash) != nil) }
        #expect(reopened.pendingNonce(NodeTests.key.publicKey.address) == 3)
        #expect(throws: NodeError.self) { try reopened.accept(raw: NodeTests().tx(0, to: "0x00000000000000000000000000000000000000aa")) }
    }

    @Test func theReplayDropsWhatABlockHoldsAndATornTail() async throws {
        let (node, dir) = try freshNode()
        for n in 0..<3 { _ = try await node.submit(raw: NodeTests().tx(UInt64(n), to: "0x00000000000000000000000000000000000000aa")) }
        #expect(try node.produceBlock(timestamp: 100, allowEmpty: false)?.block.transactions.count == 3)
        let last = try await node.submit(raw: NodeTests().tx(3, to: "0x00000000000000000000000000000000000000aa"))
        // a record cut short by the crash
        let handle = try #require(FileHandle(forWritingAtPath: journalPath(dir)))
        handle.seekToEndOfFile()
        handle.write(Data([0, 0, 0, 200, 1, 2, 3, 4, 0xf8]))
        handle.closeFile()
        let reopened = try Node(dataDirectory: dir)
        #expect(reopened.journalReplay.restored == 1)
        #expect(reopened.journalReplay.dropped == 3)
        #expect(reopened.pooledTransaction(last) != nil)
        // the replayed journal was rewritten to exactly the pool
        #expect(try TransactionJournal.read(path: journalPath(dir)).count == 1)
    }

    @Test func concurrentSubmissionsShareSyncs() async throws {
        let (node, dir) = try freshNode()
        // one sender, 64 nonces, submitted concurrently (future nonces queue until the gap closes)
        let raws = (0..<64).map { NodeTests().tx(UInt64($0), to: "0x00000000000000000000000000000000000000aa") }
        try await withThrowingTaskGroup(of: Bytes32.self) { group in
            for raw in raws { group.addTask { try await node.submit(raw: raw) } }
            for try await _ in group {}
        }
        #expect(node.journalSyncs < 64)
        #expect(try TransactionJournal.read(path: journalPath(dir)).count == 64)
    }

    /// The writer is woken by the first record of a write and by the first waiter, not by
    /// every record: records nobody waits for are synced once their delay is up, and a waiter
    /// arriving during that delay (more records appended meanwhile) is answered at once.
    @Test func recordsNobodyWaitsForAreSyncedTogetherAndAWaiterEndsTheDelay() async throws {
        let dir = NodeTests.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let quick = try TransactionJournal(path: journalPath(dir) + ".quick", initial: [], unwaitedDelay: .milliseconds(50)) { cut in cut(); return [] }
        for n in 0..<5 { _ = try quick.append([UInt8(n), 1, 2]) }
        try await Task.sleep(for: .milliseconds(400))
        #expect(quick.syncs == 1)
        #expect(try TransactionJournal.read(path: journalPath(dir) + ".quick") == (0..<5).map { [UInt8($0), 1, 2] })
        quick.close()

        let slow = try TransactionJournal(path: journalPath(dir), initial: [], unwaitedDelay: .seconds(30)) { cut in cut(); return [] }
        _ = try slow.append([1])
        try await Task.sleep(for: .milliseconds(50))  // the writer is in its 30 s delay now
        var tickets: [TransactionJournal.Ticket] = []
        for n in 0..<20 { tickets.append(try slow.append([2, UInt8(n)])) }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for ticket in tickets { group.addTask { try await slow.waitUntilDurable(ticket) } }
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(slow.syncs <= 2)
        #expect(try TransactionJournal.read(path: journalPath(dir)).count == 21)
        slow.close()
    }

    @Test func aRewriteKeepsTheLiveRecordsAndWhatFollowsTheCut() async throws {
        let dir = NodeTests.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = journalPath(dir)
        let live: [[UInt8]] = [[1, 2, 3], [4, 5]]
        let journal = try TransactionJournal(path: path, initial: [[9]], compactionThreshold: 1) { cut in
            cut()
            return live
        }
        // one record large enough to pass four times the rewritten size: written, then rewritten
        let ticket = try journal.append([UInt8](repeating: 7, count: 200))
        try await journal.waitUntilDurable(ticket)
        journal.close()
        #expect(try TransactionJournal.read(path: path) == live)
        await #expect(throws: JournalError.closed) { try await journal.waitUntilDurable(ticket + 1) }
        #expect(throws: JournalError.closed) { try journal.append([1]) }
    }

    @Test func aDamagedFileIsReadUpToTheDamage() throws {
        let dir = NodeTests.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = journalPath(dir)
        let journal = try TransactionJournal(path: path, initial: [[1, 1], [2, 2], [3, 3]]) { _ in [] }
        journal.close()
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 1] ^= 0xff  // the last record's payload no longer matches its checksum
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try TransactionJournal.read(path: path) == [[1, 1], [2, 2]])
    }
}
