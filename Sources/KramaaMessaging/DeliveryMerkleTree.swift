import KramaaPrimitives

/// A binary Merkle tree over keccak256 (docs/MESSAGING.md, "Proof of delivery"): leaves in
/// order; each level hashes pairs as `keccak256(left ‖ right)`; an odd last node is carried up
/// unchanged. A proof is the siblings from the leaf up, each with its side.
public struct DeliveryMerkleTree: Sendable {
    public let leaves: [Bytes32]
    private let levels: [[Bytes32]]

    /// One step of a proof: the sibling hash and whether it is on the left.
    public struct Step: Equatable, Sendable {
        public var sibling: Bytes32
        public var siblingIsLeft: Bool

        public init(sibling: Bytes32, siblingIsLeft: Bool) {
            self.sibling = sibling
            self.siblingIsLeft = siblingIsLeft
        }
    }

    public init(leaves: [Bytes32]) {
        precondition(!leaves.isEmpty, "a Merkle tree needs a leaf")
        self.leaves = leaves
        var levels = [leaves]
        while levels.last!.count > 1 {
            let level = levels.last!
            var next: [Bytes32] = []
            next.reserveCapacity((level.count + 1) / 2)
            for i in stride(from: 0, to: level.count, by: 2) {
                next.append(i + 1 < level.count ? Self.parent(level[i], level[i + 1]) : level[i])
            }
            levels.append(next)
        }
        self.levels = levels
    }

    public var root: Bytes32 { levels.last![0] }

    /// The proof of leaf `index`.
    public func proof(of index: Int) -> [Step] {
        var steps: [Step] = []
        var i = index
        for level in levels.dropLast() {
            let sibling = i ^ 1
            if sibling < level.count { steps.append(Step(sibling: level[sibling], siblingIsLeft: sibling < i)) }
            i /= 2
        }
        return steps
    }

    /// The root a leaf and its proof lead to.
    public static func root(of leaf: Bytes32, proof: [Step]) -> Bytes32 {
        proof.reduce(leaf) { node, step in step.siblingIsLeft ? parent(step.sibling, node) : parent(node, step.sibling) }
    }

    static func parent(_ left: Bytes32, _ right: Bytes32) -> Bytes32 { Keccak256.hash(left.bytes + right.bytes) }
}
