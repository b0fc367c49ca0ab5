import KramaaPrimitives

/// An in-memory Merkle Patricia Trie (Yellow Paper, appendix D): a map from byte-string keys to
/// non-empty byte-string values whose root hash commits to the whole content.
///
/// It is a value type with copy-on-write nodes. Copying a trie is O(1) and the copies share
/// every node; a mutation copies only the nodes on the path it changes (when they are shared)
/// and edits uniquely held nodes in place. World state can so keep the trie of a past block, or
/// a snapshot to roll back to, for the price of the nodes that later change; and `Sendable` is
/// sound because a node is written only while one trie holds it.
///
/// Each node caches its hash (or short inline encoding); a mutation clears the cache only
/// along its path, so `rootHash` after a few updates re-hashes a few paths, not the trie.
/// Computing and caching hashes mutates the nodes, hence the `mutating` getters (`rootHash`,
/// `proof(forKey:)`); `computeRootHash()` serves a trie that cannot be mutated, without caching.
///
/// An empty value means "no value": storing one removes the key, as in Ethereum.
public struct MerklePatriciaTrie: Sendable {
    /// A key and its value.
    public typealias Entry = (key: [UInt8], value: [UInt8])

    /// `keccak256(rlp(""))`, the root hash of a trie with no keys.
    public static let emptyRootHash = try! Bytes32(hex: "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")

    var root: TrieNode = .empty

    /// The number of keys.
    public private(set) var count = 0

    /// An empty trie.
    public init() {}

    /// A trie holding `entries`; later duplicates win, empty values are skipped.
    public init(_ entries: some Sequence<Entry>) {
        for e in entries { updateValue(e.value, forKey: e.key) }
    }

    /// True when no key is stored.
    public var isEmpty: Bool { count == 0 }

    /// The value stored under `key`, or nil.
    public func value(forKey key: [UInt8]) -> [UInt8]? {
        var node = root
        var depth = 0
        let end = key.count << 1
        while true {
            switch node {
            case .empty:
                return nil
            case .leaf(let leaf):
                return leaf.path.isSuffix(of: key) ? leaf.value : nil
            case .ext(let ext):
                guard ext.path.isPrefix(of: key) else { return nil }
                depth = ext.path.end
                node = ext.child
            case .branch(let branch):
                if depth == end { return branch.value }
                node = branch.children[NibblePath.nibble(key, depth)]
                depth += 1
            }
        }
    }

    /// The value under `key`; setting nil (or an empty value) removes the key.
    public subscript(key: [UInt8]) -> [UInt8]? {
        get { value(forKey: key) }
        set {
            if let newValue { updateValue(newValue, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// Stores `value` under `key`, replacing any value there, and returns the old value.
    /// An empty `value` removes the key instead.
    @discardableResult
    public mutating func updateValue(_ value: [UInt8], forKey key: [UInt8]) -> [UInt8]? {
        if value.isEmpty { return removeValue(forKey: key) }
        let old = root.insert(value, key: key, depth: 0)
        if old == nil { count += 1 }
        return old
    }

    /// Removes `key` and returns its value, or nil (changing nothing) if it was absent.
    @discardableResult
    public mutating func removeValue(forKey key: [UInt8]) -> [UInt8]? {
        guard let old = value(forKey: key) else { return nil }
        root.remove(key: key, depth: 0)
        count -= 1
        return old
    }

    /// Removes every key.
    public mutating func removeAll() {
        root = .empty
        count = 0
    }

    /// The root hash: Keccak-256 of the root node's RLP encoding, `emptyRootHash` when empty.
    /// Hashes only nodes changed since the last call and caches them.
    public var rootHash: Bytes32 {
        mutating get {
            if root.isEmpty { return Self.emptyRootHash }
            var encoder = NodeEncoder()
            return root.computeRef(&encoder).rootHash
        }
    }

    /// ``rootHash``, with the root's sixteen subtries hashed on the machine's cores: faster when
    /// many keys changed since the last root (a block's writes to a busy contract); a few
    /// changes are hashed sooner on one thread.
    public var rootHashInParallel: Bytes32 {
        mutating get {
            if root.isEmpty { return Self.emptyRootHash }
            return root.computeRefInParallel().rootHash
        }
    }

    /// The root hash, for a trie you cannot mutate (a `let`, a function result): like
    /// `rootHash`, but hashes of changed nodes are computed and thrown away, not cached.
    public func computeRootHash() -> Bytes32 {
        if root.isEmpty { return Self.emptyRootHash }
        var encoder = NodeEncoder()
        return root.peekRef(&encoder).rootHash
    }
}
