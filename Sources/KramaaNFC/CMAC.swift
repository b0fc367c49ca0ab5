import Crypto

/// A 128-bit block function that CMAC can be built on: AES, or LRP's evaluation (AN12304).
protocol CMACBlockFunction {
    /// Replaces `block` with its image under the keyed function.
    func apply(_ block: inout Block128)
}

/// The two CMAC subkeys of RFC 4493 §2.3, derived from `L = E(0)`.
struct CMACSubkeys: Sendable {
    /// Applied to a final block that is complete.
    let k1: Block128
    /// Applied to a final block that was padded with `80 00 …`.
    let k2: Block128

    init(_ function: some CMACBlockFunction) {
        var l = Block128(repeating: 0)
        function.apply(&l)
        k1 = l.doubled
        k2 = k1.doubled
    }
}

/// CMAC (RFC 4493, NIST SP 800-38B) over any 128-bit block function.
enum CMAC {
    /// The 16-byte tag of `message` under `function` with its precomputed `subkeys`.
    static func tag(_ message: UnsafeRawBufferPointer, function: some CMACBlockFunction, subkeys: CMACSubkeys) -> Block128 {
        var state = Block128(repeating: 0)
        var offset = 0
        // Every block but the last goes straight through the chain.
        while message.count - offset > 16 {
            state ^= Block128(padding: UnsafeRawBufferPointer(rebasing: message[offset..<offset + 16]))
            function.apply(&state)
            offset += 16
        }
        let rest = UnsafeRawBufferPointer(rebasing: message[offset...])
        var last = Block128(padding: rest)
        if rest.count == 16 {
            last ^= subkeys.k1
        } else {
            last[rest.count] = 0x80
            last ^= subkeys.k2
        }
        state ^= last
        function.apply(&state)
        return state
    }

    /// The tag of a message that is exactly one complete block.
    @inline(__always)
    static func tag(ofBlock block: Block128, function: some CMACBlockFunction, subkeys: CMACSubkeys) -> Block128 {
        var state = block ^ subkeys.k1
        function.apply(&state)
        return state
    }
}

/// AES-128 as a CMAC block function.
struct AESBlockFunction: CMACBlockFunction {
    let key: SymmetricKey

    @inline(__always)
    func apply(_ block: inout Block128) { AESBlock.encrypt(&block, key: key) }
}

/// AES-CMAC (RFC 4493) with one AES-128 key; the key and its subkeys are prepared once.
///
/// `@unchecked Sendable`: swift-crypto's `SymmetricKey` is not marked Sendable on Linux, but
/// it is an immutable value whose storage is never written after creation.
public struct AESCMAC: @unchecked Sendable {
    let key: SymmetricKey
    let subkeys: CMACSubkeys

    /// Prepares AES-CMAC with a 16-byte key.
    public init(key: [UInt8]) throws(SUNError) {
        guard key.count == 16 else { throw .wrongLength(.key, expected: "16 bytes", actual: key.count) }
        self.init(key: SymmetricKey(data: key))
    }

    init(key: SymmetricKey) {
        self.key = key
        self.subkeys = CMACSubkeys(AESBlockFunction(key: key))
    }

    init(key block: Block128) {
        self.init(key: AESBlock.key(block))
    }

    /// The 16-byte CMAC of `message`.
    public func mac(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { tag($0) }.byteArray
    }

    func tag(_ message: UnsafeRawBufferPointer) -> Block128 {
        CMAC.tag(message, function: AESBlockFunction(key: key), subkeys: subkeys)
    }

    func tag(ofBlock block: Block128) -> Block128 {
        CMAC.tag(ofBlock: block, function: AESBlockFunction(key: key), subkeys: subkeys)
    }
}
