extension Address {
    /// The low 20 bytes of a 256-bit word (how the EVM reads an address off its stack).
    /// Limb arithmetic: the stored fields hold the bytes in order, so each is a byte-swapped
    /// slice of the word's low 160 bits (through memory byte by byte it was ten times slower).
    @inlinable @inline(__always)
    public init(word: UInt256) {
        let (w0, w1, w2, _) = word.limbs
        self.init(high: ((w2 << 32) | (w1 >> 32)).bigEndian, mid: ((w1 << 32) | (w0 >> 32)).bigEndian,
                  low: UInt32(truncatingIfNeeded: w0).bigEndian)
    }
}

extension UInt256 {
    /// An address as a 256-bit word, left-padded with zeros.
    /// Limb arithmetic, the inverse of `Address(word:)`.
    @inlinable @inline(__always)
    public init(_ address: Address) {
        let h = UInt64(bigEndian: address.high), m = UInt64(bigEndian: address.mid)
        let l = UInt64(UInt32(bigEndian: address.low))
        self.init(limbs: ((m << 32) | l, (h << 32) | (m >> 32), h >> 32, 0))
    }
}
