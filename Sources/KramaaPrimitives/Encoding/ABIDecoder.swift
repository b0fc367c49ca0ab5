/// Why ABI-encoded data could not be read.
public enum ABIDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data ends before the argument at `offset`.
    case tooShort(offset: Int)
    /// A word that must hold an address, a bool or a length has bits outside its range.
    case invalidWord(offset: Int, expected: String)
    /// A `string` argument whose bytes are not UTF-8.
    case invalidUTF8(offset: Int)
    /// A length or offset beyond the limit (so a crafted head cannot make us allocate gigabytes).
    case tooLarge(offset: Int)

    public var description: String {
        switch self {
        case .tooShort(let o): "ABI data ends at byte \(o) before all arguments were read"
        case .invalidWord(let o, let what): "ABI word at byte \(o) is not a valid \(what)"
        case .invalidUTF8(let o): "ABI string at byte \(o) is not UTF-8"
        case .tooLarge(let o): "ABI length or offset at byte \(o) is too large"
        }
    }
}

/// Reads the arguments of a call (after the selector) or a return value in order, as the
/// Solidity ABI lays them out: each `next…` reads the following head word, following offsets
/// into the tail for dynamic values. Strict: addresses and bools with dirty high bits are
/// refused, as Solidity's decoder does.
public struct ABIDecoder {
    private let data: ArraySlice<UInt8>
    private let base: Int
    private var head: Int

    /// A decoder over `data`; `data` starts at the first argument's head word.
    public init(_ data: ArraySlice<UInt8>) {
        self.data = data
        self.base = data.startIndex
        self.head = data.startIndex
    }

    /// A decoder over calldata: skips the 4-byte selector.
    public init(calldata: [UInt8]) {
        self.init(calldata.count >= 4 ? calldata[4...] : calldata[calldata.endIndex...])
    }

    /// Bytes a decoded length may claim at most.
    public static let maxLength = 1 << 24

    public mutating func nextUInt() throws(ABIDecodingError) -> UInt256 {
        let value = try word(at: head)
        head += 32
        return value
    }

    /// A uint that must fit in 64 bits (counts, ids, heights).
    public mutating func nextUInt64() throws(ABIDecodingError) -> UInt64 {
        let offset = head
        guard let value = try nextUInt().uint64Value else { throw .invalidWord(offset: offset - base, expected: "uint64") }
        return value
    }

    public mutating func nextAddress() throws(ABIDecodingError) -> Address {
        let offset = head
        let value = try nextUInt()
        guard value.byteWidthUsed <= 20 else { throw .invalidWord(offset: offset - base, expected: "address") }
        return Address(word: value)
    }

    public mutating func nextBool() throws(ABIDecodingError) -> Bool {
        let offset = head
        let value = try nextUInt()
        guard value <= .one else { throw .invalidWord(offset: offset - base, expected: "bool") }
        return value == .one
    }

    public mutating func nextBytes32() throws(ABIDecodingError) -> Bytes32 {
        let offset = head
        _ = try word(at: offset)
        head += 32
        return try! Bytes32(data[offset..<offset + 32])
    }

    public mutating func nextBytes() throws(ABIDecodingError) -> [UInt8] {
        let start = try tailStart()
        let length = try length(at: start)
        guard start + 32 + length <= data.endIndex else { throw .tooShort(offset: start + 32 - base) }
        return Array(data[start + 32 ..< start + 32 + length])
    }

    public mutating func nextString() throws(ABIDecodingError) -> String {
        let offset = head
        let bytes = try nextBytes()
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(offset: offset - base) }
        return text
    }

    /// `T[]` whose elements are static words, read by `element` from a decoder over the array.
    public mutating func nextArray<T>(_ element: (inout ABIDecoder) throws(ABIDecodingError) -> T) throws(ABIDecodingError) -> [T] {
        let start = try tailStart()
        let count = try length(at: start)
        var inner = ABIDecoder(data[(start + 32)...])
        var values: [T] = []
        values.reserveCapacity(min(count, 1024))
        for _ in 0..<count { values.append(try element(&inner)) }
        return values
    }

    /// Bytes of head words read so far.
    public var headsRead: Int { head - base }

    // MARK: - Internals

    private func word(at offset: Int) throws(ABIDecodingError) -> UInt256 {
        guard offset + 32 <= data.endIndex else { throw .tooShort(offset: offset - base) }
        return data.withUnsafeBytes { raw in
            UInt256(bigEndianWordAt: raw.baseAddress! + (offset - data.startIndex))
        }
    }

    /// Reads the next head as an offset from the start of this tuple.
    private mutating func tailStart() throws(ABIDecodingError) -> Int {
        let offset = head
        let value = try nextUInt()
        guard let relative = value.uint64Value, relative <= UInt64(Self.maxLength) else { throw .tooLarge(offset: offset - base) }
        return base + Int(relative)
    }

    private func length(at position: Int) throws(ABIDecodingError) -> Int {
        let value = try word(at: position)
        guard let length = value.uint64Value, length <= UInt64(Self.maxLength) else { throw .tooLarge(offset: position - base) }
        return Int(length)
    }
}
