import Foundation
import GRDB
import KramaaChain
@testable import KramaaNode
import KramaaPrimitives
import Testing

/// A validator's committed block is written behind consensus (`commit(_:certificate:waitForStorage: false)`):
/// the next block is executed on it at once, while reads, `latest` and the observers wait for
/// the disk.
@Suite struct WriteBehindTests {
    static let recipient = "0x00000000000000000000000000000000000000aa"
    static let recipientAddress = try! Address(hex: recipient)

    /// Holds every write of `node`'s block writer until released.
    final class Gate: @unchecked Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        init(_ node: Node) { node.blockWriter.beforeWrite = { [semaphore] in semaphore.wait() } }
        func release(_ writes: Int) { for _ in 0..<writes { semaphore.signal() } }
    }

    final class Announcements: @unchecked Sendable {
        let lock = NSLock()
        var numbers: [UInt64] = []
        init(_ node: Node) {
            node.addObserver { [self] event in
                if case .newBlock(let executed) = event { lock.withLock { numbers.append(executed.block.header.number) } }
            }
        }
        var seen: [UInt64] { lock.withLock { numbers } }
    }

    @Test func aBlockBeingWrittenIsCommittedButNotReadUntilStored() throws {
        let (node, dir) = try BlockStorageTests.freshNode()
        let sender = NodeTests.key.publicKey.address
        let genesis = node.latest
        let announced = Announcements(node)
        let gate = Gate(node)
        _ = try node.accept(raw: NodeTests().tx(0, to: Self.recipient))
        let first = try #require(node.propose(timestamp: 10, coinbase: .zero, allowEmpty: false))
        try node.commit(first, certificate: [0xc0], waitForStorage: false)

        // Committed: the next height builds on it. Not stored: nothing reads it yet.
        #expect(node.committedHead == first.header)
        #expect(node.latest == genesis)
        #expect(try node.block(number: 1) == nil)
        #expect(try node.withState(at: 0) { s, _ in s.account(sender)?.nonce } == 0)
        #expect(try node.withState(at: 0) { s, _ in s.account(Self.recipientAddress)?.balance } == nil)
        let (proof, proofHeader) = try node.proof(sender, slots: [])
        #expect(proofHeader == genesis)
        #expect(proof.info.nonce == 0)
        #expect(announced.seen.isEmpty)
        // Its transaction has left the pool and is not read from the database yet: still found, pending.
        let firstHash = first.transactions[0].hash
        #expect(node.pooledTransaction(firstHash)?.hash == firstHash)
        #expect(node.pooledTransaction(firstHash)?.sender == sender)
        #expect(try node.transactionLocation(firstHash) == nil)
        #expect(try node.transactionStatus(firstHash) == .pending(try #require(node.pooledTransaction(firstHash))))

        // The next block is executed on the committed one; its commit waits for the first write.
        let secondRaw = NodeTests().tx(1, to: Self.recipient)
        _ = try node.accept(raw: secondRaw)
        let secondHash = Keccak256.hash(secondRaw)
        #expect(try node.transactionStatus(secondHash) == .pending(try #require(node.pooledTransaction(secondHash))), "in the pool: pending")
        let second = try #require(node.propose(timestamp: 11, coinbase: .zero, allowEmpty: false))
        #expect(second.header.parentHash == first.hash)
        #expect(second.transactions.count == 1)
        gate.release(2)
        try node.commit(second, certificate: [0xc0], waitForStorage: false)
        try node.waitUntilStored()
        #expect(node.latest == second.header)
        // Announced in order, each after its write (the writer is idle by then, so a little later).
        let deadline = Date().addingTimeInterval(5)
        while announced.seen.count < 2 && Date() < deadline { usleep(1_000) }
        #expect(announced.seen == [1, 2])
        #expect(node.withState { s, _ in s.stateRoot } == second.header.stateRoot)
        #expect(try node.withState(at: 2) { s, _ in s.account(Self.recipientAddress)?.balance } != nil)
        #expect(try node.withState(at: 1) { s, _ in s.account(sender)?.nonce } == 1)
        #expect(try node.block(number: 1)?.hash == first.hash)
        #expect(node.pooledTransaction(firstHash) == nil)
        #expect(try node.transactionStatus(firstHash) == .included(number: 1, index: 0))
        #expect(try node.transactionStatus(Bytes32(UInt256(7))) == nil)
        #expect(try node.transactionLocation(firstHash)?.number == 1)

        node.close()
        let reopened = try Node(dataDirectory: dir)
        #expect(reopened.latest == second.header)
        #expect(reopened.withState { s, _ in s.stateRoot } == second.header.stateRoot)
    }

    /// A commit that stores its block at once waits, holding the node's lock, for a block still
    /// written behind: the writer must finish without that lock.
    @Test func aCommitWaitingForStorageFollowsABlockWrittenBehind() throws {
        let (node, _) = try BlockStorageTests.freshNode()
        let gate = Gate(node)
        _ = try node.accept(raw: NodeTests().tx(0, to: Self.recipient))
        let first = try #require(node.propose(timestamp: 10, coinbase: .zero, allowEmpty: false))
        try node.commit(first, certificate: [0xc0], waitForStorage: false)
        _ = try node.accept(raw: NodeTests().tx(1, to: Self.recipient))
        let second = try #require(node.propose(timestamp: 11, coinbase: .zero, allowEmpty: false))
        final class Outcome: @unchecked Sendable { var error: (any Error)?; let done = DispatchSemaphore(value: 0) }
        let outcome = Outcome()
        Thread.detachNewThread {
            do { try node.commit(second, certificate: [0xc0]) } catch { outcome.error = error }
            outcome.done.signal()
        }
        usleep(50_000)  // the commit is waiting for the first write now
        gate.release(1)
        #expect(outcome.done.wait(timeout: .now() + 10) == .success, "the commit never returned: the writer waits for the lock its waiter holds")
        #expect(outcome.error == nil)
        #expect(node.latest == second.header)
        #expect(try node.transactionLocation(first.transactions[0].hash)?.number == 1)
    }

    /// A write that fails leaves the disk at the block before, refuses every later commit (the
    /// head in memory ran ahead), and a restart opens what was stored.
    @Test func aFailedWriteBehindRefusesLaterCommitsAndTheDiskKeepsTheBlockBefore() throws {
        let (node, dir) = try BlockStorageTests.freshNode()
        let genesis = node.latest
        let gate = Gate(node)
        var holding = Configuration()
        holding.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: dir.appendingPathComponent("chain.sqlite").path, configuration: holding)
        try other.inDatabase { try $0.execute(sql: "BEGIN IMMEDIATE") }
        _ = try node.accept(raw: NodeTests().tx(0, to: Self.recipient))
        let first = try #require(node.propose(timestamp: 10, coinbase: .zero, allowEmpty: false))
        try node.commit(first, certificate: [0xc0], waitForStorage: false)
        gate.release(1)
        #expect(throws: NodeError.self) { try node.waitUntilStored() }
        #expect(node.latest == genesis)
        #expect(node.committedHead == first.header)
        let second = try #require(node.propose(timestamp: 11, coinbase: .zero, allowEmpty: true))
        #expect(throws: NodeError.self) { try node.commit(second, certificate: [0xc0], waitForStorage: false) }
        #expect(throws: NodeError.self) { try node.commit(second, certificate: [0xc0]) }
        #expect(node.latest == genesis)
        try other.inDatabase { try $0.execute(sql: "ROLLBACK") }

        let reopened = try Node(dataDirectory: dir)
        #expect(reopened.latest == genesis)
        #expect(reopened.withState { s, _ in s.stateRoot } == genesis.stateRoot)
    }
}
