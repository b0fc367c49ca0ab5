import Foundation
import Testing
import KramaaPrimitives
import KramaaTestSupport
@testable import KramaaTrie

/// `ethereum/BasicTests/hexencodetest.json`: hex-prefix encoding of nibble sequences.
@Suite struct HexPrefixTests {
    @Test func everyHexEncodeVectorEncodesAndDecodes() throws {
        let url = try Vectors.folder("ethereum/BasicTests").appendingPathComponent("hexencodetest.json")
        let cases = try #require(try Vectors.json(url) as? [String: [String: Any]])
        var checked = 0
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let seq = try #require(c["seq"] as? [Int], "\(name): no seq").map { UInt8($0) }
            let term = try #require(c["term"] as? Bool, "\(name): no term")
            let out = try Hex.decode(try #require(c["out"] as? String, "\(name): no out"))
            #expect(HexPrefix.encode(seq, isLeaf: term) == out, "\(name) encodes")
            let decoded = try HexPrefix.decode(out)
            #expect(decoded.nibbles == seq && decoded.isLeaf == term, "\(name) decodes")
            checked += 1
        }
        #expect(checked == cases.count && checked > 0)
    }

    /// The internal writer used for node encoding agrees with the public encoder, at odd and
    /// even starts and lengths.
    @Test func pathWriterMatchesEncoder() {
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9a]
        for start in 0...10 {
            for end in start...10 {
                let path = NibblePath(key, start: start, end: end)
                for leaf in [false, true] {
                    let n = HexPrefix.encodedCount(nibbleCount: path.count)
                    let written = [UInt8](unsafeUninitializedCapacity: n) { buf, count in
                        HexPrefix.write(path, isLeaf: leaf, into: buf)
                        count = n
                    }
                    #expect(written == HexPrefix.encode(path.nibbles, isLeaf: leaf), "\(start)..<\(end) leaf \(leaf)")
                }
            }
        }
    }

    @Test func rejectsMalformedPaths() {
        #expect(throws: HexPrefixError.empty) { try HexPrefix.decode([UInt8]()) }
        #expect(throws: HexPrefixError.invalidFlag(0x40)) { try HexPrefix.decode([0x40]) }
        #expect(throws: HexPrefixError.invalidFlag(0xf1)) { try HexPrefix.decode([0xf1, 0x23]) }
        #expect(throws: HexPrefixError.nonZeroPadding(0x05)) { try HexPrefix.decode([0x05]) }
        #expect(throws: HexPrefixError.nonZeroPadding(0x2a)) { try HexPrefix.decode([0x2a, 0x12]) }
        #expect(HexPrefixError.invalidFlag(0x40).description.contains("0-3"))
    }

    @Test func commonPrefixAtEveryAlignment() {
        let a: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        let b: [UInt8] = [0x12, 0x34, 0x57, 0x78]  // differs at nibble 5
        for start in 0...8 {
            let path = NibblePath(a, start: start, end: 8)
            let expected = start <= 5 ? 5 - start : 8 - start
            #expect(path.commonPrefixLength(with: b) == expected, "start \(start)")
        }
        #expect(NibblePath(a, start: 0, end: 8).commonPrefixLength(with: [0x12]) == 2)
        #expect(NibblePath(a, start: 2, end: 8).commonPrefixLength(with: [0x12]) == 0)
    }
}
