import KramaaPrimitives

/// How a parent node refers to a child, cached in the child: the Keccak-256 of the child's RLP
/// encoding, or (Yellow Paper, appendix D) the encoding itself when it is under 32 bytes.
struct NodeRef {
    /// The hash, or the inline encoding in the first `length` bytes.
    var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// 0: not computed yet; 1...31: inline encoding; 32: hash.
    var length: UInt8 = 0

    /// Not computed: the node changed since its reference was last taken.
    static let none = NodeRef()

    @inline(__always) var isComputed: Bool { length != 0 }
    @inline(__always) var isHash: Bool { length == 32 }

    /// The reference for an encoding: inline below 32 bytes, else its hash.
    init(encoding: UnsafeRawBufferPointer) {
        if encoding.count < 32 {
            withUnsafeMutableBytes(of: &storage) { UnsafeMutableRawBufferPointer(rebasing: $0[..<encoding.count]).copyMemory(from: encoding) }
            length = UInt8(encoding.count)
        } else {
            let hash = Keccak256.hash(encoding)
            hash.withUnsafeBytes { h in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: h) } }
            length = 32
        }
    }

    init() {}

    /// Bytes this reference takes inside its parent's RLP list.
    @inline(__always) var encodedLength: Int { isHash ? 33 : Int(length) }

    /// Appends the reference as an item of the parent's list: `0xa0 ‖ hash`, or the inline encoding.
    func append(to writer: inout RLPWriter) {
        withUnsafeBytes(of: storage) { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[..<Int(length)])
            if isHash { writer.append(bytes: bytes) } else { writer.append(encoded: bytes) }
        }
    }

    /// The hash a root takes: the stored hash, or the hash of a short inline encoding.
    var rootHash: Bytes32 {
        withUnsafeBytes(of: storage) { raw in
            isHash ? Bytes32(copying: raw) : Keccak256.hash(UnsafeRawBufferPointer(rebasing: raw[..<Int(length)]))
        }
    }
}

/// A node of the in-memory trie. Payloads are classes so that a trie value shares structure with
/// its copies; a node is mutated only when `isKnownUniquelyReferenced` (see `makeUnique`).
enum TrieNode {
    case empty
    case leaf(LeafNode)
    case ext(ExtensionNode)
    case branch(BranchNode)

    /// The cached reference of a non-empty node (`.none` if not computed).
    @inline(__always)
    var ref: NodeRef {
        switch self {
        case .empty: return .none
        case .leaf(let n): return n.ref
        case .ext(let n): return n.ref
        case .branch(let n): return n.ref
        }
    }

    @inline(__always)
    var isEmpty: Bool { if case .empty = self { return true } else { return false } }
}

/// Nodes are mutated only while uniquely referenced from a trie being mutated (`inout`),
/// so no two threads can reach a node that is being written; that makes sharing them sound.
protocol TrieNodeObject: AnyObject, Sendable {
    var ref: NodeRef { get set }
    func clone() -> Self
}

/// Replaces `node` by a copy unless this trie holds the only reference, and clears its cached
/// reference (it is about to change).
@inline(__always)
func makeUnique<T: TrieNodeObject>(_ node: inout T) {
    if !isKnownUniquelyReferenced(&node) { node = node.clone() }
}

/// A key's remaining nibbles and its value.
final class LeafNode: TrieNodeObject, @unchecked Sendable {
    /// The remaining path; `path.bytes[0 ..< path.end / 2]` is the full key.
    var path: NibblePath
    var value: [UInt8]
    var ref: NodeRef = .none

    init(path: NibblePath, value: [UInt8]) {
        self.path = path
        self.value = value
    }

    func clone() -> LeafNode {
        let c = LeafNode(path: path, value: value)
        c.ref = ref
        return c
    }

    /// The full key of this leaf.
    var key: [UInt8] {
        path.end == path.bytes.count << 1 ? path.bytes : Array(path.bytes[..<(path.end >> 1)])
    }
}

/// A shared run of nibbles leading to a branch.
final class ExtensionNode: TrieNodeObject, @unchecked Sendable {
    var path: NibblePath
    var child: TrieNode
    var ref: NodeRef = .none

    init(path: NibblePath, child: TrieNode) {
        self.path = path
        self.child = child
    }

    func clone() -> ExtensionNode {
        let c = ExtensionNode(path: path, child: child)
        c.ref = ref
        return c
    }
}

/// Sixteen children, one per next nibble, and the value of the key that ends here.
final class BranchNode: TrieNodeObject, @unchecked Sendable {
    var children: [TrieNode]
    var value: [UInt8]?
    var ref: NodeRef = .none

    init() {
        children = [TrieNode](repeating: .empty, count: 16)
    }

    private init(children: [TrieNode], value: [UInt8]?, ref: NodeRef) {
        self.children = children
        self.value = value
        self.ref = ref
    }

    func clone() -> BranchNode { BranchNode(children: children, value: value, ref: ref) }

    /// The number of non-empty children plus one if a value ends here.
    var entryCount: Int {
        var n = value == nil ? 0 : 1
        for c in children where !c.isEmpty { n += 1 }
        return n
    }
}

extension TrieNode {
    /// Bytes of some key stored below this node: nibbles up to the node's depth are the
    /// node's own path prefix. Used to give a new extension node a path to slice.
    var anyKeyBytes: [UInt8] {
        switch self {
        case .empty: preconditionFailure("an empty node holds no key")
        case .leaf(let l): return l.path.bytes
        case .ext(let e): return e.path.bytes
        case .branch(let b):
            for c in b.children where !c.isEmpty { return c.anyKeyBytes }
            preconditionFailure("a branch always has a child")
        }
    }
}
