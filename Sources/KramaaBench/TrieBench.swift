import Foundation
import KramaaPrimitives
import KramaaTrie

/// Benchmarks of the Merkle Patricia Trie (layer 1). References, measured in the same run:
/// a Swift `Dictionary` holding the same entries (the cost of an unauthenticated map), and
/// Keccak-256 of every entry once (a floor: any authenticated map hashes each entry at least once).
enum TrieBench {
    static func run(quick: Bool) -> Section {
        var section = Section(title: "Trie", command: "scripts/bench.sh trie")
        let n = quick ? 20_000 : 100_000
        var rng = SplitMix64(seed: 0x7e1e)
        let keys = (0..<n).map { _ in Harness.bytes(32, seed: rng.next()) }
        let values = (0..<n).map { _ in Harness.bytes(32, seed: rng.next()) }

        // Insert, then the first root (every node hashed).
        var trie = MerklePatriciaTrie()
        var insertSeconds = Double.infinity, rootSeconds = Double.infinity
        var root = Bytes32.zero
        for _ in 0..<3 {
            var t = MerklePatriciaTrie()
            insertSeconds = min(insertSeconds, Harness.time { for i in 0..<n { t.updateValue(values[i], forKey: keys[i]) } })
            rootSeconds = min(rootSeconds, Harness.time { root = t.rootHash })
            trie = t
        }
        var dictSeconds = Double.infinity
        for _ in 0..<3 {
            var d: [[UInt8]: [UInt8]] = [:]
            dictSeconds = min(dictSeconds, Harness.time { for i in 0..<n { d[keys[i]] = values[i] } })
            blackHole(d)
        }
        let floorSeconds = Harness.time {
            var acc = Bytes32.zero
            for i in 0..<n { var h = Keccak256(); h.update(keys[i]); h.update(values[i]); acc = h.finalize() }
            blackHole(acc)
        }

        // 100 updates on the big trie, then the root again (only their paths are re-hashed).
        let updates = 100
        var updateSeconds = Double.infinity
        for round in 0..<5 {
            var t = trie
            let s = Harness.time {
                for j in 0..<updates { t.updateValue(Harness.bytes(32, seed: UInt64(round * updates + j)), forKey: keys[(j * 997) % n]) }
                blackHole(t.rootHash)
            }
            updateSeconds = min(updateSeconds, s)
        }

        // The same root from the sorted builder, no nodes kept.
        var builderSeconds = Double.infinity
        let entries = (0..<n).map { (key: keys[$0], value: values[$0]) }
        var builtRoot = Bytes32.zero
        for _ in 0..<3 { builderSeconds = min(builderSeconds, Harness.time { builtRoot = MerklePatriciaTrie.root(of: entries) }) }

        // Transactions root of a block: 1,000 items of 200 bytes.
        let items = (0..<1000).map { Harness.bytes(200, seed: UInt64($0)) }
        let ordered = Harness.rate(batch: 1) { blackHole(MerklePatriciaTrie.orderedRoot(items)) }
        let orderedFloor = Harness.rate(batch: 1) {
            var acc = Bytes32.zero
            for item in items { acc = Keccak256.hash(item) }
            blackHole(acc)
        }

        let label = "\(n / 1000)k random 32-byte keys, 32-byte values"
        section.rows = [
            Row(name: "Trie insert (\(label))", ours: Double(n) / insertSeconds, unit: "key/s",
                reference: Double(n) / dictSeconds, referenceName: "Swift Dictionary insert"),
            Row(name: "Trie first root (\(label))", ours: Double(n) / rootSeconds, unit: "key/s",
                reference: Double(n) / floorSeconds, referenceName: "Keccak-256 of each entry once"),
            Row(name: "Trie \(updates) updates + root on the \(n / 1000)k trie", ours: 1 / updateSeconds, unit: "round/s",
                reference: 1 / rootSeconds, referenceName: "first root of the whole trie"),
            Row(name: "Sorted builder root(of:) (\(label))", ours: Double(n) / builderSeconds, unit: "key/s",
                reference: Double(n) / (insertSeconds + rootSeconds), referenceName: "trie insert + first root"),
            Row(name: "orderedRoot of 1,000 items of 200 B", ours: ordered, unit: "root/s",
                reference: orderedFloor, referenceName: "Keccak-256 of each item once"),
        ]
        section.notes = [
            String(format: "%d keys: insert %.1f ms, first root %.1f ms, %d updates + root %.3f ms, sorted builder %.1f ms.",
                   n, insertSeconds * 1e3, rootSeconds * 1e3, updates, updateSeconds * 1e3, builderSeconds * 1e3),
            builtRoot == root ? "Sorted builder and trie agree on the root \(root)." : "ROOT MISMATCH between builder and trie",
        ]
        return section
    }
}
