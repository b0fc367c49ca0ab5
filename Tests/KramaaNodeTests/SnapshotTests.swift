import Foundation
import KramaaChain
import KramaaNode
import KramaaPrimitives
import KramaaState
import KramaaStorage
import Testing

/// State snapshots: what is written reads back whole, a node made from one opens at the snapshot's
/// block with the same state and goes on from there, and anything altered is refused by name.
@Suite struct SnapshotTests {
    /// A chain with accounts and a contract with many storage slots, a few blocks long.
    static func chain() throws -> (URL, Data) {
        let dir = NodeTests.freshDirectory()
        // Init code: SSTORE slot i = i + 1 for i in 0..<40 (a loop), no runtime code.
        let initCode: [UInt8] = [0x5f, 0x5b, 0x80, 0x60, 0x01, 0x01, 0x81, 0x55, 0x60, 0x01, 0x01, 0x80, 0x60, 0x28, 0x11, 0x60, 0x01, 0x57, 0x00]
        let document = NodeTests.genesisDocument()
        try Node.initialize(dataDirectory: dir, genesisDocument: document)
        let node = try Node(dataDirectory: dir)
        for n in 0..<5 {
            let to = String(format: "0x%040x", 0xaa00 + n)
            _ = try node.accept(raw: NodeTests().tx(UInt64(n), to: to))
            try node.produceBlock(timestamp: UInt64(10 + n), allowEmpty: false)
        }
        let create = Transaction(type: .dynamicFee, chainId: 77, nonce: 5, maxPriorityFeePerGas: .one, maxFeePerGas: UInt256(5_000_000_000),
                                 gasLimit: 2_000_000, to: nil, value: .zero, data: initCode).signed(with: NodeTests.key).encoded
        _ = try node.accept(raw: create)
        try node.produceBlock(timestamp: 20, allowEmpty: false)
        node.close()
        return (dir, document)
    }

    static func read(_ file: URL, genesis: Data) throws -> Node.VerifiedSnapshot {
        let snapshot = try SnapshotFile(url: file)
        return try Node.verifySnapshot(snapshot.manifest, genesisDocument: genesis) { index throws(SnapshotError) in try snapshot.chunk(index) }
    }

    @Test func aNodeMadeFromASnapshotOpensAtItsBlockAndGoesOn() throws {
        let (dir, genesis) = try Self.chain()
        let original = try Node(dataDirectory: dir)
        let head = original.latest
        original.close()
        let file = NodeTests.freshDirectory().appendingPathExtension("snapshot")
        // Small chunks: the contract's storage spans several.
        let manifest = try Node.exportSnapshot(dataDirectory: dir, at: nil, to: file, chunkBytes: 600)
        #expect(manifest.height == head.number && manifest.chunkHashes.count > 3)
        let verified = try Self.read(file, genesis: genesis)
        let restoredDir = NodeTests.freshDirectory()
        try Node.restore(verified, genesisDocument: genesis, dataDirectory: restoredDir)
        let restored = try Node(dataDirectory: restoredDir)
        #expect(restored.latest == head)
        #expect(restored.withState { state, _ in state.stateRoot } == head.stateRoot)
        // It goes on: a block on top, with BLOCKHASH's view of the blocks before the snapshot intact.
        let next = try NodeTests().tx(6, to: "0x00000000000000000000000000000000000000bb")
        _ = try restored.accept(raw: next)
        let built = try #require(try restored.produceBlock(timestamp: 30, allowEmpty: false))
        #expect(built.block.number == head.number + 1 && built.block.header.parentHash == head.hash)
        #expect(restored.withState { state, _ in state.blockHash(head.number - 1) } != nil)
        // The state before the snapshot is not there, and the node says so.
        #expect(throws: (any Error).self) { try restored.withState(at: head.number - 1) { _, _ in 0 } }
        // A snapshot of the restored node restores too (the ancestors and history came along).
        let again = NodeTests.freshDirectory().appendingPathExtension("snapshot")
        try Node.exportSnapshot(dataDirectory: restoredDir, at: nil, to: again)
        #expect(try Self.read(again, genesis: genesis).block.number == head.number + 1)
    }

    @Test func anOlderBlocksStateIsTheOneOfThatBlock() throws {
        let (dir, genesis) = try Self.chain()
        let node = try Node(dataDirectory: dir)
        let third = try #require(try node.header(number: 3))
        node.close()
        let file = NodeTests.freshDirectory().appendingPathExtension("snapshot")
        try Node.exportSnapshot(dataDirectory: dir, at: 3, to: file)
        let verified = try Self.read(file, genesis: genesis)
        #expect(verified.block.header == third && verified.state.stateRoot == third.stateRoot)
    }

    @Test func alteredSnapshotsAreRefusedByName() throws {
        let (dir, genesis) = try Self.chain()
        let file = NodeTests.freshDirectory().appendingPathExtension("snapshot")
        let manifest = try Node.exportSnapshot(dataDirectory: dir, at: nil, to: file, chunkBytes: 600)
        var bytes = try [UInt8](Data(contentsOf: file))
        // A flipped bit in the last chunk: that chunk is named.
        bytes[bytes.count - 3] ^= 0x04
        try Data(bytes).write(to: file)
        let snapshot = try SnapshotFile(url: file)
        #expect(throws: SnapshotError.self) { try snapshot.chunk(manifest.chunkHashes.count - 1) }
        // Truncated: refused on opening.
        try Data(bytes.dropLast(5)).write(to: file)
        #expect(throws: SnapshotError.self) { try SnapshotFile(url: file) }
        // A consistent snapshot whose state is not the header's: a chunk re-hashed after an edit.
        try Node.exportSnapshot(dataDirectory: dir, at: nil, to: file, chunkBytes: 600)
        let good = try SnapshotFile(url: file)
        var chunks = try good.manifest.chunkHashes.indices.map { try good.chunk($0) }
        var first = try SnapshotChunk(decoding: chunks[0])
        if case .account(let address, let nonce, let balance, let code) = first.entries[0] {
            first.entries[0] = .account(address, nonce: nonce, balance: balance &+ UInt256.one, code: code)
        }
        chunks[0] = first.encoded
        try SnapshotFile.write(good.manifest, chunks: chunks, to: file)
        #expect(throws: SnapshotError.self) { try Self.read(file, genesis: genesis) }
        // Another chain's genesis.
        try Node.exportSnapshot(dataDirectory: dir, at: nil, to: file)
        let other = Data(String(decoding: genesis, as: UTF8.self).replacingOccurrences(of: "\"chainId\":77", with: "\"chainId\":78").utf8)
        #expect(throws: SnapshotError.wrongChain("chain id 77, this genesis has 78")) { try Self.read(file, genesis: other) }
        // Restoring into a directory that holds a chain is refused and changes nothing.
        let verified = try Self.read(file, genesis: genesis)
        #expect(throws: NodeError.self) { try Node.restore(verified, genesisDocument: genesis, dataDirectory: dir) }
        #expect(try Node(dataDirectory: dir).latest.number == manifest.height)
    }
}
