import Crypto
import _CryptoExtras

/// One 16-byte cipher block, kept in a value (no heap) so the hot paths do not allocate.
typealias Block128 = SIMD16<UInt8>

extension SIMD16 where Scalar == UInt8 {
    /// The block holding `bytes` (at most 16), zero-filled after them.
    @inline(__always)
    init(padding bytes: UnsafeRawBufferPointer) {
        self.init(repeating: 0)
        Swift.withUnsafeMutableBytes(of: &self) { $0.copyMemory(from: bytes) }
    }

    /// The block holding `bytes` (at most 16), zero-filled after them.
    init(padding bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { Block128(padding: $0) }
    }

    /// The 16 bytes as an array.
    var byteArray: [UInt8] { Swift.withUnsafeBytes(of: self) { Array($0) } }

    /// The block as one big-endian 128-bit number shifted left by one bit, reduced by the
    /// CMAC polynomial (x^128 + x^7 + x^2 + x + 1): the `dbl` of RFC 4493's subkey generation.
    var doubled: Block128 {
        var (high, low) = Swift.withUnsafeBytes(of: self) {
            (UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
        let carry = high >> 63
        high = high << 1 | low >> 63
        low = low << 1 ^ (0x87 & (0 &- carry))
        var out = Block128(repeating: 0)
        Swift.withUnsafeMutableBytes(of: &out) {
            $0.storeBytes(of: high.bigEndian, as: UInt64.self)
            $0.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return out
    }
}

/// AES-128 single-block operations through swift-crypto's raw permutation (`_CryptoExtras`).
///
/// swift-crypto expands the key schedule on every call and offers no way to keep one, so a
/// block costs one key expansion plus one block operation (both AES-NI backed in BoringSSL).
enum AESBlock {
    /// Encrypts one block in place (AES-ECB of a single block).
    @inline(__always)
    static func encrypt(_ block: inout Block128, key: SymmetricKey) {
        permute(&block, key: key, forward: true)
    }

    /// Decrypts one block in place.
    @inline(__always)
    static func decrypt(_ block: inout Block128, key: SymmetricKey) {
        permute(&block, key: key, forward: false)
    }

    /// An AES key made from a block's 16 bytes.
    @inline(__always)
    static func key(_ block: Block128) -> SymmetricKey {
        withUnsafeBytes(of: block) { SymmetricKey(data: $0) }
    }

    private static func permute(_ block: inout Block128, key: SymmetricKey, forward: Bool) {
        withUnsafeMutableBytes(of: &block) { raw in
            var buffer = PermutationBuffer(base: raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self))
            do {
                if forward {
                    try AES.permute(&buffer, key: key)
                } else {
                    try AES.inversePermute(&buffer, key: key)
                }
            } catch {
                // Only wrong sizes throw, and both sizes are fixed by construction.
                preconditionFailure("AES block permutation failed on a 16-byte block: \(error)")
            }
        }
    }

    /// AES-CBC decryption of whole blocks, in place, starting from `iv`.
    static func decryptCBC(_ data: inout [UInt8], key: SymmetricKey, iv: Block128) {
        precondition(data.count % 16 == 0, "CBC data is whole 16-byte blocks")
        data.withUnsafeMutableBytes { raw in
            var previous = iv
            var offset = 0
            while offset < raw.count {
                let cipherBlock = Block128(padding: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 16]))
                var plain = cipherBlock
                decrypt(&plain, key: key)
                plain ^= previous
                withUnsafeBytes(of: plain) { raw[offset..<offset + 16].copyBytes(from: $0) }
                previous = cipherBlock
                offset += 16
            }
        }
    }
}

/// The 16 bytes of a block (on the caller's stack) as handed to swift-crypto's generic,
/// unspecialised permutation: a non-generic collection whose contiguous-storage hook calls
/// no generic code. With an `UnsafeMutableBufferPointer` the call spent more time in runtime
/// metadata look-ups than in AES.
struct PermutationBuffer: MutableCollection, RandomAccessCollection {
    let base: UnsafeMutablePointer<UInt8>

    var startIndex: Int { 0 }
    var endIndex: Int { 16 }

    subscript(position: Int) -> UInt8 {
        get { base[position] }
        nonmutating set { base[position] = newValue }
    }

    func withContiguousMutableStorageIfAvailable<R>(_ body: (inout UnsafeMutableBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        var buffer = UnsafeMutableBufferPointer(start: base, count: 16)
        return try body(&buffer)
    }
}
