import BigInt
import Foundation
import KramaaPrimitives
import KramaaTestSupport
import Testing

@Suite struct Secp256k1Tests {
    static let n = Secp256k1.order
    static let one = try! Bytes32(hex: "00000000000000000000000000000000000000000000000000000000000000" + "01")
    /// The generator point G, uncompressed.
    static let generator = try! [UInt8](hex: "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")

    static func decimal(_ s: String) throws -> Bytes32 {
        let value = try #require(BigUInt(s, radix: 10))
        let bytes = Array(value.serialize())
        return try Bytes32([UInt8](repeating: 0, count: 32 - bytes.count) + bytes)
    }

    // MARK: Private keys

    @Test func privateKeyRangeIsChecked() throws {
        #expect(throws: KeyError.privateKeyOutOfRange(.secp256k1)) { try Secp256k1.PrivateKey(.zero) }
        #expect(throws: KeyError.privateKeyOutOfRange(.secp256k1)) { try Secp256k1.PrivateKey(Self.n) }
        #expect(throws: KeyError.privateKeyOutOfRange(.secp256k1)) { try Secp256k1.PrivateKey(Bytes32(hex: String(repeating: "ff", count: 32))) }
        #expect(throws: KeyError.wrongPrivateKeyLength(.secp256k1, expected: 32, actual: 31)) {
            try Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 31))
        }
        _ = try Secp256k1.PrivateKey(Self.n.subtractingForTest(Self.one))
        // Key 1 has public key G.
        #expect(try Secp256k1.PrivateKey(Self.one).publicKey.uncompressedRepresentation == Self.generator)
    }

    @Test func generatedKeysDifferAndAreRedacted() {
        let a = Secp256k1.PrivateKey(), b = Secp256k1.PrivateKey()
        #expect(a.secret != b.secret)
        #expect(!a.description.contains(Hex.encode(a.rawRepresentation, prefix: false)))
    }

    // MARK: Public keys

    @Test func publicKeyEncodingsRoundTrip() throws {
        let key = Secp256k1.PrivateKey().publicKey
        #expect(key.compressedRepresentation.count == 33)
        #expect(try Secp256k1.PublicKey(serialized: key.compressedRepresentation) == key)
        #expect(try Secp256k1.PublicKey(serialized: key.uncompressedRepresentation) == key)
        #expect(try Secp256k1.PublicKey(uncompressedXY: key.uncompressedXY) == key)
        #expect(key.address == Address(uncompressedPublicKey: key.uncompressedXY))
    }

    @Test func badPublicKeysAreRejected() throws {
        #expect(throws: KeyError.wrongPublicKeyLength(.secp256k1, expected: [33, 65], actual: 64)) {
            try Secp256k1.PublicKey(serialized: Self.generator.dropFirst())
        }
        #expect(throws: KeyError.wrongPublicKeyLength(.secp256k1, expected: [33], actual: 65)) {
            try Secp256k1.PublicKey(compressedRepresentation: Self.generator)
        }
        // Hybrid encoding (06/07) is refused even where libsecp256k1 would take it.
        #expect(throws: KeyError.badPointPrefix(.secp256k1, 0x06)) {
            try Secp256k1.PublicKey(serialized: [0x06] + Self.generator.dropFirst())
        }
        var offCurve = Self.generator
        offCurve[64] ^= 1
        #expect(throws: KeyError.notOnCurve(.secp256k1)) { try Secp256k1.PublicKey(serialized: offCurve) }
        // x = p is not a field element.
        let xIsP = try [UInt8](hex: "02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
        #expect(throws: KeyError.notOnCurve(.secp256k1)) { try Secp256k1.PublicKey(serialized: xIsP) }
    }

    // MARK: Signing, verification, recovery

    @Test func signVerifyRecoverRoundTrip() throws {
        for i in 0..<32 {
            let key = Secp256k1.PrivateKey()
            let digest = Keccak256.hash(Array("message \(i)".utf8))
            let sig = key.sign(digest: digest)
            #expect(sig.signature.isLowS)
            #expect(sig.recoveryId <= 1)
            #expect(key.publicKey.isValidSignature(sig.signature, digest: digest, allowHighS: false))
            #expect(try sig.recoverPublicKey(digest: digest) == key.publicKey)
            #expect(try Secp256k1.recoverAddress(digest: digest, r: sig.r, s: sig.s, recoveryId: sig.recoveryId) == key.publicKey.address)
            #expect(try Secp256k1.ecrecover(digest: digest, v: UInt64(sig.v), r: sig.r, s: sig.s) == key.publicKey.address)
            // Another digest recovers another key (or none), never this one.
            let other = Keccak256.hash(Array("other \(i)".utf8))
            #expect((try? Secp256k1.recoverAddress(digest: other, r: sig.r, s: sig.s, recoveryId: sig.recoveryId)) != key.publicKey.address)
            #expect(!key.publicKey.isValidSignature(sig.signature, digest: other, allowHighS: true))
        }
    }

    @Test func signingIsDeterministic() throws {
        let key = try Secp256k1.PrivateKey(Self.one)
        let digest = Keccak256.hash(Array("kramaa".utf8))
        #expect(key.sign(digest: digest) == key.sign(digest: digest))
    }

    @Test func highSIsAnOption() throws {
        let key = Secp256k1.PrivateKey()
        let digest = Keccak256.hash(Array("malleable".utf8))
        let sig = key.sign(digest: digest)
        let high = try Secp256k1.Signature(r: sig.r, s: Self.n.subtractingForTest(sig.s))
        #expect(!high.isLowS)
        #expect(high.lowS == sig.signature)
        #expect(key.publicKey.isValidSignature(high, digest: digest, allowHighS: true))
        #expect(!key.publicKey.isValidSignature(high, digest: digest, allowHighS: false))
        // Recovery works for (r, n - s) with the other recovery id, as the 0x01 precompile allows.
        #expect(try Secp256k1.recover(digest: digest, r: high.r, s: high.s, recoveryId: 1 - sig.recoveryId) == key.publicKey)
        #expect(!Secp256k1.isLowS(high.s))
    }

    @Test func recoveryRejectsBadInputWithTypedErrors() throws {
        let digest = Keccak256.hash([1, 2, 3])
        let sig = Secp256k1.PrivateKey().sign(digest: digest)
        #expect(throws: SignatureError.invalidRecoveryId(29)) { try Secp256k1.ecrecover(digest: digest, v: 29, r: sig.r, s: sig.s) }
        #expect(throws: SignatureError.invalidRecoveryId(0)) { try Secp256k1.ecrecover(digest: digest, v: 0, r: sig.r, s: sig.s) }
        #expect(throws: SignatureError.invalidRecoveryId(2)) { try Secp256k1.recoverAddress(digest: digest, r: sig.r, s: sig.s, recoveryId: 2) }
        #expect(throws: SignatureError.invalidRecoveryId(4)) { try Secp256k1.recover(digest: digest, r: sig.r, s: sig.s, recoveryId: 4) }
        #expect(throws: SignatureError.scalarOutOfRange(component: "r")) { try Secp256k1.ecrecover(digest: digest, v: 27, r: .zero, s: sig.s) }
        #expect(throws: SignatureError.scalarOutOfRange(component: "r")) { try Secp256k1.ecrecover(digest: digest, v: 27, r: Self.n, s: sig.s) }
        #expect(throws: SignatureError.scalarOutOfRange(component: "s")) { try Secp256k1.ecrecover(digest: digest, v: 27, r: sig.r, s: .zero) }
        #expect(throws: SignatureError.scalarOutOfRange(component: "s")) { try Secp256k1.ecrecover(digest: digest, v: 27, r: sig.r, s: Self.n) }
        // The precompile's v is a 32-byte word: 27 with a nonzero high byte is not 27.
        var word = [UInt8](repeating: 0, count: 32)
        word[31] = sig.v
        #expect(try Secp256k1.ecrecover(digest: digest, v: Bytes32(word), r: sig.r, s: sig.s) == Secp256k1.recoverAddress(digest: digest, r: sig.r, s: sig.s, recoveryId: sig.recoveryId))
        word[0] = 1
        #expect(throws: SignatureError.self) { try Secp256k1.ecrecover(digest: digest, v: Bytes32(word), r: sig.r, s: sig.s) }
        // r = 5 is in range, but no point has x = 5 (5³ + 7 is not a square mod p).
        let five = try Bytes32(hex: String(repeating: "0", count: 63) + "5")
        #expect(throws: SignatureError.recoveryFailed) { try Secp256k1.ecrecover(digest: digest, v: 27, r: five, s: sig.s) }
    }

    // MARK: Signature encodings

    @Test func signatureEncodingsRoundTrip() throws {
        let sig = Secp256k1.PrivateKey().sign(digest: Keccak256.hash([7])).signature
        #expect(try Secp256k1.Signature(rawRepresentation: sig.rawRepresentation) == sig)
        #expect(try Secp256k1.Signature(derRepresentation: sig.derRepresentation) == sig)
        let recoverable = Secp256k1.PrivateKey().sign(digest: Keccak256.hash([8]))
        #expect(try Secp256k1.RecoverableSignature(rawRepresentation: recoverable.rawRepresentation) == recoverable)
        #expect(throws: SignatureError.wrongLength(expected: 65, actual: 64)) {
            try Secp256k1.RecoverableSignature(rawRepresentation: recoverable.rawRepresentation.dropLast())
        }
        #expect(throws: SignatureError.wrongLength(expected: 64, actual: 63)) {
            try Secp256k1.Signature(rawRepresentation: sig.rawRepresentation.dropLast())
        }
        #expect(throws: SignatureError.scalarOutOfRange(component: "s")) {
            try Secp256k1.Signature(rawRepresentation: sig.r.bytes + Self.n.bytes)
        }
    }

    @Test func badDERIsRejectedWithTypedErrors() throws {
        // r = 1, s = 1: 30 06 02 01 01 02 01 01.
        let good: [UInt8] = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]
        #expect(try Secp256k1.Signature(derRepresentation: good) == Secp256k1.Signature(r: Self.one, s: Self.one))
        #expect(throws: SignatureError.malformedDER) { try Secp256k1.Signature(derRepresentation: []) }
        #expect(throws: SignatureError.malformedDER) { try Secp256k1.Signature(derRepresentation: good.dropLast()) }
        #expect(throws: SignatureError.malformedDER) { try Secp256k1.Signature(derRepresentation: good + [0]) }
        // Long-form length where the short form fits.
        #expect(throws: SignatureError.malformedDER) {
            try Secp256k1.Signature(derRepresentation: [0x30, 0x81, 0x06] + good.dropFirst(2))
        }
        // Zero padding of an integer.
        #expect(throws: SignatureError.malformedDER) {
            try Secp256k1.Signature(derRepresentation: [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01])
        }
        // Negative r, and r = 0.
        #expect(throws: SignatureError.scalarOutOfRange(component: "r")) {
            try Secp256k1.Signature(derRepresentation: [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01])
        }
        #expect(throws: SignatureError.scalarOutOfRange(component: "r")) {
            try Secp256k1.Signature(derRepresentation: [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01])
        }
        // s = n.
        let sIsN: [UInt8] = [0x30, 0x26, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00] + Self.n.bytes
        #expect(throws: SignatureError.scalarOutOfRange(component: "s")) { try Secp256k1.Signature(derRepresentation: sIsN) }
    }

    // MARK: ethereum/tests BasicTests/keyaddrtest.json

    /// `key` = keccak256(seed) and `addr` = its address. `sig_of_emptystring` is described
    /// as a signature of the empty message, but it verifies neither over keccak256("") nor
    /// over sha256(""), double sha256 or Bitcoin's message hash (checked independently);
    /// other clients skip it for the same reason. So this checks what it can: the given
    /// (v, r, s) is well formed and recovers a key, and our own RFC 6979 signature of
    /// keccak256("") recovers to `addr`.
    @Test func ethereumKeyAddressVectors() throws {
        let url = try Vectors.folder("ethereum/BasicTests").appendingPathComponent("keyaddrtest.json")
        let cases = try #require(try Vectors.json(url) as? [[String: Any]])
        #expect(cases.count == 2)
        let emptyDigest = Keccak256.hash([UInt8]())
        for entry in cases {
            let seed = try #require(entry["seed"] as? String)
            let keyHex = try #require(entry["key"] as? String)
            #expect(Keccak256.hash(Array(seed.utf8)) == (try Bytes32(hex: keyHex)), "seed \(seed)")
            let key = try Secp256k1.PrivateKey(Bytes32(hex: keyHex))
            let address = try Address(hex: try #require(entry["addr"] as? String))
            #expect(key.publicKey.address == address, "seed \(seed)")

            let given = try #require(entry["sig_of_emptystring"] as? [String: String])
            let v = try #require(UInt64(given["v"] ?? ""))
            let r = try Self.decimal(given["r"] ?? ""), s = try Self.decimal(given["s"] ?? "")
            _ = try Secp256k1.ecrecover(digest: emptyDigest, v: v, r: r, s: s)

            let ours = key.sign(digest: emptyDigest)
            #expect(try Secp256k1.ecrecover(digest: emptyDigest, v: UInt64(ours.v), r: ours.r, s: ours.s) == address, "seed \(seed)")
            #expect(key.publicKey.isValidSignature(ours.signature, digest: emptyDigest, allowHighS: false))
        }
    }

    /// RFC 6979 known answer: key 1, SHA-256("Satoshi Nakamoto"), low-S form.
    @Test func rfc6979KnownAnswer() throws {
        let key = try Secp256k1.PrivateKey(Self.one)
        let digest = try Bytes32(hex: "a0dc65ffca799873cbea0ac274015b9526505daaaed385155425f7337704883e")
        let sig = key.sign(digest: digest)
        #expect(sig.r == (try Bytes32(hex: "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8")))
        #expect(sig.s == (try Bytes32(hex: "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")))
    }
}

extension Bytes32 {
    /// a − b for test values (a ≥ b), big-endian.
    func subtractingForTest(_ b: Bytes32) -> Bytes32 {
        var out = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        let x = bytes, y = b.bytes
        for i in stride(from: 31, through: 0, by: -1) {
            let v = Int(x[i]) - Int(y[i]) - borrow
            out[i] = UInt8((v + 256) % 256)
            borrow = v < 0 ? 1 : 0
        }
        return try! Bytes32(out)
    }
}
