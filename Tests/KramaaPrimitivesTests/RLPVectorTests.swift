import BigInt
import Foundation
import Testing
import KramaaPrimitives
import KramaaTestSupport

/// Runs every file of `ethereum/RLPTests`: encodings must match, invalid inputs must be rejected.
@Suite struct RLPVectorTests {
    /// Builds the item a test's `in` describes (see the vectors README for the conventions).
    static func item(_ json: Any) throws -> RLPItem {
        switch json {
        case let s as String where s.hasPrefix("#"):
            let n = try #require(BigUInt(String(s.dropFirst()), radix: 10), "bad big integer \(s)")
            return .bytes(Array(n.serialize()))
        case let s as String:
            return .bytes(Array(s.utf8))
        case let n as NSNumber:
            return .uint(UInt256(n.uint64Value))
        case let a as [Any]:
            return .list(try a.map(item))
        default:
            throw VectorsError.unreadable("RLP case", underlying: "unexpected input \(json)")
        }
    }

    static func outBytes(_ s: String) throws -> [UInt8] { try Hex.decode(s) }

    @Test func everyRLPVectorFilePasses() throws {
        var valid = 0, invalid = 0
        for url in try Vectors.files(in: "ethereum/RLPTests") {
            let cases = try #require(try Vectors.json(url) as? [String: [String: Any]], "\(Vectors.name(url))")
            for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
                let label = "\(Vectors.name(url)) \(name)"
                let out = try Self.outBytes(try #require(c["out"] as? String, "\(label): no out"))
                let input = c["in"]
                if let s = input as? String, s == "INVALID" {
                    invalid += 1
                    #expect(throws: RLPError.self, "\(label) must be rejected") { try RLPItem.decode(out) }
                } else if let s = input as? String, s == "VALID" {
                    valid += 1
                    let decoded = try RLPItem.decode(out)
                    #expect(decoded.encoded == out, "\(label) re-encodes")
                } else {
                    valid += 1
                    let expected = try Self.item(input as Any)
                    #expect(expected.encoded == out, "\(label) encodes")
                    #expect(try RLPItem.decode(out) == expected, "\(label) decodes")
                }
            }
        }
        #expect(valid > 0 && invalid > 0, "both valid (\(valid)) and invalid (\(invalid)) cases must run")
    }
}

@Suite struct RLPTests {
    @Test func rejectsEachNonCanonicalForm() throws {
        #expect(throws: RLPError.emptyInput) { try RLPItem.decode([]) }
        #expect(throws: RLPError.nonCanonicalSingleByte(at: 0)) { try RLPItem.decode([0x81, 0x05]) }
        #expect(throws: RLPError.nonCanonicalLength(at: 0)) { try RLPItem.decode([0xb8, 0x02, 0x61, 0x62]) }
        #expect(throws: RLPError.nonCanonicalLength(at: 0)) { try RLPItem.decode([0xf8, 0x01, 0x80]) }
        #expect(throws: RLPError.leadingZeroInLength(at: 0)) { try RLPItem.decode([0xb9, 0x00, 0x40] + [UInt8](repeating: 0x61, count: 64)) }
        #expect(throws: RLPError.trailingBytes(at: 1)) { try RLPItem.decode([0x80, 0x80]) }
        #expect(throws: RLPError.unexpectedEnd(at: 0)) { try RLPItem.decode([0x83, 0x61]) }
        #expect(throws: RLPError.unexpectedEnd(at: 1)) { try RLPItem.decode([0xc2, 0x83, 0x61]) }
        #expect(throws: RLPError.lengthOverflow(at: 0)) { try RLPItem.decode([0xbf] + [UInt8](repeating: 0xff, count: 8)) }
    }

    @Test func integersMustBeMinimal() throws {
        var r = RLPReader([0x82, 0x00, 0x01])
        #expect(throws: RLPError.leadingZeroInInteger(at: 0)) { try r.readUInt64() }
        var big = RLPReader([0x89] + [UInt8](repeating: 1, count: 9))
        #expect(throws: RLPError.integerTooLarge(at: 0, maxBytes: 8)) { try big.readUInt64() }
        var ok = RLPReader([0x82, 0x04, 0x00])
        #expect(try ok.readUInt64() == 1024)
    }

    @Test func writerMatchesTreeEncoding() throws {
        var w = RLPWriter()
        w.appendList { l in
            l.append(uint: UInt64(0))
            l.append(uint: UInt64(1024))
            l.append(bytes: [UInt8](repeating: 7, count: 60))
            l.appendList { _ in }
        }
        let tree = RLPItem.list([.bytes([]), .bytes([4, 0]), .bytes([UInt8](repeating: 7, count: 60)), .list([])])
        #expect(w.bytes == tree.encoded)
        #expect(try RLPItem.decode(w.bytes) == tree)
    }
}
