// HKDF with SHA-256 (RFC 5869), on the HMAC the ECDSA nonces use: what HPKE's key schedule is
// made of. `info` is written into the MAC by a closure, so a label assembled from parts needs
// no buffer of its own.

public enum HKDFSHA256 {
    /// HKDF-Extract: HMAC(salt, ikm). An empty salt is HashLen zero bytes (the same HMAC key).
    public static func extract(salt: UnsafeRawBufferPointer, ikm: UnsafeRawBufferPointer) -> Bytes32 {
        var mac = HMACSHA256(key: salt)
        mac.update(ikm)
        return mac.finalize()
    }

    /// HKDF-Expand: fills `out` (at most 255 × 32 bytes) with T(1) ‖ T(2) ‖ …, where
    /// T(i) = HMAC(prk, T(i−1) ‖ info ‖ i) and `info` writes the info bytes into the MAC.
    public static func expand(prk: Bytes32, into out: UnsafeMutableRawBufferPointer, info: (inout HMACSHA256) -> Void) {
        precondition(out.count <= 255 * 32, "HKDF-Expand gives at most 255 blocks")
        var previous = Bytes32(repeating: 0)
        var done = 0
        var counter: UInt8 = 1
        while done < out.count {
            var mac = HMACSHA256(key: prk)
            if counter > 1 { mac.update(contentsOf: previous) }
            info(&mac)
            mac.update(counter)
            previous = mac.finalize()
            let n = min(32, out.count - done)
            for i in 0..<n { out[done + i] = previous[i] }
            done += n
            counter &+= 1
        }
        for i in 0..<32 { previous[i] = 0 }
    }

    /// HKDF-Expand with `info` in one piece of memory.
    public static func expand(prk: Bytes32, info: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        expand(prk: prk, into: out) { $0.update(info) }
    }
}
