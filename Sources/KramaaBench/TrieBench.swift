import Foundation
import KramaaEVM
import KramaaPrimitives
import KramaaState
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

        // A busy block's worth of updates (an EPCIS block writes about 1,200 slots of one
        // contract), the root hashed on one thread and on every core.
        let manyUpdates = 1_200
        var serialSeconds = Double.infinity, parallelSeconds = Double.infinity
        var parallelRoot = Bytes32.zero, serialRoot = Bytes32.zero
        for round in 0..<5 {
            // Two tries updated alike from the big one, so each hashes the same unshared nodes.
            var t = trie, u = trie
            for j in 0..<manyUpdates {
                let value = Harness.bytes(32, seed: UInt64(round * manyUpdates + j)), key = keys[(j * 997) % n]
                t.updateValue(value, forKey: key)
                u.updateValue(value, forKey: key)
            }
            if round % 2 == 0 {
                serialSeconds = min(serialSeconds, Harness.time { serialRoot = t.rootHash })
                parallelSeconds = min(parallelSeconds, Harness.time { parallelRoot = u.rootHashInParallel })
            } else {
                parallelSeconds = min(parallelSeconds, Harness.time { parallelRoot = u.rootHashInParallel })
                serialSeconds = min(serialSeconds, Harness.time { serialRoot = t.rootHash })
            }
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

        // A block's worth of slot writes to one contract, committed and rooted: its cost follows
        // the writes, not the contract's size (the small contract is the reference).
        let blockOnBig = stateBlockSeconds(slotsHeld: n, quick: quick), blockOnSmall = stateBlockSeconds(slotsHeld: 1_000, quick: quick)

        let label = "\(n / 1000)k random 32-byte keys, 32-byte values"
        section.rows = [
            Row(name: "Trie insert (\(label))", ours: Double(n) / insertSeconds, unit: "key/s",
                reference: Double(n) / dictSeconds, referenceName: "Swift Dictionary insert"),
            Row(name: "Trie first root (\(label))", ours: Double(n) / rootSeconds, unit: "key/s",
                reference: Double(n) / floorSeconds, referenceName: "Keccak-256 of each entry once"),
            Row(name: "Trie \(updates) updates + root on the \(n / 1000)k trie", ours: 1 / updateSeconds, unit: "round/s",
                reference: 1 / rootSeconds, referenceName: "first root of the whole trie"),
            Row(name: "Trie root after \(manyUpdates) updates on the \(n / 1000)k trie, hashed on \(ProcessInfo.processInfo.activeProcessorCount) threads",
                ours: 1 / parallelSeconds, unit: "root/s", reference: 1 / serialSeconds, referenceName: "the same root on one thread"),
            Row(name: "Sorted builder root(of:) (\(label))", ours: Double(n) / builderSeconds, unit: "key/s",
                reference: Double(n) / (insertSeconds + rootSeconds), referenceName: "trie insert + first root"),
            Row(name: "orderedRoot of 1,000 items of 200 B", ours: ordered, unit: "root/s",
                reference: orderedFloor, referenceName: "Keccak-256 of each item once"),
            Row(name: "World state: 100 slot writes committed + state root, contract holding \(n / 1000)k slots", ours: 1 / blockOnBig, unit: "block/s",
                reference: 1 / blockOnSmall, referenceName: "the same, contract holding 1k slots"),
        ]
        section.notes = [
            String(format: "%d keys: insert %.1f ms, first root %.1f ms, %d updates + root %.3f ms, sorted builder %.1f ms.",
                   n, insertSeconds * 1e3, rootSeconds * 1e3, updates, updateSeconds * 1e3, builderSeconds * 1e3),
            builtRoot == root ? "Sorted builder and trie agree on the root \(root)." : "ROOT MISMATCH between builder and trie",
            parallelRoot == serialRoot ? "Roots hashed on one thread and on several agree." : "ROOT MISMATCH between one thread and several",
        ]
        return section
    }

    /// Seconds (best of several) to write 100 new slots of one contract that holds `slotsHeld`,
    /// commit them to an ``InMemoryState`` and compute the state root.
    static func stateBlockSeconds(slotsHeld: Int, quick: Bool) -> Double {
        let state = InMemoryState()
        let contract = Address(word: UInt256(0xC0DE as UInt64))
        var storage: [UInt256: UInt256] = [:]
        for i in 0..<slotsHeld { storage[UInt256(UInt64(i) &* 0x9E37_79B9_7F4A_7C15)] = UInt256(UInt64(i + 1)) }
        state.set(contract, nonce: 1, balance: .zero, code: [0x00], storage: storage)
        _ = state.stateRoot
        _ = state.takeChanges()
        var best = Double.infinity
        for round in 0..<(quick ? 5 : 20) {
            let journaled = JournaledState(backend: state)
            for j in 0..<100 { journaled.setStorage(contract, UInt256(UInt64(1 << 40 + round * 100 + j)), UInt256(UInt64(j + 1))) }
            journaled.finishTransaction()
            best = min(best, Harness.time {
                state.commit(journaled)
                blackHole(state.stateRoot)
            })
            _ = state.takeChanges()
        }
        return best
    }
}
