import KramaaPrimitives

extension MerklePatriciaTrie {
    /// The root of the trie that maps `rlp(i)` to `items[i]`: the transactions root, receipts
    /// root (and withdrawals root) of a block header. Computed straight from the sorted keys
    /// without building nodes. Empty items are absent, as empty values are in any trie.
    public static func orderedRoot(_ items: [[UInt8]]) -> Bytes32 {
        if items.isEmpty { return emptyRootHash }
        // rlp(i) in byte order: 1...127 (single bytes), 0 (0x80), then 128... (0x81.., 0x82.., ...).
        let small = Swift.min(items.count, 128)
        let order = Array(1..<small) + [0] + Array(small..<items.count)
        var keys: [[UInt8]] = []
        var values: [[UInt8]] = []
        keys.reserveCapacity(items.count)
        values.reserveCapacity(items.count)
        var writer = RLPWriter(reservingCapacity: 9)
        for i in order where !items[i].isEmpty {
            writer.removeAll()
            writer.append(uint: UInt64(i))
            keys.append(writer.bytes)
            values.append(items[i])
        }
        return sortedRoot(keys: keys, values: values)
    }

    /// The root of the trie holding `entries`, computed without building nodes (faster than
    /// inserting them when the whole content is at hand). Later duplicates win; empty values are absent.
    public static func root(of entries: some Sequence<Entry>) -> Bytes32 { root(of: Array(entries)) }

    /// The root of the trie holding `entries` (see `root(of:)` for any sequence).
    public static func root(of entries: [Entry]) -> Bytes32 {
        // Sort positions by key, ties by position, so the last of a run of duplicates wins.
        var order = Array(entries.indices)
        order.sort { a, b in
            let c = compareBytes(entries[a].key, entries[b].key)
            return c != 0 ? c < 0 : a < b
        }
        var keys: [[UInt8]] = []
        var values: [[UInt8]] = []
        keys.reserveCapacity(entries.count)
        values.reserveCapacity(entries.count)
        for (i, at) in order.enumerated() {
            let e = entries[at]
            if i + 1 < order.count && entries[order[i + 1]].key == e.key { continue }
            if e.value.isEmpty { continue }
            keys.append(e.key)
            values.append(e.value)
        }
        return sortedRoot(keys: keys, values: values)
    }

    /// Bytewise comparison: negative, zero or positive as `a` sorts before, with or after `b`.
    static func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                let n = Swift.min(x.count, y.count)
                var i = 0
                while i < n {
                    if x[i] != y[i] { return Int(x[i]) - Int(y[i]) }
                    i += 1
                }
                return x.count - y.count
            }
        }
    }

    /// The root of the trie holding `values[i]` under `keys[i]`; keys strictly ascending, values non-empty.
    static func sortedRoot(keys: [[UInt8]], values: [[UInt8]]) -> Bytes32 {
        if keys.isEmpty { return emptyRootHash }
        var builder = SortedRootBuilder(keys: keys, values: values)
        var encoder = NodeEncoder()
        return builder.build(0..<keys.count, depth: 0, &encoder).rootHash
    }
}

/// Builds node references bottom-up from sorted keys. A range of keys sharing nibbles
/// `0..<depth` becomes a leaf (one key), an extension (a longer common prefix) or a branch
/// (split by the nibble at `depth`). Branch children wait on a stack of references.
private struct SortedRootBuilder {
    let keys: [[UInt8]]
    let values: [[UInt8]]
    var refs: [NodeRef] = []

    init(keys: [[UInt8]], values: [[UInt8]]) {
        self.keys = keys
        self.values = values
        refs.reserveCapacity(16 * 16)
    }

    mutating func build(_ range: Range<Int>, depth: Int, _ encoder: inout NodeEncoder) -> NodeRef {
        let first = keys[range.lowerBound]
        let firstPath = NibblePath(first, start: depth, end: first.count << 1)
        if range.count == 1 {
            encoder.encodeLeaf(path: firstPath, value: values[range.lowerBound])
            return encoder.ref
        }
        // Sorted keys: the prefix all share is the one the first and last share.
        let common = firstPath.commonPrefixLength(with: keys[range.upperBound - 1])
        if common == 0 { return buildBranch(range, depth: depth, &encoder) }
        let child = buildBranch(range, depth: depth + common, &encoder)
        encoder.encodeExtension(path: NibblePath(first, start: depth, end: depth + common), child: child)
        return encoder.ref
    }

    private mutating func buildBranch(_ range: Range<Int>, depth: Int, _ encoder: inout NodeEncoder) -> NodeRef {
        var lo = range.lowerBound
        var value: [UInt8]?
        if keys[lo].count << 1 == depth {
            // The shortest key sorts first; it ends at this branch.
            value = values[lo]
            lo += 1
        }
        let base = refs.count
        refs.append(contentsOf: repeatElement(NodeRef.none, count: 16))
        while lo < range.upperBound {
            let slot = NibblePath.nibble(keys[lo], depth)
            var hi = lo + 1
            while hi < range.upperBound && NibblePath.nibble(keys[hi], depth) == slot { hi += 1 }
            refs[base + slot] = build(lo..<hi, depth: depth + 1, &encoder)
            lo = hi
        }
        encoder.encodeBranch(value: value) { refs[base + $0] }
        refs.removeLast(16)
        return encoder.ref
    }
}
