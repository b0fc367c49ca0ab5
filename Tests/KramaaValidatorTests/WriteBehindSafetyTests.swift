import Foundation
import KramaaChain
import KramaaConsensus
@testable import KramaaNode
import KramaaPrimitives
import Logging
import Testing

@testable import KramaaValidator

/// A validator goes on to the next height while the committed block is written, but signs
/// nothing there before it is stored: the consensus state is saved (which precedes every send)
/// only after the write.
@Suite struct WriteBehindSafetyTests {
    @Test func theNextHeightStartsAtOnceButItsStateIsSavedOnlyAfterTheBlockIsStored() throws {
        let node = try ProposalTimeTests.node()
        let application = NodeApplication(node: node, coinbase: .zero, clock: ManualTime(unixSeconds: 1_800_000_000), logger: Logger(label: "test"))
        let held = DispatchSemaphore(value: 0)
        node.blockWriter.beforeWrite = { held.wait() }

        var built: (bytes: [UInt8], hash: Bytes32)?
        application.buildBlock(height: 1, round: 0) { built = ($0, $1) }
        let block = try #require(built)
        let certificate = CommitCertificate(height: 1, round: 0, blockHash: block.hash, precommits: [])
        try application.commit(height: 1, block: block.bytes, hash: block.hash, certificate: certificate)
        #expect(application.committedHeight == 1, "the driver starts height 2 at once")
        #expect(node.latest.number == 0, "block 1 is still being written")

        let path = node.dataDirectory.appendingPathComponent("consensus.rlp")
        let store = SafetyStore(path: path, beforeSaving: { try node.waitUntilStored() })
        let saved = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let saving = store  // used by that thread alone until it signals
        Thread {
            try? saving.save(SafetyState(height: 2))
            saved.signal()
        }.start()
        #expect(saved.wait(timeout: .now() + 0.3) == .timedOut, "saved before block 1 was stored")
        #expect(!FileManager.default.fileExists(atPath: path.path))
        held.signal()
        #expect(saved.wait(timeout: .now() + 10) == .success)
        #expect(node.latest.number == 1)
        #expect(try store.load()?.height == 2)
    }

    /// The next block is built at once while the last is written only when a full block's worth
    /// waits in the pool (by the gas transactions used); with less, after the write (so it takes
    /// what arrives meanwhile).
    @Test func theNextBlockIsBuiltDuringTheWriteOnlyWhenAFullBlockWaits() throws {
        // Blocks of 50 transfers (21,000 gas each).
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-validator-\(UUID().uuidString)")
        let key = ProposalTimeTests.key
        try Node.initialize(dataDirectory: dir, genesisDocument: Data("""
            {"config":{"chainId":78,"kramaa":{"blockPeriodSeconds":0}},"gasLimit":"0x\(String(50 * 21_000, radix: 16))",
             "alloc":{"\(key.publicKey.address)":{"balance":"0x3635c9adc5dea00000"}}}
            """.utf8))
        let node = try Node(dataDirectory: dir)
        let application = NodeApplication(node: node, coinbase: .zero, clock: ManualTime(unixSeconds: 1_800_000_000), logger: Logger(label: "test"))
        let held = DispatchSemaphore(value: 0)
        node.blockWriter.beforeWrite = { held.wait() }
        func commitNext(_ height: UInt64) throws {
            var built: (bytes: [UInt8], hash: Bytes32)?
            application.buildBlock(height: height, round: 0) { built = ($0, $1) }
            let block = try #require(built)
            try application.commit(height: height, block: block.bytes, hash: block.hash,
                                   certificate: CommitCertificate(height: height, round: 0, blockHash: block.hash, precommits: []))
        }
        try commitNext(1)  // written behind, held
        func transfer(_ nonce: UInt64) throws {
            let tx = Transaction(type: .dynamicFee, chainId: 78, nonce: nonce, maxPriorityFeePerGas: .one, maxFeePerGas: UInt256(5_000_000_000),
                                 gasLimit: 21_000, to: Address(word: UInt256(0xbeef)), value: .one)
            _ = try node.accept(raw: tx.signed(with: key).encoded)
        }
        for nonce in 0..<49 { try transfer(UInt64(nonce)) }
        #expect(!node.poolFillsBlock)

        // Less than a block waits: building height 2 waits for block 1's write.
        nonisolated(unsafe) let app = application
        let answered = DispatchSemaphore(value: 0)
        Thread { app.buildBlock(height: 2, round: 0) { _, _ in answered.signal() } }.start()
        #expect(answered.wait(timeout: .now() + 0.3) == .timedOut, "built before block 1 was written")
        held.signal()
        #expect(answered.wait(timeout: .now() + 10) == .success)
        #expect(node.latest.number == 1)

        // A full block waits: built at once although block 2 is still being written.
        try commitNext(2)  // the 49 transfers, written behind, held
        for nonce in 49..<99 { try transfer(UInt64(nonce)) }
        #expect(node.poolFillsBlock)
        Thread { app.buildBlock(height: 3, round: 0) { _, _ in answered.signal() } }.start()
        #expect(answered.wait(timeout: .now() + 10) == .success)
        #expect(node.latest.number == 1, "block 2 is still being written")
        held.signal()
        try node.waitUntilStored()
        #expect(node.latest.number == 2)
        #expect(try node.block(number: 2)?.transactions.count == 49)
    }
}
