/// An RLP value as a tree: a byte string or a list of items.
public enum RLPItem: Equatable, Sendable {
    case bytes([UInt8])
    case list([RLPItem])

    /// Decodes exactly one item that spans all of `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(RLPError) -> RLPItem {
        var reader = RLPReader(bytes)
        let item = try reader.readItem()
        try reader.finish()
        return item
    }

    /// The canonical encoding.
    public var encoded: [UInt8] {
        var w = RLPWriter()
        w.append(self)
        return w.bytes
    }

    /// An integer item: minimal big-endian bytes.
    public static func uint(_ v: UInt256) -> RLPItem { .bytes(v.minimalBigEndianBytes) }
}

/// An RLP encoder that appends items to a growing byte buffer.
public struct RLPWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity n: Int = 0) { bytes.reserveCapacity(n) }

    /// Appends a byte string (a single byte below 0x80 stands for itself).
    public mutating func append(bytes b: some Collection<UInt8>) {
        if b.count == 1, let only = b.first, only < 0x80 {
            bytes.append(only)
        } else {
            appendHeader(length: b.count, shortBase: 0x80)
            bytes.append(contentsOf: b)
        }
    }

    /// Appends a byte string from raw memory: the non-generic fast path of `append(bytes:)`.
    public mutating func append(bytes raw: UnsafeRawBufferPointer) {
        if raw.count == 1, raw[0] < 0x80 {
            bytes.append(raw[0])
        } else {
            appendHeader(length: raw.count, shortBase: 0x80)
            bytes.append(contentsOf: raw)
        }
    }

    /// Appends a byte string (non-generic fast path).
    public mutating func append(bytes b: [UInt8]) { b.withUnsafeBytes { append(bytes: $0) } }

    /// Appends already-encoded bytes from raw memory verbatim (non-generic fast path).
    public mutating func append(encoded raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    /// Appends an integer as minimal big-endian bytes (zero is the empty string).
    public mutating func append(uint v: UInt256) {
        if v.fitsInUInt64 { return append(uint: v.low64) }
        append(bytes: v.minimalBigEndianBytes)
    }

    /// Appends an integer as minimal big-endian bytes (zero is the empty string).
    public mutating func append(uint v: UInt64) {
        if v == 0 { bytes.append(0x80); return }
        if v < 0x80 { bytes.append(UInt8(v)); return }
        let n = (64 - v.leadingZeroBitCount + 7) / 8
        bytes.append(0x80 + UInt8(n))
        for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    /// Appends an address (20 bytes).
    public mutating func append(address a: Address) { a.withUnsafeBytes { append(bytes: $0) } }

    /// Appends a 32-byte value.
    public mutating func append(bytes32 b: Bytes32) { b.withUnsafeBytes { append(bytes: $0) } }

    /// Appends an already-encoded item verbatim.
    public mutating func append(encoded: some Collection<UInt8>) { bytes.append(contentsOf: encoded) }

    /// Appends a list whose elements `body` writes.
    public mutating func appendList(_ body: (inout RLPWriter) throws -> Void) rethrows {
        let start = bytes.count
        try body(&self)
        let length = bytes.count - start
        var header = RLPWriter()
        header.appendHeader(length: length, shortBase: 0xc0)
        bytes.insert(contentsOf: header.bytes, at: start)
    }

    /// Appends only the header of a list whose `payloadLength` bytes of encoded items the
    /// caller appends next. Encoders that know their sizes use it to avoid `appendList`'s byte move.
    public mutating func appendListHeader(payloadLength: Int) {
        appendHeader(length: payloadLength, shortBase: 0xc0)
    }

    /// Empties the buffer and keeps its capacity, so one writer can encode many items without allocating.
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// The number of bytes `append(bytes:)` writes for a string of `count` bytes starting with `first`.
    public static func encodedLength(ofString count: Int, first: UInt8?) -> Int {
        if count == 1, let first, first < 0x80 { return 1 }
        return headerLength(count) + count
    }

    static func headerLength(_ length: Int) -> Int {
        length < 56 ? 1 : 1 + (Int.bitWidth - length.leadingZeroBitCount + 7) / 8
    }

    /// Appends an item tree.
    public mutating func append(_ item: RLPItem) {
        switch item {
        case .bytes(let b): append(bytes: b)
        case .list(let items): appendList { w in for i in items { w.append(i) } }
        }
    }

    mutating func appendHeader(length: Int, shortBase: UInt8) {
        if length < 56 {
            bytes.append(shortBase + UInt8(length))
        } else {
            let n = (Int.bitWidth - length.leadingZeroBitCount + 7) / 8
            bytes.append(shortBase + 55 + UInt8(n))
            for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * i))) }
        }
    }
}
