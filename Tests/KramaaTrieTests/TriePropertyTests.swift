import Testing
import KramaaPrimitives
import KramaaTestSupport
import KramaaTrie

/// Randomized checks against a Dictionary model and against rebuilding from scratch.
@Suite struct TriePropertyTests {
    /// Keys that collide in interesting ways: short keys over a tiny alphabet (so keys are
    /// prefixes of one another and branches carry values), and 32-byte keys sharing long prefixes.
    static func key(_ rng: inout SplitMix64) -> [UInt8] {
        switch rng.next() % 4 {
        case 0, 1:
            return (0..<Int(rng.next() % 4)).map { _ in [0x00, 0x01, 0x10, 0x11][Int(rng.next() % 4)] }
        case 2:
            var k = [UInt8](repeating: 0xab, count: 32)
            k[Int(rng.next() % 32)] = UInt8(truncatingIfNeeded: rng.next())
            return k
        default:
            return rng.bytes(32)
        }
    }

    /// Values short enough to make inline (under 32 bytes) nodes and long enough to be hashed.
    static func value(_ rng: inout SplitMix64) -> [UInt8] { rng.bytes(1 + Int(rng.next() % 40)) }

    static func sortedEntries(_ model: [[UInt8]: [UInt8]]) -> [MerklePatriciaTrie.Entry] {
        model.map { (key: $0.key, value: $0.value) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// Roots hashed on several threads equal roots hashed on one, round after round of random
    /// changes (so hashes cached by the threads are reused and invalidated correctly), for tries
    /// whose root is a branch, an extension, a leaf or empty; a copy sharing nodes with the
    /// trie keeps its own root.
    @Test(arguments: 0..<6)
    func rootsHashedInParallelEqualRootsHashedOnOneThread(seed: UInt64) {
        var rng = SplitMix64(seed: 700 + seed)
        var parallel = MerklePatriciaTrie(), serial = MerklePatriciaTrie()
        var model: [[UInt8]: [UInt8]] = [:]
        #expect(parallel.rootHashInParallel == MerklePatriciaTrie.emptyRootHash)
        for round in 0..<12 {
            let shared = parallel, sharedRoot = serial.rootHash
            for _ in 0..<(round == 0 ? 1 : Int(rng.next() % 300)) {
                let k = rng.next() % 10 < 3 && !model.isEmpty ? model.keys.randomElement(using: &rng)! : Self.key(&rng)
                if rng.next() % 10 < 3 {
                    parallel.removeValue(forKey: k); serial.removeValue(forKey: k); model.removeValue(forKey: k)
                } else {
                    let v = Self.value(&rng)
                    parallel.updateValue(v, forKey: k); serial.updateValue(v, forKey: k); model[k] = v
                }
            }
            let root = parallel.rootHashInParallel
            #expect(root == serial.rootHash)
            #expect(root == MerklePatriciaTrie.root(of: Self.sortedEntries(model)))
            var untouched = shared
            #expect(untouched.rootHashInParallel == sharedRoot)
        }
    }

    /// Random inserts, updates and deletes, with roots taken along the way (so cached hashes
    /// must be invalidated correctly), match a trie built from the final contents in random
    /// order and the sorted builder; lookups, count and iteration match the model.
    @Test(arguments: 0..<12)
    func randomOperationsMatchRebuild(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var trie = MerklePatriciaTrie()
        var model: [[UInt8]: [UInt8]] = [:]
        for step in 0..<400 {
            let k = rng.next() % 10 < 3 && !model.isEmpty ? model.keys.randomElement(using: &rng)! : Self.key(&rng)
            if rng.next() % 10 < 3 {
                #expect(trie.removeValue(forKey: k) == model.removeValue(forKey: k))
            } else {
                let v = Self.value(&rng)
                #expect(trie.updateValue(v, forKey: k) == model.updateValue(v, forKey: k))
            }
            if step % 37 == 0 { _ = trie.rootHash }
        }
        #expect(trie.count == model.count)
        for (k, v) in model { #expect(trie[k] == v) }

        var rebuilt = MerklePatriciaTrie()
        for (k, v) in model.shuffled(using: &rng) { rebuilt[k] = v }
        let root = trie.rootHash
        #expect(rebuilt.rootHash == root, "seed \(seed)")
        #expect(MerklePatriciaTrie.root(of: model.map { ($0.key, $0.value) }) == root, "seed \(seed): sorted builder")

        let expected = Self.sortedEntries(model)
        #expect(trie.map(\.key) == expected.map(\.key))
        #expect(trie.map(\.value) == expected.map(\.value))
        #expect(trie.first?.key == expected.first?.key && trie.last?.key == expected.last?.key)
    }

    /// Deleting every key, in random order, leaves exactly the empty root.
    @Test(arguments: 0..<6)
    func deletingEverythingGivesEmptyRoot(seed: UInt64) {
        var rng = SplitMix64(seed: 100 + seed)
        var trie = MerklePatriciaTrie()
        var keys: Set<[UInt8]> = []
        for _ in 0..<300 {
            let k = Self.key(&rng)
            keys.insert(k)
            trie[k] = Self.value(&rng)
        }
        _ = trie.rootHash
        for (i, k) in keys.shuffled(using: &rng).enumerated() {
            #expect(trie.removeValue(forKey: k) != nil)
            if i % 50 == 0 { _ = trie.rootHash }
        }
        #expect(trie.isEmpty && trie.count == 0)
        #expect(trie.rootHash == MerklePatriciaTrie.emptyRootHash)
        #expect(Array(trie).isEmpty)
    }

    /// A copy keeps its content and root while the original changes (copy-on-write nodes).
    @Test func copiesAreIndependent() {
        var rng = SplitMix64(seed: 7)
        var a = MerklePatriciaTrie()
        for _ in 0..<500 { a[rng.bytes(32)] = Self.value(&rng) }
        let rootBefore = a.rootHash
        var b = a
        var c = a
        for (k, _) in Array(b.prefix(100)) { b[k] = nil }
        for _ in 0..<100 { b[rng.bytes(32)] = Self.value(&rng) }
        c[Array(a.first!.key)] = [1, 2, 3]
        #expect(a.rootHash == rootBefore)
        #expect(b.rootHash != rootBefore && c.rootHash != rootBefore && b.rootHash != c.rootHash)
        #expect(MerklePatriciaTrie(Array(a)).computeRootHash() == rootBefore)
        #expect(MerklePatriciaTrie(Array(b)).computeRootHash() == b.rootHash)
        // The non-caching root of a trie with pending changes agrees with the caching one.
        var d = b
        d[[0x42]] = [0x43]
        let pending = d.computeRootHash()
        #expect(pending == d.rootHash && pending != b.rootHash)
    }

    /// Copies sent to concurrent tasks share nodes with pending (uncached) hashes; each task
    /// hashes and mutates its own copy. Copy-on-write must keep them apart (run under
    /// `--sanitize=thread` to check for races).
    @Test func copiesHashAndMutateConcurrently() async {
        var rng = SplitMix64(seed: 11)
        var base = MerklePatriciaTrie()
        for _ in 0..<2000 { base[rng.bytes(32)] = Self.value(&rng) }
        _ = base.rootHash
        for _ in 0..<50 { base[rng.bytes(32)] = Self.value(&rng) }  // dirty paths, shared below
        let expected = base.computeRootHash()
        let shared = base
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<4 {
                group.addTask {
                    var copy = shared
                    let before = copy.rootHash
                    copy[[UInt8(i)]] = [UInt8(i) + 1]
                    return before == expected && copy.rootHash != expected && copy.count == shared.count + 1
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true])
        #expect(shared.computeRootHash() == expected)
    }

    /// An empty value deletes, as in Ethereum.
    @Test func emptyValueRemovesTheKey() {
        var trie = MerklePatriciaTrie()
        trie[[1, 2]] = [3]
        trie.updateValue([], forKey: [1, 2])
        #expect(trie.isEmpty && trie.rootHash == MerklePatriciaTrie.emptyRootHash)
    }

    /// `entry(after:)` and `entry(before:)` give the neighbours in the sorted model, for present
    /// and absent probes.
    @Test(arguments: 0..<4)
    func neighboursMatchSortedOrder(seed: UInt64) {
        var rng = SplitMix64(seed: 200 + seed)
        var model: [[UInt8]: [UInt8]] = [:]
        for _ in 0..<200 { model[Self.key(&rng)] = Self.value(&rng) }
        let trie = MerklePatriciaTrie(model.map { ($0.key, $0.value) })
        let keys = Self.sortedEntries(model).map(\.key)
        var probes = keys + (0..<200).map { _ in Self.key(&rng) }
        probes += keys.map { $0 + [0] } + keys.filter { !$0.isEmpty }.map { Array($0.dropLast()) }
        for probe in probes {
            let next = keys.first { probe.lexicographicallyPrecedes($0) }
            let previous = keys.last { $0.lexicographicallyPrecedes(probe) }
            #expect(trie.entry(after: probe)?.key == next, "after \(probe)")
            #expect(trie.entry(before: probe)?.key == previous, "before \(probe)")
            if let next { #expect(trie.entry(after: probe)?.value == model[next]) }
        }
    }

    /// The ordered-list root equals a trie keyed by rlp(index), across the rlp(i) length changes.
    @Test func orderedRootMatchesIndexKeyedTrie() {
        var rng = SplitMix64(seed: 300)
        for n in [0, 1, 2, 3, 16, 127, 128, 129, 255, 256, 257, 600] {
            let items = (0..<n).map { _ in Self.value(&rng) }
            var trie = MerklePatriciaTrie()
            for (i, item) in items.enumerated() {
                var w = RLPWriter()
                w.append(uint: UInt64(i))
                trie[w.bytes] = item
            }
            #expect(MerklePatriciaTrie.orderedRoot(items) == trie.rootHash, "n = \(n)")
        }
        #expect(MerklePatriciaTrie.orderedRoot([]) == MerklePatriciaTrie.emptyRootHash)
    }

    /// Known values: the root of the single pair used in many client test suites, and the
    /// transactions root of a block without transactions.
    @Test func knownRoots() throws {
        var trie = MerklePatriciaTrie()
        trie[Array("doe".utf8)] = Array("reindeer".utf8)
        trie[Array("dog".utf8)] = Array("puppy".utf8)
        trie[Array("dogglesworth".utf8)] = Array("cat".utf8)
        #expect(trie.rootHash == (try Bytes32(hex: "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3")))
        #expect(MerklePatriciaTrie().computeRootHash() == Keccak256.hash([0x80]))
    }
}

extension SplitMix64 {
    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}
