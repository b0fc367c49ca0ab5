/// A run of nibbles (half-bytes) of a key: nibbles `start..<end` of `bytes`, where nibble `2i`
/// is the high half of byte `i` and `2i + 1` the low half.
///
/// Every path in the trie is a slice of a stored key at absolute positions: a node at depth `d`
/// has `start == d`, and nibbles `0..<end` of `bytes` are those of any key below the node.
/// Splitting, shortening or merging a path then moves two integers and copies no nibbles,
/// which keeps allocation out of inserts and deletes.
struct NibblePath {
    /// The key bytes this path is a slice of (shared with the caller's key, not copied).
    var bytes: [UInt8]
    /// Absolute index of the first nibble; also the depth of the node holding the path.
    var start: Int
    /// Absolute index one past the last nibble.
    var end: Int

    @inline(__always)
    init(_ bytes: [UInt8], start: Int, end: Int) {
        self.bytes = bytes
        self.start = start
        self.end = end
    }

    @inline(__always) var count: Int { end - start }

    /// The nibble at absolute index `i`.
    @inline(__always)
    func nibble(at i: Int) -> Int { Self.nibble(bytes, i) }

    /// Nibble `i` of `key`.
    @inline(__always)
    static func nibble(_ key: [UInt8], _ i: Int) -> Int {
        let b = key.withUnsafeBufferPointer { $0[i >> 1] }
        return Int(i & 1 == 0 ? b >> 4 : b & 0x0f)
    }

    /// How many nibbles from `start` this path shares with `key` (of `2 * key.count` nibbles),
    /// at most `count`.
    func commonPrefixLength(with key: [UInt8]) -> Int {
        let limit = Swift.min(end, key.count << 1)
        var i = start
        guard i < limit else { return 0 }
        return bytes.withUnsafeBufferPointer { a in
            key.withUnsafeBufferPointer { b in
                // An odd start: compare the low nibble alone, then whole bytes.
                if i & 1 == 1 {
                    if a[i >> 1] & 0x0f != b[i >> 1] & 0x0f { return 0 }
                    i += 1
                }
                while i + 1 < limit, a[i >> 1] == b[i >> 1] { i += 2 }
                if i < limit, a[i >> 1] >> 4 == b[i >> 1] >> 4 { i += 1 }
                return Swift.min(i, limit) - start
            }
        }
    }

    /// True when the nibbles of this path are exactly nibbles `start...` of `key` to its end.
    @inline(__always)
    func isSuffix(of key: [UInt8]) -> Bool {
        end == key.count << 1 && commonPrefixLength(with: key) == count
    }

    /// True when this path's nibbles are nibbles `start..<end` of `key`.
    @inline(__always)
    func isPrefix(of key: [UInt8]) -> Bool {
        end <= key.count << 1 && commonPrefixLength(with: key) == count
    }

    /// The nibbles as an array, one per element (for tests and messages).
    var nibbles: [UInt8] { (start..<end).map { UInt8(nibble(at: $0)) } }
}
