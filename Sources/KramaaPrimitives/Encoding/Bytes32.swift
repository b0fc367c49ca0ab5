/// A fixed 32-byte value (hashes, storage keys, signature halves), stored inline without allocation.
///
/// The bytes are held in memory order: `bytes[0]` is the first byte of the hex form.
@frozen
public struct Bytes32: Hashable, Sendable, Comparable, CustomStringConvertible {
    @usableFromInline
    var storage: (UInt64, UInt64, UInt64, UInt64)

    /// All zero bytes.
    public static let zero = Bytes32(storage: (0, 0, 0, 0))

    @inlinable
    init(storage: (UInt64, UInt64, UInt64, UInt64)) { self.storage = storage }

    /// Copies exactly 32 bytes; anything else is an error naming both lengths.
    public init(_ bytes: some Collection<UInt8>) throws(HexError) {
        guard bytes.count == 32 else { throw .wrongLength(expected: 32, actual: bytes.count) }
        if let copied = bytes.withContiguousStorageIfAvailable({ Bytes32(copying: UnsafeRawBufferPointer($0)) }) {
            self = copied  // arrays and slices: one copy, no per-byte iteration
            return
        }
        self.storage = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
    }

    /// Copies 32 bytes from raw memory.
    @inlinable
    public init(copying raw: UnsafeRawBufferPointer) {
        precondition(raw.count == 32, "Bytes32 needs exactly 32 bytes")
        self.storage = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) }
    }

    /// Parses 32 bytes of hex (optional `0x`).
    public init(hex: some StringProtocol) throws(HexError) {
        try self.init(Hex.decode(hex, length: 32))
    }

    /// The 32 bytes as an array.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Calls `body` with the 32 bytes in place.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage, body)
    }

    /// `0x`-prefixed lower-case hex.
    public var description: String { withUnsafeBytes { Hex.encode($0) } }

    @inlinable
    public static func == (a: Bytes32, b: Bytes32) -> Bool {
        a.storage.0 == b.storage.0 && a.storage.1 == b.storage.1
            && a.storage.2 == b.storage.2 && a.storage.3 == b.storage.3
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }

    /// Lexicographic byte order: the words read big-endian compare as the bytes do.
    public static func < (a: Bytes32, b: Bytes32) -> Bool {
        let (x0, y0) = (UInt64(bigEndian: a.storage.0), UInt64(bigEndian: b.storage.0))
        if x0 != y0 { return x0 < y0 }
        let (x1, y1) = (UInt64(bigEndian: a.storage.1), UInt64(bigEndian: b.storage.1))
        if x1 != y1 { return x1 < y1 }
        let (x2, y2) = (UInt64(bigEndian: a.storage.2), UInt64(bigEndian: b.storage.2))
        if x2 != y2 { return x2 < y2 }
        return UInt64(bigEndian: a.storage.3) < UInt64(bigEndian: b.storage.3)
    }
}

extension Bytes32 {
    /// A 256-bit word as its 32 big-endian bytes (an indexed event topic, a storage value).
    public init(_ word: UInt256) {
        self = word.bigEndianBytes.withUnsafeBytes { Bytes32(copying: $0) }
    }
}
