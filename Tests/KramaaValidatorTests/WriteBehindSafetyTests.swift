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
}
