import Dispatch
import KramaaPrimitives

/// Encodes trie nodes (Yellow Paper, appendix D) into one reused buffer:
/// a leaf is `[hp(path, leaf), value]`, an extension `[hp(path), child]`, a branch
/// `[child0, ..., child15, value]`, where a child is its hash or, under 32 bytes, its encoding.
///
/// Payload lengths are computed first so that each header is written once, in place; encoding
/// a node then allocates nothing once the buffer has grown to the largest node.
struct NodeEncoder {
    private(set) var writer = RLPWriter(reservingCapacity: 1024)

    /// An empty slot or absent value: the empty string.
    private static let none: [UInt8] = []

    /// The last encoding.
    var bytes: [UInt8] { writer.bytes }

    /// The reference a parent holds for the last encoding.
    var ref: NodeRef { writer.bytes.withUnsafeBytes { NodeRef(encoding: $0) } }

    mutating func encodeLeaf(path: NibblePath, value: [UInt8]) {
        writer.removeAll()
        let payload = Self.pathLength(path, isLeaf: true) + RLPWriter.encodedLength(ofString: value.count, first: value.first)
        writer.appendListHeader(payloadLength: payload)
        appendPath(path, isLeaf: true)
        writer.append(bytes: value)
    }

    mutating func encodeExtension(path: NibblePath, child: NodeRef) {
        writer.removeAll()
        writer.appendListHeader(payloadLength: Self.pathLength(path, isLeaf: false) + child.encodedLength)
        appendPath(path, isLeaf: false)
        child.append(to: &writer)
    }

    /// Encodes a branch whose child in slot `i` has reference `child(i)` (`.none` for empty).
    mutating func encodeBranch(value: [UInt8]?, child: (Int) -> NodeRef) {
        writer.removeAll()
        var payload = value.map { RLPWriter.encodedLength(ofString: $0.count, first: $0.first) } ?? 1
        for i in 0..<16 {
            let r = child(i)
            payload += r.isComputed ? r.encodedLength : 1
        }
        writer.appendListHeader(payloadLength: payload)
        for i in 0..<16 {
            let r = child(i)
            if r.isComputed { r.append(to: &writer) } else { writer.append(bytes: Self.none) }
        }
        writer.append(bytes: value ?? Self.none)
    }

    /// Encodes a node whose children's references are computed.
    mutating func encode(_ node: TrieNode) {
        switch node {
        case .empty:
            writer.removeAll()
            writer.append(bytes: Self.none)
        case .leaf(let leaf):
            encodeLeaf(path: leaf.path, value: leaf.value)
        case .ext(let ext):
            encodeExtension(path: ext.path, child: ext.child.ref)
        case .branch(let branch):
            encodeBranch(value: branch.value) { branch.children[$0].ref }
        }
    }

    /// Bytes of the RLP string holding the hex-prefix encoding of `path`.
    private static func pathLength(_ path: NibblePath, isLeaf: Bool) -> Int {
        RLPWriter.encodedLength(ofString: HexPrefix.encodedCount(nibbleCount: path.count), first: HexPrefix.firstByte(path, isLeaf: isLeaf))
    }

    private mutating func appendPath(_ path: NibblePath, isLeaf: Bool) {
        let n = HexPrefix.encodedCount(nibbleCount: path.count)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { buf in
            HexPrefix.write(path, isLeaf: isLeaf, into: buf)
            writer.append(bytes: UnsafeRawBufferPointer(buf))
        }
    }
}

extension TrieNode {
    /// This node's reference, computing and caching it (and those of changed descendants) if
    /// needed. Nodes whose reference is already cached are not visited.
    mutating func computeRef(_ encoder: inout NodeEncoder) -> NodeRef {
        switch self {
        case .empty:
            return .none
        case .leaf(var leaf):
            if leaf.ref.isComputed { return leaf.ref }
            self = .empty
            makeUnique(&leaf)
            encoder.encodeLeaf(path: leaf.path, value: leaf.value)
            leaf.ref = encoder.ref
            self = .leaf(leaf)
            return leaf.ref
        case .ext(var ext):
            if ext.ref.isComputed { return ext.ref }
            self = .empty
            makeUnique(&ext)
            let child = ext.child.computeRef(&encoder)
            encoder.encodeExtension(path: ext.path, child: child)
            ext.ref = encoder.ref
            self = .ext(ext)
            return ext.ref
        case .branch(var branch):
            if branch.ref.isComputed { return branch.ref }
            self = .empty
            makeUnique(&branch)
            // Work on the children outside the object: one access instead of one per child.
            var children = branch.children
            branch.children = []
            withUnsafeTemporaryAllocation(of: NodeRef.self, capacity: 16) { refs in
                for i in 0..<16 { refs.initializeElement(at: i, to: children[i].computeRef(&encoder)) }
                encoder.encodeBranch(value: branch.value) { refs[$0] }
            }
            branch.children = children
            branch.ref = encoder.ref
            self = .branch(branch)
            return branch.ref
        }
    }
}

extension TrieNode {
    /// ``computeRef(_:)`` of a branch with its sixteen subtries hashed on the machine's cores
    /// (any other node on this thread). The subtries have no node in common that could change
    /// in place: a node referenced twice is copied before it is changed (`makeUnique`).
    mutating func computeRefInParallel() -> NodeRef {
        guard case .branch(var branch) = self, !branch.ref.isComputed else {
            var encoder = NodeEncoder()
            return computeRef(&encoder)
        }
        self = .empty
        makeUnique(&branch)
        var children = branch.children
        branch.children = []
        var refs = [NodeRef](repeating: NodeRef(), count: 16)
        children.withUnsafeMutableBufferPointer { children in
            refs.withUnsafeMutableBufferPointer { refs in
                nonisolated(unsafe) let (children, refs) = (children, refs)  // each iteration its own element
                DispatchQueue.concurrentPerform(iterations: 16) { i in
                    var encoder = NodeEncoder()
                    refs[i] = children[i].computeRef(&encoder)
                }
            }
        }
        var encoder = NodeEncoder()
        encoder.encodeBranch(value: branch.value) { refs[$0] }
        branch.children = children
        branch.ref = encoder.ref
        self = .branch(branch)
        return branch.ref
    }

    /// This node's reference, computed (where not cached) without caching it.
    func peekRef(_ encoder: inout NodeEncoder) -> NodeRef {
        let cached = ref
        if cached.isComputed { return cached }
        switch self {
        case .empty:
            return .none
        case .leaf(let leaf):
            encoder.encodeLeaf(path: leaf.path, value: leaf.value)
        case .ext(let ext):
            let child = ext.child.peekRef(&encoder)
            encoder.encodeExtension(path: ext.path, child: child)
        case .branch(let branch):
            let children = branch.children.map { $0.peekRef(&encoder) }
            encoder.encodeBranch(value: branch.value) { children[$0] }
        }
        return encoder.ref
    }
}
