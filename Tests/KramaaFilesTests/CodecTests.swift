import KramaaFiles
import XCTest

/// Malformed input is refused with a typed error: CIDs, varints, multibase, blocks, CARs.
final class CodecTests: XCTestCase {
    func testMalformedCIDsAreRefused() {
        for text in ["", "Qm", "bafy", "xyz", "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyf0", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5",
                     "f0155", "zzzz", "b!!!!", "f01551220b94d27"] {
            XCTAssertThrowsError(try CID(text), text)
        }
        XCTAssertThrowsError(try Varint.read([0x80, 0x00], at: &offsetZero))
        XCTAssertThrowsError(try Varint.read([0x80], at: &offsetZero))
    }

    var offsetZero = 0

    func testVarintRoundTrip() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 16384, 1 << 35, (1 << 63) - 1] {
            var offset = 0
            XCTAssertEqual(try Varint.read(Varint.encode(value), at: &offset), value)
        }
    }

    func testBlockMustMatchItsCID() throws {
        let cid = CID.v1(CID.raw, hashing: Array("hello".utf8))
        XCTAssertNoThrow(try cid.verify(Array("hello".utf8)))
        XCTAssertThrowsError(try cid.verify(Array("hellO".utf8))) { error in
            guard case FilesError.hashMismatch = error else { return XCTFail("\(error)") }
        }
    }

    func testTruncatedCARIsRefused() throws {
        let block = Array("hello world".utf8)
        let cid = CID.v1(CID.raw, hashing: block)
        let car = CAR.header(roots: [cid]) + CAR.section(cid, block)
        // Every cut but the one right after the header (a valid CAR with no blocks) is refused.
        for cut in 1..<car.count where cut != CAR.header(roots: [cid]).count {
            var reader = CARReader()
            reader.feed(car[..<cut])
            XCTAssertThrowsError(try { while try reader.next() != nil {}; try reader.finish() }(), "cut at \(cut)")
        }
        var tampered = car
        tampered[tampered.count - 1] ^= 1
        var reader = CARReader()
        reader.feed(tampered)
        XCTAssertThrowsError(try reader.next())
    }

    func testHAMTShardsLargeDirectories() throws {
        var blocks = MemoryBlocks()
        let file = CID.v1(CID.raw, hashing: [1])
        let entries = (0..<5000).map { DirectoryBuilder.Entry(name: "file-with-a-longish-name-\($0).txt", node: ImportedNode(cid: file, tsize: 1, fileSize: 1)) }
        let root = try DirectoryBuilder.build(entries, profile: .kuboV1, sink: &blocks)
        let reader = UnixFSReader(source: blocks)
        XCTAssertEqual(try reader.entity(root.cid), .directory(sharded: true))
        XCTAssertEqual(Set(try reader.list(root.cid).map { $0.name }), Set(entries.map { $0.name }))
        var trail: [CID] = []
        XCTAssertEqual(try reader.resolve(root.cid, path: ["file-with-a-longish-name-4321.txt"], trail: &trail), file)
        XCTAssertThrowsError(try reader.resolve(root.cid, path: ["missing"], trail: &trail))
        XCTAssertThrowsError(try reader.resolve(root.cid, path: [".."], trail: &trail))
        // A small directory stays plain.
        let small = try DirectoryBuilder.build(Array(entries.prefix(10)), profile: .kuboV1, sink: &blocks)
        XCTAssertEqual(try UnixFSReader(source: blocks).entity(small.cid), .directory(sharded: false))
    }

    func testMurmur3KnownValues() {
        // murmur3-x64-128 with seed 0 of "hello": h1 = 0xcbd8a7b341bd9b02 (the reference implementation's first word).
        XCTAssertEqual(Murmur3.x64_64(Array("hello".utf8)), 0xcbd8_a7b3_41bd_9b02)
        XCTAssertEqual(Murmur3.x64_64([]), 0)
    }

    func testEntityBytesRanges() {
        XCTAssertEqual(EntityBytes("0:*")?.range(size: 100), 0..<100)
        XCTAssertEqual(EntityBytes("10:19")?.range(size: 100), 10..<20)
        XCTAssertEqual(EntityBytes("-10:*")?.range(size: 100), 90..<100)
        XCTAssertEqual(EntityBytes("0:-1")?.range(size: 100), 0..<100)
        XCTAssertNil(EntityBytes("5:1"))
        XCTAssertNil(EntityBytes("a:b"))
    }

    func testLargeFileDepthAndRangeReads() throws {
        var profile = ImportProfile.kuboV1
        profile.chunkSize = 16
        profile.maxLinks = 3
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var blocks = MemoryBlocks()
        let root = try VectorTests.importFile(data, profile: profile, into: &blocks)
        XCTAssertEqual(root.fileSize, 1000)
        let reader = UnixFSReader(source: blocks)
        XCTAssertEqual(try reader.entity(root.cid), .file(size: 1000))
        for range in [0..<1000, 5..<6, 15..<17, 990..<1000, 0..<0, 400..<777] as [Range<UInt64>] {
            var out: [UInt8] = []
            try reader.read(root.cid, range: range) { out += $0 }
            XCTAssertEqual(out, Array(data[Int(range.lowerBound)..<Int(range.upperBound)]), "\(range)")
        }
    }
}
