// ChaCha20-Poly1305 (RFC 8439): the AEAD of sealed envelopes, chosen for the device because it
// needs no AES hardware and no tables (so no cache-timing leaks). Encryption is in place;
// Poly1305 is written on five 26-bit limbs (32×32→64 multiplies, as a Cortex-M4 does them).

/// 12 bytes: an AEAD nonce.
public typealias Bytes12 = InlineArray<12, UInt8>
/// 16 bytes: an AEAD tag.
public typealias Bytes16 = InlineArray<16, UInt8>

/// The ChaCha20 stream cipher (RFC 8439 §2.4), 32-bit block counter, 96-bit nonce.
public enum ChaCha20 {
    @inline(__always) static func le32(_ p: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(p[o]) | UInt32(p[o + 1]) << 8 | UInt32(p[o + 2]) << 16 | UInt32(p[o + 3]) << 24
    }

    @inline(__always) static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }

    @inline(__always) static func quarter(_ s: inout InlineArray<16, UInt32>, _ a: Int, _ b: Int, _ c: Int, _ d: Int) {
        s[a] &+= s[b]; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] &+= s[d]; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] &+= s[b]; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] &+= s[d]; s[b] = rotl(s[b] ^ s[c], 7)
    }

    /// One 64-byte block of key stream (RFC 8439 §2.3), as sixteen little-endian words.
    static func block(key: Bytes32, counter: UInt32, nonce: Bytes12) -> InlineArray<16, UInt32> {
        var input = InlineArray<16, UInt32>(repeating: 0)
        input[0] = 0x6170_7865; input[1] = 0x3320_646e; input[2] = 0x7962_2d32; input[3] = 0x6b20_6574
        withUnsafeBytes(of: key) { k in for i in 0..<8 { input[4 + i] = le32(k, 4 * i) } }
        input[12] = counter
        withUnsafeBytes(of: nonce) { n in for i in 0..<3 { input[13 + i] = le32(n, 4 * i) } }
        var s = input
        for _ in 0..<10 {
            quarter(&s, 0, 4, 8, 12); quarter(&s, 1, 5, 9, 13); quarter(&s, 2, 6, 10, 14); quarter(&s, 3, 7, 11, 15)
            quarter(&s, 0, 5, 10, 15); quarter(&s, 1, 6, 11, 12); quarter(&s, 2, 7, 8, 13); quarter(&s, 3, 4, 9, 14)
        }
        for i in 0..<16 { s[i] &+= input[i] }
        for i in 0..<16 { input[i] = 0 }
        return s
    }

    /// XORs the key stream from block `counter` on into `data` (encrypts or decrypts in place).
    public static func xor(key: Bytes32, nonce: Bytes12, counter: UInt32, _ data: UnsafeMutableRawBufferPointer) {
        var done = 0
        var n = counter
        while done < data.count {
            var stream = block(key: key, counter: n, nonce: nonce)
            let take = min(64, data.count - done)
            for i in 0..<take { data[done + i] ^= UInt8(truncatingIfNeeded: stream[i >> 2] >> UInt32(8 * (i & 3))) }
            for i in 0..<16 { stream[i] = 0 }
            done += take
            n &+= 1
        }
    }
}

/// Poly1305 (RFC 8439 §2.5), a one-time authenticator: fed bytes, finished once.
public struct Poly1305: ByteSink {
    private var r = InlineArray<5, UInt32>(repeating: 0)
    private var h = InlineArray<5, UInt32>(repeating: 0)
    private var pad = InlineArray<4, UInt32>(repeating: 0)
    private var buffer = Bytes16(repeating: 0)
    private var used = 0

    /// `key` is r ‖ s (32 bytes, used once).
    public init(key: Bytes32) {
        withUnsafeBytes(of: key) { k in
            r[0] = ChaCha20.le32(k, 0) & 0x3ff_ffff
            r[1] = (ChaCha20.le32(k, 3) >> 2) & 0x3ff_ff03
            r[2] = (ChaCha20.le32(k, 6) >> 4) & 0x3ff_c0ff
            r[3] = (ChaCha20.le32(k, 9) >> 6) & 0x3f0_3fff
            r[4] = (ChaCha20.le32(k, 12) >> 8) & 0x00f_ffff
            for i in 0..<4 { pad[i] = ChaCha20.le32(k, 16 + 4 * i) }
        }
    }

    public mutating func update(_ byte: UInt8) {
        buffer[used] = byte
        used += 1
        if used == 16 {
            absorb(hibit: 1 << 24)
            used = 0
        }
    }

    /// Zeros up to the next 16-byte boundary (the AEAD's padding).
    public mutating func padToBlock() {
        while used != 0 { update(0) }
    }

    private mutating func absorb(hibit: UInt32) {
        let m = withUnsafeBytes(of: buffer) { b in
            (ChaCha20.le32(b, 0), ChaCha20.le32(b, 3), ChaCha20.le32(b, 6), ChaCha20.le32(b, 9), ChaCha20.le32(b, 12))
        }
        let mask: UInt32 = 0x3ff_ffff
        let h0 = UInt64(h[0] &+ (m.0 & mask)), h1 = UInt64(h[1] &+ ((m.1 >> 2) & mask)), h2 = UInt64(h[2] &+ ((m.2 >> 4) & mask))
        let h3 = UInt64(h[3] &+ ((m.3 >> 6) & mask)), h4 = UInt64(h[4] &+ ((m.4 >> 8) | hibit))
        let r0 = UInt64(r[0]), r1 = UInt64(r[1]), r2 = UInt64(r[2]), r3 = UInt64(r[3]), r4 = UInt64(r[4])
        let s1 = r1 &* 5, s2 = r2 &* 5, s3 = r3 &* 5, s4 = r4 &* 5
        let d0 = h0 &* r0 &+ h1 &* s4 &+ h2 &* s3 &+ h3 &* s2 &+ h4 &* s1
        var d1 = h0 &* r1 &+ h1 &* r0 &+ h2 &* s4 &+ h3 &* s3 &+ h4 &* s2
        var d2 = h0 &* r2 &+ h1 &* r1 &+ h2 &* r0 &+ h3 &* s4 &+ h4 &* s3
        var d3 = h0 &* r3 &+ h1 &* r2 &+ h2 &* r1 &+ h3 &* r0 &+ h4 &* s4
        var d4 = h0 &* r4 &+ h1 &* r3 &+ h2 &* r2 &+ h3 &* r1 &+ h4 &* r0
        let m64 = UInt64(mask)
        var c = d0 >> 26
        var n0 = d0 & m64
        d1 &+= c; c = d1 >> 26; let n1 = d1 & m64
        d2 &+= c; c = d2 >> 26; h[2] = UInt32(d2 & m64)
        d3 &+= c; c = d3 >> 26; h[3] = UInt32(d3 & m64)
        d4 &+= c; c = d4 >> 26; h[4] = UInt32(d4 & m64)
        n0 &+= c &* 5
        c = n0 >> 26
        h[0] = UInt32(n0 & m64)
        h[1] = UInt32(n1 &+ c)
    }

    /// The 16-byte tag; the authenticator is spent.
    public mutating func finalize() -> Bytes16 {
        if used != 0 {
            buffer[used] = 1
            for i in (used + 1)..<16 { buffer[i] = 0 }
            absorb(hibit: 0)
            used = 0
        }
        let mask: UInt32 = 0x3ff_ffff
        var h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4]
        var c = h1 >> 26; h1 &= mask
        h2 &+= c; c = h2 >> 26; h2 &= mask
        h3 &+= c; c = h3 >> 26; h3 &= mask
        h4 &+= c; c = h4 >> 26; h4 &= mask
        h0 &+= c &* 5; c = h0 >> 26; h0 &= mask
        h1 &+= c
        // h − p, kept when it does not borrow (h ≥ p).
        var g0 = h0 &+ 5; c = g0 >> 26; g0 &= mask
        var g1 = h1 &+ c; c = g1 >> 26; g1 &= mask
        var g2 = h2 &+ c; c = g2 >> 26; g2 &= mask
        var g3 = h3 &+ c; c = g3 >> 26; g3 &= mask
        let g4 = h4 &+ c &- (1 << 26)
        let keep = (g4 >> 31) &- 1          // all ones when no borrow
        g0 &= keep; g1 &= keep; g2 &= keep; g3 &= keep
        h0 = (h0 & ~keep) | g0; h1 = (h1 & ~keep) | g1; h2 = (h2 & ~keep) | g2; h3 = (h3 & ~keep) | g3
        h4 = (h4 & ~keep) | (g4 & keep)
        var words = InlineArray<4, UInt32>(repeating: 0)
        words[0] = h0 | h1 << 26; words[1] = h1 >> 6 | h2 << 20; words[2] = h2 >> 12 | h3 << 14; words[3] = h3 >> 18 | h4 << 8
        var tag = Bytes16(repeating: 0)
        var f: UInt64 = 0
        for i in 0..<4 {
            f = UInt64(words[i]) &+ UInt64(pad[i]) &+ (f >> 32)
            for j in 0..<4 { tag[4 * i + j] = UInt8(truncatingIfNeeded: f >> UInt64(8 * j)) }
        }
        for i in 0..<5 { r[i] = 0; h[i] = 0 }
        for i in 0..<4 { pad[i] = 0 }
        return tag
    }
}

/// The AEAD (RFC 8439 §2.8).
public enum ChaCha20Poly1305 {
    static func authenticator(key: Bytes32, nonce: Bytes12) -> Poly1305 {
        var block = ChaCha20.block(key: key, counter: 0, nonce: nonce)
        var otk = Bytes32(repeating: 0)
        for i in 0..<32 { otk[i] = UInt8(truncatingIfNeeded: block[i >> 2] >> UInt32(8 * (i & 3))) }
        for i in 0..<16 { block[i] = 0 }
        let mac = Poly1305(key: otk)
        for i in 0..<32 { otk[i] = 0 }
        return mac
    }

    static func tag(_ mac: inout Poly1305, aad: UnsafeRawBufferPointer, ciphertext: UnsafeRawBufferPointer) -> Bytes16 {
        mac.update(aad)
        mac.padToBlock()
        mac.update(ciphertext)
        mac.padToBlock()
        for j in 0..<8 { mac.update(UInt8(truncatingIfNeeded: UInt64(aad.count) >> UInt64(8 * j))) }
        for j in 0..<8 { mac.update(UInt8(truncatingIfNeeded: UInt64(ciphertext.count) >> UInt64(8 * j))) }
        return mac.finalize()
    }

    /// Encrypts `data` in place and returns the tag over `aad` and the ciphertext.
    public static func seal(key: Bytes32, nonce: Bytes12, aad: UnsafeRawBufferPointer, inPlace data: UnsafeMutableRawBufferPointer) -> Bytes16 {
        var mac = authenticator(key: key, nonce: nonce)
        ChaCha20.xor(key: key, nonce: nonce, counter: 1, data)
        return tag(&mac, aad: aad, ciphertext: UnsafeRawBufferPointer(data))
    }

    /// Checks the tag (in constant time) and decrypts `data` in place; false, leaving `data`
    /// as it was, when the tag does not match.
    public static func open(key: Bytes32, nonce: Bytes12, aad: UnsafeRawBufferPointer, inPlace data: UnsafeMutableRawBufferPointer,
                            tag expected: Bytes16) -> Bool {
        var mac = authenticator(key: key, nonce: nonce)
        let computed = tag(&mac, aad: aad, ciphertext: UnsafeRawBufferPointer(data))
        var diff: UInt8 = 0
        for i in 0..<16 { diff |= computed[i] ^ expected[i] }
        guard diff == 0 else { return false }
        ChaCha20.xor(key: key, nonce: nonce, counter: 1, data)
        return true
    }
}
