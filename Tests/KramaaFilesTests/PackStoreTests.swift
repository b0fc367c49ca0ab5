import Foundation
import KramaaFiles
@testable import KramaaFileStore
import XCTest

/// The node's store keeps an upload's blocks in one pack file: what is committed survives a
/// restart, collection keeps exactly the live blocks of a partly dead pack, and damage or an
/// interrupted upload never makes a block appear that was not acknowledged.
final class PackStoreTests: XCTestCase {
    private var directory = ""
    /// Small chunks, so a few KiB make a DAG of many blocks and several levels.
    private let profile = ImportProfile(name: "test", cidVersion: 1, rawLeaves: true, chunkSize: 1024, maxLinks: 8)

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "kramaa-packs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func bytes(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7 &+ ($0 >> 9)) } }

    /// Imports `data` and returns its root and blocks.
    private func dag(_ data: [UInt8]) throws -> (root: CID, blocks: [CID: [UInt8]]) {
        var builder = FileBuilder(profile: profile, sink: MemoryBlocks())
        try builder.append(data)
        let root = try builder.finish()
        return (root.cid, builder.sink.blocks)
    }

    /// Uploads the DAG in two CAR batches and commits it.
    @discardableResult
    private func upload(_ store: FileStore, _ dag: (root: CID, blocks: [CID: [UInt8]])) throws -> FileStore.Status {
        let id = try store.beginUpload(size: nil)
        let all = Array(dag.blocks).sorted { $0.key < $1.key }
        for batch in [all[..<(all.count / 2)], all[(all.count / 2)...]] {
            var car = CAR.header(roots: [dag.root])
            for (cid, block) in batch { car += CAR.section(cid, block) }
            _ = try store.addToUpload(id, car: car)
        }
        return try store.commitUpload(id, root: dag.root, name: "")
    }

    private func files(_ sub: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: "\(directory)/files/\(sub)")) ?? []).filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(directory)/files/\(sub)/\($0)", isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    private func assertHolds(_ store: FileStore, _ dag: (root: CID, blocks: [CID: [UInt8]]), file: StaticString = #filePath, line: UInt = #line) throws {
        for (cid, block) in dag.blocks { XCTAssertEqual(try store.blocks.block(cid), block, "\(cid)", file: file, line: line) }
        XCTAssertTrue(try store.status(dag.root).complete, file: file, line: line)
    }

    func testACommittedUploadIsOnePackAndSurvivesARestart() throws {
        let dag = try dag(bytes(20_000, seed: 1))
        XCTAssertGreaterThan(dag.blocks.count, 20)
        let bytesHeld = dag.blocks.values.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        do {
            let store = try FileStore(dataDirectory: directory)
            let status = try upload(store, dag)
            XCTAssertTrue(status.complete && status.pinned)
            XCTAssertEqual(files("packs").count, 1)
            XCTAssertEqual(files("blocks"), [])
            XCTAssertEqual(store.blocks.usage.blocks, dag.blocks.count)
            XCTAssertEqual(store.blocks.usage.bytes, bytesHeld)
            try assertHolds(store, dag)
        }
        let reopened = try FileStore(dataDirectory: directory)
        XCTAssertEqual(reopened.blocks.usage.blocks, dag.blocks.count)
        XCTAssertEqual(reopened.blocks.usage.bytes, bytesHeld)
        try assertHolds(reopened, dag)
        // An upload of what is held stores nothing new: no second pack.
        try upload(reopened, dag)
        XCTAssertEqual(files("packs").count, 1)
    }

    func testALargeUploadInUnevenBatchesReadsBackWhole() throws {
        // 1 MiB chunks over 11.3 MiB: sections cross the writer's 4 MiB buffer and each batch's
        // sync ends mid-page, so the padded last page is written again by the next batch.
        var builder = FileBuilder(profile: .unixfsV1_2025, sink: MemoryBlocks())
        let data = bytes(11 << 20 + 300_001, seed: 6)
        try builder.append(data)
        let root = try builder.finish().cid
        let blocks = builder.sink.blocks
        let store = try FileStore(dataDirectory: directory)
        let id = try store.beginUpload(size: nil)
        let all = Array(blocks).sorted { $0.key < $1.key }
        var index = 0, step = 1
        while index < all.count {
            var car = CAR.header(roots: [root])
            for (cid, block) in all[index..<min(all.count, index + step)] { car += CAR.section(cid, block) }
            _ = try store.addToUpload(id, car: car)
            index += step
            step += 2
        }
        _ = try store.commitUpload(id, root: root, name: "")
        let pack = "\(directory)/files/packs/\(try XCTUnwrap(files("packs").first))"
        let sectionBytes = all.reduce(0) { total, entry in
            total + Varint.size(UInt64(entry.key.bytes.count + entry.value.count)) + entry.key.bytes.count + entry.value.count
        }
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: pack)[.size] as? Int, sectionBytes, "no padding left")
        for reopened in [store, try FileStore(dataDirectory: directory)] {
            try assertHolds(reopened, (root, blocks))
            var read: [UInt8] = []
            try UnixFSReader(source: reopened.blocks).read(root, emit: { read += $0 })
            XCTAssertEqual(read, data)
        }
    }

    func testCollectionKeepsTheLiveBlocksOfAPartlyDeadPack() throws {
        let whole = bytes(20_000, seed: 2)
        let first = try dag(whole)
        // The first 7 KiB: 7 of the first file's leaves, under a root of its own (8 would make its root
        // the first file's first inner node).
        let prefix = try dag(Array(whole[..<7168]))
        let shared = Set(prefix.blocks.keys).intersection(first.blocks.keys)
        XCTAssertEqual(shared.count, 7)
        let store = try FileStore(dataDirectory: directory)
        try upload(store, first)
        try upload(store, prefix)
        XCTAssertEqual(files("packs").count, 2)
        try store.unpin(first.root)
        let removed = try store.collectGarbage()
        let dead = Set(first.blocks.keys).subtracting(shared)
        XCTAssertEqual(removed.blocks, dead.count)
        XCTAssertEqual(removed.bytes, dead.reduce(UInt64(0)) { $0 + UInt64(first.blocks[$1]!.count) })
        // The first pack is gone; its live leaves were kept alone.
        XCTAssertEqual(files("packs").count, 1)
        XCTAssertEqual(files("blocks").count, shared.count)
        for cid in dead { XCTAssertNil(try store.blocks.block(cid), "\(cid) should be collected") }
        try assertHolds(store, prefix)
        let reopened = try FileStore(dataDirectory: directory)
        try assertHolds(reopened, prefix)
        XCTAssertEqual(reopened.blocks.usage.blocks, prefix.blocks.count)
        // Nothing pinned: everything goes, and no pack is left.
        try reopened.unpin(prefix.root)
        XCTAssertEqual(try reopened.collectGarbage().blocks, prefix.blocks.count)
        XCTAssertEqual(files("packs") + files("blocks"), [])
        XCTAssertEqual(reopened.blocks.usage.bytes, 0)
    }

    func testBatchesOfBlocksGoToOneBatchPackThatSurvivesARestartAndCollection() throws {
        let dag = try dag(bytes(30_000, seed: 7))
        let all = Array(dag.blocks).sorted { $0.key < $1.key }.map { (cid: $0.key, block: $0.value) }
        let store = try FileStore(dataDirectory: directory)
        // A batch with a block that does not match its CID stores nothing.
        var bad = Array(all[..<5])
        bad[3].block[0] ^= 1
        XCTAssertThrowsError(try store.blocks.put(batch: bad))
        XCTAssertEqual(store.blocks.usage.blocks, 0)
        XCTAssertEqual(try store.blocks.put(batch: Array(all[..<10])), 10)
        // Held blocks and repeats within a batch are not appended again.
        XCTAssertEqual(try store.blocks.put(batch: Array(all[5..<20]) + Array(all[15..<20])), 10)
        XCTAssertEqual(try store.blocks.put(batch: Array(all[20...])), all.count - 20)
        XCTAssertEqual(files("packs").count, 1)
        XCTAssertEqual(files("blocks"), [])
        // Reopened without the pack being finished (as after a crash; the first store is not used
        // again): every acknowledged block is there.
        let reopened = try FileStore(dataDirectory: directory)
        XCTAssertEqual(reopened.blocks.usage.blocks, all.count)
        try assertHolds(reopened, dag)
        try reopened.pin(dag.root)
        XCTAssertEqual(try reopened.collectGarbage().blocks, 0)
        try assertHolds(reopened, dag)
        try reopened.unpin(dag.root)
        XCTAssertEqual(try reopened.collectGarbage().blocks, all.count)
        XCTAssertEqual(files("packs") + files("blocks"), [])
    }

    func testATornPackKeepsTheBlocksBeforeTheDamage() throws {
        let dag = try dag(bytes(12_000, seed: 3))
        do { try upload(try FileStore(dataDirectory: directory), dag) }
        let pack = "\(directory)/files/packs/\(try XCTUnwrap(files("packs").first))"
        // A section that claims more bytes than follow it.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: pack))
        handle.seekToEndOfFile()
        handle.write(Data(Varint.encode(5000) + CID.v1(CID.raw, hashing: [1, 2, 3]).bytes + [9, 9]))
        try handle.close()
        let reopened = try FileStore(dataDirectory: directory)
        XCTAssertEqual(reopened.blocks.usage.blocks, dag.blocks.count)
        try assertHolds(reopened, dag)
        XCTAssertFalse(reopened.blocks.has(CID.v1(CID.raw, hashing: [1, 2, 3])))
    }

    func testAnUploadNotCommittedLeavesNothingAfterARestart() throws {
        let dag = try dag(bytes(9_000, seed: 4))
        do {
            let store = try FileStore(dataDirectory: directory)
            let id = try store.beginUpload(size: nil)
            var car = CAR.header(roots: [dag.root])
            for (cid, block) in dag.blocks { car += CAR.section(cid, block) }
            _ = try store.addToUpload(id, car: car)
            XCTAssertFalse(store.blocks.has(dag.root))
        }
        let reopened = try FileStore(dataDirectory: directory)
        XCTAssertFalse(reopened.blocks.has(dag.root))
        XCTAssertEqual(reopened.blocks.usage.blocks, 0)
        XCTAssertEqual(files("packs") + files("blocks") + files("uploads"), [])
    }

    func testABadBlockDiscardsTheUploadAndStoresNothing() throws {
        let dag = try dag(bytes(9_000, seed: 5))
        let store = try FileStore(dataDirectory: directory)
        let id = try store.beginUpload(size: nil)
        var car = CAR.header(roots: [dag.root])
        for (cid, block) in dag.blocks { car += CAR.section(cid, block) }
        car += CAR.section(CID.v1(CID.raw, hashing: [7]), [8])
        XCTAssertThrowsError(try store.addToUpload(id, car: car))
        XCTAssertThrowsError(try store.commitUpload(id, root: dag.root, name: "")) { error in
            guard case .unknownUpload? = error as? FileStoreError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(store.blocks.usage.blocks, 0)
        XCTAssertEqual(files("packs") + files("blocks") + files("uploads"), [])
    }
}
