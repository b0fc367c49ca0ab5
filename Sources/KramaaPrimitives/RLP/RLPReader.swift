/// A strict, zero-copy RLP decoder: a cursor over a byte array that reads one item at a time.
///
/// Every read rejects non-canonical forms (see `RLPError`). Lists are read by taking a
/// sub-reader over their payload; `finish()` checks that nothing is left over.
public struct RLPReader: Sendable {
    public let bytes: [UInt8]
    /// Offset of the next item.
    public private(set) var position: Int
    /// End of the region this reader may read (exclusive).
    public let end: Int

    /// A reader over all of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
    }

    init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    /// True when every item has been read.
    @inlinable public var isAtEnd: Bool { position >= end }

    /// A decoded header: whether the item is a list, and where its payload lies.
    public struct Header: Sendable {
        public var isList: Bool
        public var payload: Range<Int>
        /// Offset of the header's first byte.
        public var start: Int
    }

    /// Reads the next item's header and moves past the whole item.
    public mutating func readHeader() throws(RLPError) -> Header {
        let start = position
        guard position < end else { throw position == 0 && end == 0 ? .emptyInput : .unexpectedEnd(at: position) }
        let prefix = bytes[position]
        var isList = false
        var payloadStart = position + 1
        var length: Int
        switch prefix {
        case 0x00...0x7f:
            position += 1
            return Header(isList: false, payload: start..<start + 1, start: start)
        case 0x80...0xb7:
            length = Int(prefix - 0x80)
            if length == 1 {
                guard payloadStart < end else { throw .unexpectedEnd(at: start) }
                if bytes[payloadStart] < 0x80 { throw .nonCanonicalSingleByte(at: start) }
            }
        case 0xb8...0xbf:
            length = try readLongLength(count: Int(prefix - 0xb7), at: start)
            payloadStart += Int(prefix - 0xb7)
        case 0xc0...0xf7:
            isList = true
            length = Int(prefix - 0xc0)
        default:  // 0xf8...0xff
            isList = true
            length = try readLongLength(count: Int(prefix - 0xf7), at: start)
            payloadStart += Int(prefix - 0xf7)
        }
        guard length <= end - payloadStart else { throw .unexpectedEnd(at: start) }
        position = payloadStart + length
        return Header(isList: isList, payload: payloadStart..<position, start: start)
    }

    private func readLongLength(count: Int, at start: Int) throws(RLPError) -> Int {
        guard count <= end - start - 1 else { throw .unexpectedEnd(at: start) }
        if bytes[start + 1] == 0 { throw .leadingZeroInLength(at: start) }
        guard count <= 7 else { throw .lengthOverflow(at: start) }
        var length = 0
        for i in 0..<count { length = length << 8 | Int(bytes[start + 1 + i]) }
        if length < 56 { throw .nonCanonicalLength(at: start) }
        return length
    }

    /// Reads a string item and returns its bytes without copying.
    public mutating func readBytes() throws(RLPError) -> ArraySlice<UInt8> {
        let h = try readHeader()
        if h.isList { throw .expectedString(at: h.start) }
        return bytes[h.payload]
    }

    /// Reads a string of exactly `length` bytes.
    public mutating func readBytes(length: Int) throws(RLPError) -> ArraySlice<UInt8> {
        let at = position
        let b = try readBytes()
        guard b.count == length else { throw .wrongLength(at: at, expected: length, actual: b.count) }
        return b
    }

    /// Reads a list item and returns a reader over its elements.
    public mutating func readList() throws(RLPError) -> RLPReader {
        let h = try readHeader()
        guard h.isList else { throw .expectedList(at: h.start) }
        return RLPReader(bytes: bytes, range: h.payload)
    }

    /// Reads a minimal big-endian integer of at most `maxBytes` bytes into a UInt256.
    public mutating func readUInt256(maxBytes: Int = 32) throws(RLPError) -> UInt256 {
        let at = position
        let b = try readBytes()
        if b.first == 0 { throw .leadingZeroInInteger(at: at) }
        guard b.count <= maxBytes else { throw .integerTooLarge(at: at, maxBytes: maxBytes) }
        return b.withUnsafeBytes { UInt256(bigEndian: $0) }
    }

    /// Reads a minimal big-endian integer that fits in 64 bits.
    public mutating func readUInt64() throws(RLPError) -> UInt64 {
        try readUInt256(maxBytes: 8).low64
    }

    /// Reads a 20-byte address.
    public mutating func readAddress() throws(RLPError) -> Address {
        let b = try readBytes(length: 20)
        return try! Address(b)  // length checked above
    }

    /// Reads a 32-byte value.
    public mutating func readBytes32() throws(RLPError) -> Bytes32 {
        let b = try readBytes(length: 32)
        return b.withUnsafeBytes { Bytes32(copying: $0) }
    }

    /// Reads any item into a tree.
    public mutating func readItem() throws(RLPError) -> RLPItem {
        let h = try readHeader()
        guard h.isList else { return .bytes(Array(bytes[h.payload])) }
        var inner = RLPReader(bytes: bytes, range: h.payload)
        var items: [RLPItem] = []
        while !inner.isAtEnd { items.append(try inner.readItem()) }
        return .list(items)
    }

    /// Throws unless every byte of this reader's region was read.
    public func finish() throws(RLPError) {
        if position < end { throw .trailingBytes(at: position) }
    }
}
