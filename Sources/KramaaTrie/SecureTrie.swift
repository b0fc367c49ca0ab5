import KramaaPrimitives

/// A Merkle Patricia Trie keyed by `keccak256(key)`, as Ethereum's account trie (key: address)
/// and storage tries (key: 32-byte slot) are. Hashing spreads keys evenly, so an attacker cannot
/// make paths deep. The trie stores hashed keys only; preimages are not kept, so iteration and
/// `entry(after:)` on `trie` see hashed keys.
///
/// Callers that already hold `keccak256(key)` (world state caches it) use the `hashedKey`
/// variants to skip hashing again.
public struct SecureTrie: Sendable {
    /// The underlying trie, keyed by `keccak256(key)`.
    public private(set) var trie = MerklePatriciaTrie()

    /// An empty trie.
    public init() {}

    /// A trie holding `entries` (unhashed keys); later duplicates win, empty values are skipped.
    public init(_ entries: some Sequence<MerklePatriciaTrie.Entry>) {
        for e in entries { updateValue(e.value, forKey: e.key) }
    }

    /// The number of keys.
    public var count: Int { trie.count }

    /// True when no key is stored.
    public var isEmpty: Bool { trie.isEmpty }

    /// The trie key of `key`: its Keccak-256 hash.
    public static func hashedKey(_ key: [UInt8]) -> Bytes32 { Keccak256.hash(key) }

    /// The value stored under `key`, or nil.
    public func value(forKey key: [UInt8]) -> [UInt8]? { trie.value(forKey: Self.hashedKey(key).bytes) }

    /// The value stored under the key whose hash is `hashedKey`, or nil.
    public func value(forHashedKey hashedKey: Bytes32) -> [UInt8]? { trie.value(forKey: hashedKey.bytes) }

    /// The value under `key`; setting nil (or an empty value) removes the key.
    public subscript(key: [UInt8]) -> [UInt8]? {
        get { value(forKey: key) }
        set { trie[Self.hashedKey(key).bytes] = newValue }
    }

    /// Stores `value` under `key` and returns the old value; an empty `value` removes the key.
    @discardableResult
    public mutating func updateValue(_ value: [UInt8], forKey key: [UInt8]) -> [UInt8]? {
        trie.updateValue(value, forKey: Self.hashedKey(key).bytes)
    }

    /// Stores `value` under the key whose hash is `hashedKey`; an empty `value` removes it.
    @discardableResult
    public mutating func updateValue(_ value: [UInt8], forHashedKey hashedKey: Bytes32) -> [UInt8]? {
        trie.updateValue(value, forKey: hashedKey.bytes)
    }

    /// Removes `key` and returns its value, or nil if it was absent.
    @discardableResult
    public mutating func removeValue(forKey key: [UInt8]) -> [UInt8]? {
        trie.removeValue(forKey: Self.hashedKey(key).bytes)
    }

    /// Removes the key whose hash is `hashedKey` and returns its value, or nil if it was absent.
    @discardableResult
    public mutating func removeValue(forHashedKey hashedKey: Bytes32) -> [UInt8]? {
        trie.removeValue(forKey: hashedKey.bytes)
    }

    /// The root hash (see `MerklePatriciaTrie.rootHash`).
    public var rootHash: Bytes32 { mutating get { trie.rootHash } }

    /// The root hash computed on several threads (see `MerklePatriciaTrie.rootHashInParallel`).
    public var rootHashInParallel: Bytes32 { mutating get { trie.rootHashInParallel } }

    /// The proof for `key` (see `MerklePatriciaTrie.proof(forKey:)`): the path to `keccak256(key)`.
    public mutating func proof(forKey key: [UInt8]) -> [[UInt8]] { trie.proof(forKey: Self.hashedKey(key).bytes) }

    /// Checks a proof for `key` under `root`: the value, or nil for a valid proof of absence.
    public static func verifyProof(root: Bytes32, key: [UInt8], proof: [[UInt8]]) throws(TrieProofError) -> [UInt8]? {
        try MerklePatriciaTrie.verifyProof(root: root, key: hashedKey(key).bytes, proof: proof)
    }

    /// The root of a secure trie holding `entries` (unhashed keys), without building nodes.
    public static func root(of entries: some Sequence<MerklePatriciaTrie.Entry>) -> Bytes32 {
        MerklePatriciaTrie.root(of: entries.map { (key: hashedKey($0.key).bytes, value: $0.value) })
    }
}
