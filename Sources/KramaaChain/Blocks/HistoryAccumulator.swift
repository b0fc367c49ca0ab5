import KramaaPrimitives

/// A Merkle mountain range over the chain's block hashes, in order: the commitment to the whole
/// history that one anchored block can carry (as FlyClient's headers do), so that anchoring
/// block N on a parent chain anchors every block before it, each provable by a path of
/// logarithmic length.
///
/// The leaves are block hashes. Two nodes of equal height join as keccak256(left ‖ right), so
/// the range is a row of perfect trees ("peaks") whose sizes are the binary digits of the
/// count, largest first. The root is keccak256(count as 8 bytes big-endian ‖ the peaks left to
/// right): it commits to the number of leaves, so which positions are leaves is never in doubt.
public struct HistoryAccumulator: Sendable, Equatable {
    /// A perfect tree of `2^height` leaves.
    public struct Peak: Sendable, Equatable {
        public let height: Int
        public let hash: Bytes32
    }

    /// What proves that a block hash is leaf `index` of an accumulator of `count` leaves: the
    /// siblings from the leaf up to its peak, and every peak (the leaf's one included, so the
    /// verifier checks what it recomputes against it and rebuilds the root from them all).
    public struct Proof: Sendable, Equatable {
        public let index: UInt64
        public let count: UInt64
        public let siblings: [Bytes32]
        public let peaks: [Bytes32]

        public init(index: UInt64, count: UInt64, siblings: [Bytes32], peaks: [Bytes32]) {
            (self.index, self.count, self.siblings, self.peaks) = (index, count, siblings, peaks)
        }
    }

    public private(set) var count: UInt64 = 0
    /// Left to right, heights strictly decreasing.
    public private(set) var peaks: [Peak] = []

    public init() {}

    public init(leaves: some Sequence<Bytes32>) {
        for leaf in leaves { append(leaf) }
    }

    /// The accumulator of `count` leaves from its peak hashes alone (left to right), as a state
    /// snapshot carries it: a node that joins from a snapshot holds no older block hashes. Nil when
    /// the number of peaks does not fit `count`.
    public init?(count: UInt64, peakHashes: [Bytes32]) {
        let heights = Self.heights(count: count)
        guard heights.count == peakHashes.count else { return nil }
        self.count = count
        peaks = zip(heights, peakHashes).map { Peak(height: $0, hash: $1) }
    }

    /// Adds the next leaf: joins it with the last peaks while their heights match (amortised O(1)).
    public mutating func append(_ leaf: Bytes32) {
        var node = Peak(height: 0, hash: leaf)
        while let last = peaks.last, last.height == node.height {
            peaks.removeLast()
            node = Peak(height: node.height + 1, hash: Self.join(last.hash, node.hash))
        }
        peaks.append(node)
        count += 1
    }

    public var root: Bytes32 { Self.root(count: count, peaks: peaks.map(\.hash)) }

    /// The proof of leaf `index`, reading the leaves of its peak's tree only (`leaves(range)` must
    /// return the hashes at those positions); nil for an index beyond the count.
    public func proof(of index: UInt64, leaves: (Range<UInt64>) throws -> [Bytes32]) rethrows -> Proof? {
        guard let (peak, start) = Self.locate(index, count: count) else { return nil }
        var level = try leaves(start..<(start + (1 << UInt64(peaks[peak].height))))
        var position = Int(index - start)
        var siblings: [Bytes32] = []
        while level.count > 1 {
            siblings.append(level[position ^ 1])
            level = stride(from: 0, to: level.count, by: 2).map { Self.join(level[$0], level[$0 + 1]) }
            position /= 2
        }
        return Proof(index: index, count: count, siblings: siblings, peaks: peaks.map(\.hash))
    }

    /// Whether `proof` shows `leaf` at its index under `root`.
    public static func verify(_ leaf: Bytes32, _ proof: Proof, root: Bytes32) -> Bool {
        guard let (peak, start) = locate(proof.index, count: proof.count), peak < proof.peaks.count,
              proof.peaks.count == proof.count.nonzeroBitCount,
              proof.siblings.count == heights(count: proof.count)[peak] else { return false }
        var node = leaf
        var position = proof.index - start
        for sibling in proof.siblings {
            node = position & 1 == 0 ? join(node, sibling) : join(sibling, node)
            position >>= 1
        }
        return node == proof.peaks[peak] && Self.root(count: proof.count, peaks: proof.peaks) == root
    }

    // MARK: Structure

    static func join(_ left: Bytes32, _ right: Bytes32) -> Bytes32 { Keccak256.hash(left.bytes + right.bytes) }

    static func root(count: UInt64, peaks: [Bytes32]) -> Bytes32 {
        var preimage = count.bigEndianBytes
        preimage.reserveCapacity(8 + 32 * peaks.count)
        for peak in peaks { preimage += peak.bytes }
        return Keccak256.hash(preimage)
    }

    /// The peaks' heights for `count` leaves, largest first (its set bits, high to low).
    static func heights(count: UInt64) -> [Int] {
        (0..<64).reversed().filter { count & (1 << UInt64($0)) != 0 }
    }

    /// Which peak holds leaf `index`, and the position of that peak's first leaf.
    static func locate(_ index: UInt64, count: UInt64) -> (peak: Int, start: UInt64)? {
        guard index < count else { return nil }
        var start: UInt64 = 0
        for (peak, height) in heights(count: count).enumerated() {
            let size: UInt64 = 1 << UInt64(height)
            if index < start + size { return (peak, start) }
            start += size
        }
        return nil
    }
}
