/// Why a string or byte string is not an Ethereum address.
public enum AddressError: Error, Equatable, CustomStringConvertible {
    case invalidHex(HexError)
    case wrongLength(Int)
    /// Mixed-case input whose capitalisation does not match its EIP-55 checksum.
    case badChecksum(given: String, expected: String)

    public var description: String {
        switch self {
        case .invalidHex(let e): return "address is not valid hex: \(e)"
        case .wrongLength(let n): return "an address is 20 bytes, got \(n)"
        case .badChecksum(let given, let expected):
            return "address \(given) has a wrong EIP-55 checksum (expected \(expected)); check for a typo, or write it all in lower case to skip the check"
        }
    }
}

/// A 20-byte Ethereum account address, printed with its EIP-55 checksum.
@frozen
public struct Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    @usableFromInline var high: UInt64
    @usableFromInline var mid: UInt64
    @usableFromInline var low: UInt32

    /// The zero address.
    public static let zero = Address(high: 0, mid: 0, low: 0)

    @inlinable
    init(high: UInt64, mid: UInt64, low: UInt32) {
        self.high = high
        self.mid = mid
        self.low = low
    }

    /// Exactly 20 bytes.
    public init(_ bytes: some Collection<UInt8>) throws(AddressError) {
        guard bytes.count == 20 else { throw .wrongLength(bytes.count) }
        if let copied = bytes.withContiguousStorageIfAvailable({ Address(copying: UnsafeRawBufferPointer($0)) }) {
            self = copied  // arrays and slices: one copy, no per-byte iteration
            return
        }
        self.init(high: 0, mid: 0, low: 0)
        withUnsafeMutableStorage { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
    }

    /// Copies exactly 20 bytes from raw memory.
    @inlinable
    public init(copying raw: UnsafeRawBufferPointer) {
        precondition(raw.count == 20, "an address is 20 bytes")
        self.init(high: 0, mid: 0, low: 0)
        withUnsafeMutableStorage { $0.copyMemory(from: raw) }
    }

    /// Parses `0x`-prefixed (or bare) hex. All-lower or all-upper case is accepted as is;
    /// mixed case must carry a correct EIP-55 checksum.
    public init(hex: some StringProtocol) throws(AddressError) {
        let bytes: [UInt8]
        do { bytes = try Hex.decode(hex) } catch { throw .invalidHex(error) }
        try self.init(bytes)
        let digits = hex.hasPrefix("0x") || hex.hasPrefix("0X") ? hex.dropFirst(2) : hex[...]
        // The digits decoded as hex, so they are ASCII: compare bytes, not Unicode properties.
        var hasLower = false, hasUpper = false
        for byte in digits.utf8 {
            if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f") { hasLower = true }
            else if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F") { hasUpper = true }
        }
        if hasLower && hasUpper {
            let expected = checksummed
            guard "0x" + digits == expected else { throw .badChecksum(given: String(hex), expected: expected) }
        }
    }

    /// The address of a secp256k1 public key given as 64 bytes `x ‖ y` (no `04` prefix):
    /// the last 20 bytes of its Keccak-256.
    public init(uncompressedPublicKey xy: some Collection<UInt8>) {
        precondition(xy.count == 64, "an uncompressed secp256k1 key without prefix is 64 bytes")
        let h = Keccak256.hash(xy).bytes
        try! self.init(h[12..<32])
    }

    /// The 20 bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try Swift.withUnsafeBytes(of: &copy) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<20])) }
    }

    @usableFromInline
    mutating func withUnsafeMutableStorage<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeMutableBytes(of: &self) { try body(UnsafeMutableRawBufferPointer(rebasing: $0[0..<20])) }
    }

    /// Lower-case hex, `0x`-prefixed.
    public var lowercased: String { withUnsafeBytes { Hex.encode($0) } }

    /// EIP-55 mixed-case checksum form: a hex letter is upper case where the matching
    /// nibble of keccak256(lower-case hex digits) is 8 or more.
    public var checksummed: String {
        let lower = Array(Hex.encode(bytes, prefix: false).utf8)
        let hash = Keccak256.hash(lower).bytes
        var out: [UInt8] = [0x30, 0x78]
        for (i, c) in lower.enumerated() {
            let nibble = i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f
            out.append(c >= 0x61 && nibble >= 8 ? c - 0x20 : c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { checksummed }

    public static func < (a: Address, b: Address) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.lexicographicallyPrecedes(y) } }
    }
}
