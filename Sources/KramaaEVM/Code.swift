import KramaaPrimitives

/// Contract code prepared for execution once per code hash: padded so PUSH never reads past
/// the end, with a bitmap of valid JUMPDEST positions (not inside PUSH data).
public final class AnalyzedCode: @unchecked Sendable {
    /// The original bytes.
    public let bytes: [UInt8]
    /// `bytes` followed by 33 zero bytes (a STOP, and room for a PUSH32 at the very end).
    let padded: [UInt8]
    /// Bit i set when byte i is a JUMPDEST instruction.
    let jumpdests: [UInt64]
    public let hash: Bytes32

    public init(_ bytes: [UInt8], hash: Bytes32? = nil) {
        self.bytes = bytes
        self.hash = hash ?? Keccak256.hash(bytes)
        self.padded = bytes + [UInt8](repeating: 0, count: 33)
        var map = [UInt64](repeating: 0, count: bytes.count / 64 + 1)
        var i = 0
        while i < bytes.count {
            let op = bytes[i]
            if op == 0x5b {
                map[i >> 6] |= 1 << UInt64(i & 63)
            } else if op >= 0x60 && op <= 0x7f {
                i += Int(op - 0x5f)
            }
            i += 1
        }
        self.jumpdests = map
    }

    /// True when `target` is a JUMPDEST instruction.
    @inline(__always)
    func isJumpdest(_ target: UInt256) -> Bool {
        guard target.fitsInUInt64, target.low64 < UInt64(bytes.count) else { return false }
        let i = Int(target.low64)
        return jumpdests[i >> 6] >> UInt64(i & 63) & 1 == 1
    }

    public static let empty = AnalyzedCode([])
}
