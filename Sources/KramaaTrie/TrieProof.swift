import KramaaPrimitives

/// Why a Merkle proof does not prove anything about a key under a root. `index` is the position
/// in the proof of the node where checking stopped.
public enum TrieProofError: Error, Equatable, CustomStringConvertible {
    /// The path to the key continues at a node with this hash, but the proof has no more nodes.
    case missingNode(index: Int, hash: Bytes32)
    /// The node at `index` does not hash to the reference its parent (or the root) holds.
    case hashMismatch(index: Int, expected: Bytes32, actual: Bytes32)
    /// The node at `index` is not canonical RLP.
    case malformedRLP(index: Int, RLPError)
    /// The node at `index` is RLP but not a trie node (wrong item count, bad path, bad reference).
    case invalidNode(index: Int, reason: String)
    /// The key's position was reached, but nodes from `index` on were not used.
    case unusedNodes(index: Int, count: Int)

    public var description: String {
        switch self {
        case .missingNode(let i, let hash):
            return "proof ends after \(i) nodes but the path continues at node \(hash); the proof is truncated, ask for the full proof"
        case .hashMismatch(let i, let expected, let actual):
            return "proof node \(i) hashes to \(actual), but its parent (or the root) commits to \(expected); the proof is for another root or was altered"
        case .malformedRLP(let i, let e):
            return "proof node \(i) is not valid RLP: \(e)"
        case .invalidNode(let i, let reason):
            return "proof node \(i) is not a trie node: \(reason)"
        case .unusedNodes(let i, let n):
            return "proof has \(n) node(s) from index \(i) beyond the key's position; a proof lists exactly the nodes from the root to the key"
        }
    }
}

extension MerklePatriciaTrie {
    /// The Merkle proof for `key`, as `eth_getProof` (EIP-1186) returns it: the RLP encodings
    /// of the nodes on the path from the root to where the key is, or would be. Nodes under 32
    /// bytes are inside their parent's encoding and are not listed separately. For an absent
    /// key this is a proof of exclusion; for an empty trie it is empty.
    public mutating func proof(forKey key: [UInt8]) -> [[UInt8]] {
        if root.isEmpty { return [] }
        _ = rootHash
        var encoder = NodeEncoder()
        var proof: [[UInt8]] = []
        var node = root
        var depth = 0
        while true {
            encoder.encode(node)
            if proof.isEmpty || encoder.bytes.count >= 32 { proof.append(encoder.bytes) }
            switch node {
            case .empty, .leaf:
                return proof
            case .ext(let ext):
                guard ext.path.isPrefix(of: key) else { return proof }
                depth = ext.path.end
                node = ext.child
            case .branch(let branch):
                guard depth < key.count << 1 else { return proof }
                node = branch.children[NibblePath.nibble(key, depth)]
                depth += 1
                if node.isEmpty { return proof }
            }
        }
    }

    /// Checks a Merkle proof (ordered from the root, as `proof(forKey:)` and `eth_getProof` give
    /// it) and returns the value it proves for `key`, or nil when it proves that `key` is absent.
    /// Throws when the proof is not a complete path under `root`.
    public static func verifyProof(root: Bytes32, key: [UInt8], proof: [[UInt8]]) throws(TrieProofError) -> [UInt8]? {
        var verifier = ProofVerifier(proof: proof, key: key)
        let value = try verifier.run(root: root)
        if verifier.next < proof.count { throw .unusedNodes(index: verifier.next, count: proof.count - verifier.next) }
        return value
    }
}

/// Walks a proof from the root along `key`.
private struct ProofVerifier {
    let proof: [[UInt8]]
    let key: [UInt8]
    /// The next proof node to use.
    var next = 0
    /// The nibble depth reached.
    var depth = 0

    init(proof: [[UInt8]], key: [UInt8]) {
        self.proof = proof
        self.key = key
    }

    /// Where the walk goes next.
    enum Step {
        case hash(Bytes32)
        case inline(RLPReader)
        case done([UInt8]?)
    }

    mutating func run(root: Bytes32) throws(TrieProofError) -> [UInt8]? {
        if proof.isEmpty && root == MerklePatriciaTrie.emptyRootHash { return nil }
        var step = Step.hash(root)
        while true {
            switch step {
            case .done(let value):
                return value
            case .hash(let expected):
                guard next < proof.count else { throw .missingNode(index: next, hash: expected) }
                let node = proof[next]
                let actual = Keccak256.hash(node)
                guard actual == expected else { throw .hashMismatch(index: next, expected: expected, actual: actual) }
                next += 1
                if node == [0x80] && next == 1 && expected == MerklePatriciaTrie.emptyRootHash { return nil }
                var outer = RLPReader(node)
                let items = try rlp { () throws(RLPError) -> RLPReader in
                    let list = try outer.readList()
                    try outer.finish()
                    return list
                }
                step = try visit(items)
            case .inline(let items):
                step = try visit(items)
            }
        }
    }

    /// Runs `body`, reporting an RLP error against the current node.
    private func rlp<T>(_ body: () throws(RLPError) -> T) throws(TrieProofError) -> T {
        do { return try body() } catch { throw .malformedRLP(index: max(next - 1, 0), error) }
    }

    private func invalid(_ reason: String) -> TrieProofError { .invalidNode(index: max(next - 1, 0), reason: reason) }

    /// Interprets one node (the reader is over its list items) and decides the next step.
    private mutating func visit(_ node: RLPReader) throws(TrieProofError) -> Step {
        var reader = node
        var items: [RLPReader.Header] = []
        while !reader.isAtEnd {
            let h = try rlp { () throws(RLPError) in try reader.readHeader() }
            items.append(h)
            if items.count > 17 { break }
        }
        let bytes = node.bytes
        let keyEnd = key.count << 1
        switch items.count {
        case 2:
            guard !items[0].isList else { throw invalid("a leaf or extension path must be a string") }
            let decoded: (nibbles: [UInt8], isLeaf: Bool)
            do { decoded = try HexPrefix.decode(bytes[items[0].payload]) } catch { throw invalid("\(error)") }
            let path = decoded.nibbles
            let matches = depth + path.count <= keyEnd
                && path.indices.allSatisfy { Int(path[$0]) == NibblePath.nibble(key, depth + $0) }
            if decoded.isLeaf {
                guard !items[1].isList else { throw invalid("a leaf value must be a string") }
                guard !items[1].payload.isEmpty else { throw invalid("a leaf has an empty value") }
                return .done(matches && depth + path.count == keyEnd ? Array(bytes[items[1].payload]) : nil)
            }
            guard !path.isEmpty else { throw invalid("an extension has an empty path") }
            guard matches else { return .done(nil) }
            depth += path.count
            let child = try reference(items[1], in: node)
            guard let child else { throw invalid("an extension points to nothing") }
            return child
        case 17:
            if depth == keyEnd {
                guard !items[16].isList else { throw invalid("a branch value must be a string") }
                return .done(items[16].payload.isEmpty ? nil : Array(bytes[items[16].payload]))
            }
            let slot = NibblePath.nibble(key, depth)
            depth += 1
            return try reference(items[slot], in: node) ?? .done(nil)
        default:
            throw invalid("a node has 2 or 17 items, this one has \(items.count > 17 ? "more than 17" : "\(items.count)")")
        }
    }

    /// A child reference: nil for the empty string, a hash for 32 bytes, or an inline node.
    private func reference(_ item: RLPReader.Header, in node: RLPReader) throws(TrieProofError) -> Step? {
        if item.isList {
            let size = item.payload.upperBound - item.start
            guard size < 32 else { throw invalid("an inline child node of \(size) bytes; nodes of 32 bytes or more are referenced by hash") }
            var reader = RLPReader(Array(node.bytes[item.start..<item.payload.upperBound]))
            return .inline(try rlp { () throws(RLPError) in try reader.readList() })
        }
        switch item.payload.count {
        case 0: return nil
        case 32: return .hash(node.bytes.withUnsafeBytes { Bytes32(copying: UnsafeRawBufferPointer(rebasing: $0[item.payload])) })
        default: throw invalid("a child reference is \(item.payload.count) bytes; it must be a 32-byte hash, empty, or an inline node")
        }
    }
}
