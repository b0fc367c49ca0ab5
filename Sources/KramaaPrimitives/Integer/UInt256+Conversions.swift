/// Why text or bytes are not a 256-bit unsigned integer.
public enum UInt256Error: Error, Equatable, CustomStringConvertible {
    case empty
    case invalidDigit(Character, offset: Int)
    /// The value needs more than 256 bits.
    case overflow

    public var description: String {
        switch self {
        case .empty: return "empty number: write at least one digit (e.g. 0x0 or 0)"
        case .invalidDigit(let c, let offset): return "invalid digit '\(c)' at offset \(offset)"
        case .overflow: return "number does not fit in 256 bits"
        }
    }
}

extension UInt256 {
    /// Reads up to 32 big-endian bytes (fewer are left-padded with zeros, as RLP and ABI integers are).
    /// A whole word is read as four limbs, not byte by byte.
    @inlinable
    public init(bigEndian raw: UnsafeRawBufferPointer) {
        precondition(raw.count <= 32, "UInt256 holds at most 32 bytes")
        if raw.count == 32 {
            self.init(bigEndianWordAt: raw.baseAddress!)
            return
        }
        var r = UInt256.zero
        var shift = 0
        var i = raw.count - 1
        while i >= 0 {
            r[limb: shift >> 6] |= UInt64(raw[i]) << UInt64(shift & 63)
            shift += 8
            i -= 1
        }
        self = r
    }

    /// Reads the 32-byte big-endian word at `p` (no alignment needed): MLOAD.
    @inlinable @inline(__always)
    public init(bigEndianWordAt p: UnsafeRawPointer) {
        limbs = (UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
                 UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                 UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                 UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
    }

    /// The `count` (1...32) big-endian bytes at `p`, read as whole words: the 32 bytes before
    /// `p + count` must be readable (EVM code is padded in front for PUSH).
    @inlinable @inline(__always)
    public init(pushData p: UnsafeRawPointer, count: Int) {
        if count <= 8 {
            let word = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
            self.init(limbs: (word & (UInt64.max &>> UInt64(64 - 8 * count)), 0, 0, 0))
            return
        }
        let w = UInt256(bigEndianWordAt: p + (count - 32)).limbs
        let keep = UInt64(count)  // bytes to keep, from the low end
        func mask(_ limb: UInt64) -> UInt64 {
            keep >= 8 * (limb + 1) ? .max : keep <= 8 * limb ? 0 : (1 << (8 * (keep - 8 * limb))) - 1
        }
        self.init(limbs: (w.0, w.1 & mask(1), w.2 & mask(2), w.3 & mask(3)))
    }

    /// Reads big-endian bytes; more than 32 significant bytes is an overflow.
    public init(bigEndianBytes bytes: some Collection<UInt8>) throws(UInt256Error) {
        let significant = bytes.drop { $0 == 0 }
        guard significant.count <= 32 else { throw .overflow }
        self = Array(significant).withUnsafeBytes { UInt256(bigEndian: $0) }
    }

    /// Reads 32 bytes as a big-endian word (the EVM's view of a hash or storage slot).
    @inlinable
    public init(_ word: Bytes32) {
        let s = word.storage
        limbs = (UInt64(bigEndian: s.3), UInt64(bigEndian: s.2), UInt64(bigEndian: s.1), UInt64(bigEndian: s.0))
    }

    /// Writes the 32-byte big-endian form at `p`.
    @inlinable @inline(__always)
    public func storeBigEndian(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: limbs.3.bigEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: limbs.2.bigEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: limbs.1.bigEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: limbs.0.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// The 32-byte big-endian form.
    public var bigEndianBytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buf, count in
            storeBigEndian(to: UnsafeMutableRawPointer(buf.baseAddress!))
            count = 32
        }
    }

    /// The big-endian form without leading zero bytes (empty for zero): RLP's integer form.
    public var minimalBigEndianBytes: [UInt8] { Array(bigEndianBytes.dropFirst(32 - byteWidthUsed)) }

    /// The word as 32 bytes.
    public var bytes32: Bytes32 {
        Bytes32(storage: (limbs.3.bigEndian, limbs.2.bigEndian, limbs.1.bigEndian, limbs.0.bigEndian))
    }

    /// Parses `0x`-prefixed hex (any number of digits, leading zeros allowed) or plain decimal.
    public init(parsing text: some StringProtocol) throws(UInt256Error) {
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            try self.init(hexDigits: Substring(text.dropFirst(2)), offset: 2)
        } else {
            try self.init(decimal: text)
        }
    }

    /// Parses hex digits, with or without `0x`.
    public init(hex text: some StringProtocol) throws(UInt256Error) {
        let hasPrefix = text.hasPrefix("0x") || text.hasPrefix("0X")
        try self.init(hexDigits: Substring(hasPrefix ? text.dropFirst(2) : text[...]), offset: hasPrefix ? 2 : 0)
    }

    private init(hexDigits: Substring, offset: Int) throws(UInt256Error) {
        guard !hexDigits.isEmpty else { throw .empty }
        var r = UInt256.zero
        for (i, c) in hexDigits.utf8.enumerated() {
            guard let d = Hex.nibble(c) else { throw .invalidDigit(Character(Unicode.Scalar(c)), offset: offset + i) }
            if r.limbs.3 >> 60 != 0 { throw .overflow }
            r = (r << 4) | UInt256(UInt64(d))
        }
        self = r
    }

    /// Parses decimal digits.
    public init(decimal text: some StringProtocol) throws(UInt256Error) {
        guard !text.isEmpty else { throw .empty }
        var r = UInt256.zero
        for (i, c) in text.utf8.enumerated() {
            guard c >= 0x30 && c <= 0x39 else { throw .invalidDigit(Character(Unicode.Scalar(c)), offset: i) }
            let (times10, o1) = r.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt256(UInt64(c - 0x30)))
            if o1 || o2 { throw .overflow }
            r = sum
        }
        self = r
    }

    /// Minimal `0x` hex as JSON-RPC quantities are written (`0x0`, `0x1f`).
    public var hexQuantity: String {
        if isZero { return "0x0" }
        let full = Hex.encode(bigEndianBytes, prefix: false)
        return "0x" + full.drop { $0 == "0" }
    }
}

extension UInt256: CustomStringConvertible {
    /// Decimal digits.
    public var description: String {
        if fitsInUInt64 { return String(limbs.0) }
        var chunks: [UInt64] = []
        var v = self
        let tenToThe19 = UInt256(10_000_000_000_000_000_000)
        while !v.isZero {
            let (q, r) = v.quotientAndRemainder(dividingBy: tenToThe19)
            chunks.append(r.limbs.0)
            v = q
        }
        var s = String(chunks.removeLast())
        for chunk in chunks.reversed() {
            let digits = String(chunk)
            s += String(repeating: "0", count: 19 - digits.count) + digits
        }
        return s
    }
}
