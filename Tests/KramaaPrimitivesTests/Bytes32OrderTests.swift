import KramaaPrimitives
import Testing

/// `Bytes32`'s order is the lexicographic order of its bytes (what SQLite's keys and sorted
/// roots rely on), compared a word at a time.
@Suite struct Bytes32OrderTests {
    @Test func comparesAsItsBytesDo() throws {
        var rng = SystemRandomNumberGenerator()
        var values: [[UInt8]] = [[UInt8](repeating: 0, count: 32), [UInt8](repeating: 0xff, count: 32)]
        for _ in 0..<2_000 {
            var bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Long shared prefixes, so later words decide too.
            if let base = values.randomElement(using: &rng), Bool.random(using: &rng) {
                let shared = Int.random(in: 0...32, using: &rng)
                bytes.replaceSubrange(0..<shared, with: base[0..<shared])
            }
            values.append(bytes)
        }
        let words = try values.map { try Bytes32($0) }
        for _ in 0..<20_000 {
            let i = Int.random(in: 0..<values.count, using: &rng), j = Int.random(in: 0..<values.count, using: &rng)
            #expect((words[i] < words[j]) == values[i].lexicographicallyPrecedes(values[j]), "\(words[i]) < \(words[j])")
        }
        #expect(words.sorted().map { Array($0.bytes) } == values.sorted { $0.lexicographicallyPrecedes($1) })
    }
}
