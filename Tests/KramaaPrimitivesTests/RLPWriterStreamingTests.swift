import Testing
import KramaaPrimitives

/// The streaming additions to `RLPWriter` (used by the trie's node encoder) agree with the
/// generic paths and with the item-tree encoding.
@Suite struct RLPWriterStreamingTests {
    @Test func fastPathsMatchGenericEncoding() {
        for count in [0, 1, 2, 55, 56, 57, 255, 256, 1024, 70_000] {
            for first: UInt8 in [0x00, 0x7f, 0x80, 0xff] where count > 0 || first == 0 {
                var bytes = [UInt8](repeating: 0xab, count: count)
                if count > 0 { bytes[0] = first }
                let expected = RLPItem.bytes(bytes).encoded
                var fromArray = RLPWriter()
                fromArray.append(bytes: bytes)
                var fromRaw = RLPWriter()
                bytes.withUnsafeBytes { fromRaw.append(bytes: $0) }
                #expect(fromArray.bytes == expected && fromRaw.bytes == expected, "\(count) bytes from 0x\(first)")
                #expect(RLPWriter.encodedLength(ofString: count, first: bytes.first) == expected.count)
            }
        }
    }

    @Test func listHeaderThenPayloadMatchesAppendList() {
        var w = RLPWriter()
        for n in [0, 1, 55, 56, 300] {
            let items = (0..<n).map { RLPItem.bytes([UInt8(truncatingIfNeeded: $0 | 0x80)]) }
            let payload = items.flatMap(\.encoded)
            w.removeAll()
            w.appendListHeader(payloadLength: payload.count)
            payload.withUnsafeBytes { w.append(encoded: $0) }
            #expect(w.bytes == RLPItem.list(items).encoded, "\(n) items")
        }
    }
}
