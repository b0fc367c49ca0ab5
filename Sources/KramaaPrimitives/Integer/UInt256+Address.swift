extension Address {
    /// The low 20 bytes of a 256-bit word (how the EVM reads an address off its stack).
    @inlinable
    public init(word: UInt256) {
        var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { word.storeBigEndian(to: $0.baseAddress!) }
        self = Swift.withUnsafeBytes(of: bytes) { Address(copying: UnsafeRawBufferPointer(rebasing: $0[12..<32])) }
    }
}

extension UInt256 {
    /// An address as a 256-bit word, left-padded with zeros.
    @inlinable
    public init(_ address: Address) {
        self = address.withUnsafeBytes { UInt256(bigEndian: $0) }
    }
}
