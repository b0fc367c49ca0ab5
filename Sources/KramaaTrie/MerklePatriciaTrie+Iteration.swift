/// Key order: bytewise lexicographic, a key before every longer key it is a prefix of
/// (the order of nibble paths in the trie).
extension MerklePatriciaTrie: Sequence {
    /// The first entry whose key is greater than `key` (which need not be present), or nil.
    public func entry(after key: [UInt8]) -> Entry? { root.first(after: key, depth: 0) }

    /// The last entry whose key is less than `key` (which need not be present), or nil.
    public func entry(before key: [UInt8]) -> Entry? { root.last(before: key, depth: 0) }

    /// The entry with the smallest key.
    public var first: Entry? { root.firstEntry }

    /// The entry with the greatest key.
    public var last: Entry? { root.lastEntry }

    /// Iterates the entries in key order.
    public func makeIterator() -> Iterator { Iterator(root: root) }

    public var underestimatedCount: Int { count }

    /// Walks the trie depth first, a branch's value before its children, children in nibble order.
    public struct Iterator: IteratorProtocol {
        private var stack: [TrieNode]

        init(root: TrieNode) { stack = root.isEmpty ? [] : [root] }

        public mutating func next() -> Entry? {
            while let node = stack.popLast() {
                switch node {
                case .empty:
                    continue
                case .leaf(let leaf):
                    return (leaf.key, leaf.value)
                case .ext(let ext):
                    stack.append(ext.child)
                case .branch(let branch):
                    for child in branch.children.reversed() where !child.isEmpty { stack.append(child) }
                    if let value = branch.value { return (node.keyOfBranchValue, value) }
                }
            }
            return nil
        }
    }
}

extension TrieNode {
    /// The key that ends at this branch: the first `depth / 2` bytes of any key below it.
    var keyOfBranchValue: [UInt8] { Array(anyKeyBytes[..<(branchDepth >> 1)]) }

    /// The nibble depth of this branch, found from the first node below it.
    private var branchDepth: Int {
        guard case .branch(let branch) = self else { preconditionFailure("only a branch has a branch depth") }
        switch branch.children.first(where: { !$0.isEmpty })! {
        case .leaf(let l): return l.path.start - 1
        case .ext(let e): return e.path.start - 1
        case let child: return child.branchDepth - 1
        }
    }

    var firstEntry: MerklePatriciaTrie.Entry? {
        switch self {
        case .empty: return nil
        case .leaf(let l): return (l.key, l.value)
        case .ext(let e): return e.child.firstEntry
        case .branch(let b):
            if let v = b.value { return (keyOfBranchValue, v) }
            return b.children.first { !$0.isEmpty }?.firstEntry
        }
    }

    var lastEntry: MerklePatriciaTrie.Entry? {
        switch self {
        case .empty: return nil
        case .leaf(let l): return (l.key, l.value)
        case .ext(let e): return e.child.lastEntry
        case .branch(let b):
            if let child = b.children.last(where: { !$0.isEmpty }) { return child.lastEntry }
            return b.value.map { (keyOfBranchValue, $0) }
        }
    }

    /// Compares this subtree's path `path` (its keys share nibbles `0..<path.start` with `key`)
    /// against `key`: -1 if every key below is smaller, 1 if every key below is greater, 0 if
    /// `key` continues through the whole path.
    private static func compare(_ path: NibblePath, _ key: [UInt8]) -> Int {
        let common = path.commonPrefixLength(with: key)
        if common == path.count { return path.end <= key.count << 1 ? 0 : 1 }
        let at = path.start + common
        if at == key.count << 1 { return 1 }  // `key` ends inside the path: it is a prefix of all below.
        return path.nibble(at: at) < NibblePath.nibble(key, at) ? -1 : 1
    }

    /// The first entry of this subtree (at nibble depth `depth`) with a key greater than `key`.
    func first(after key: [UInt8], depth: Int) -> MerklePatriciaTrie.Entry? {
        switch self {
        case .empty:
            return nil
        case .leaf(let l):
            // Order 0 is the key itself or a proper prefix of it: not greater.
            return Self.compare(l.path, key) > 0 ? (l.key, l.value) : nil
        case .ext(let e):
            switch Self.compare(e.path, key) {
            case 0: return e.child.first(after: key, depth: e.path.end)
            case 1: return e.child.firstEntry
            default: return nil
            }
        case .branch(let b):
            if depth == key.count << 1 { return b.children.first { !$0.isEmpty }?.firstEntry }
            let slot = NibblePath.nibble(key, depth)
            if let found = b.children[slot].first(after: key, depth: depth + 1) { return found }
            return b.children[(slot + 1)...].first { !$0.isEmpty }?.firstEntry
        }
    }

    /// The last entry of this subtree (at nibble depth `depth`) with a key less than `key`.
    func last(before key: [UInt8], depth: Int) -> MerklePatriciaTrie.Entry? {
        switch self {
        case .empty:
            return nil
        case .leaf(let l):
            // order 0 with a shorter leaf key: the leaf key is a proper prefix of `key`, so smaller.
            let order = Self.compare(l.path, key)
            return order < 0 || (order == 0 && l.path.end < key.count << 1) ? (l.key, l.value) : nil
        case .ext(let e):
            switch Self.compare(e.path, key) {
            case 0: return e.child.last(before: key, depth: e.path.end)
            case -1: return e.child.lastEntry
            default: return nil
            }
        case .branch(let b):
            if depth == key.count << 1 { return nil }
            let slot = NibblePath.nibble(key, depth)
            if let found = b.children[slot].last(before: key, depth: depth + 1) { return found }
            if let child = b.children[..<slot].last(where: { !$0.isEmpty }) { return child.lastEntry }
            return b.value.map { (keyOfBranchValue, $0) }
        }
    }
}
