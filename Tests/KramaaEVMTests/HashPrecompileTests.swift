import Crypto
import KramaaPrimitives
import KramaaTestSupport
import Testing
@testable import KramaaEVM

/// 0x02 sha256, 0x03 ripemd160 and 0x04 identity: published digests and word prices.
@Suite struct HashPrecompileTests {
    /// FIPS 180-2 appendix B examples (one block, empty, two blocks).
    static let sha256Vectors: [(String, String)] = [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ]

    /// The test vectors of the RIPEMD-160 paper (Dobbertin, Bosselaers, Preneel, appendix).
    static let ripemdVectors: [(String, String)] = [
        ("", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
        ("a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
        ("abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
        ("message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
        ("abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "12a053384a9c0c88e405a06c27dcf49ada62eb2b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "b0e20b6e3116640286ed3a87a5713079b21f5189"),
        (String(repeating: "1234567890", count: 8), "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
    ]

    @Test func sha256KnownAnswers() throws {
        for (message, digest) in Self.sha256Vectors {
            let result = try #require(run(Precompiles.sha256, Array(message.utf8)))
            #expect(hex(result.output) == digest, "\(message)")
        }
    }

    @Test func sha256Price() {
        // 60 + 12 per 32-byte word, rounded up.
        #expect(run(Precompiles.sha256, [])?.gasUsed == 60)
        #expect(run(Precompiles.sha256, [UInt8](repeating: 1, count: 32))?.gasUsed == 72)
        #expect(run(Precompiles.sha256, [UInt8](repeating: 1, count: 33))?.gasUsed == 84)
        #expect(Precompiles.sha256([UInt8](repeating: 1, count: 33), 83) == nil)
        #expect(Precompiles.sha256([UInt8](repeating: 1, count: 33), 84)?.gasUsed == 84)
    }

    @Test func ripemd160KnownAnswers() throws {
        for (message, digest) in Self.ripemdVectors {
            let result = try #require(run(Precompiles.ripemd160, Array(message.utf8)))
            #expect(result.output.count == 32)
            #expect(hex(result.output) == String(repeating: "0", count: 24) + digest, "\(message)")
        }
    }

    @Test func ripemd160MillionAs() {
        // The paper's last vector; it crosses many blocks and the padding boundary logic.
        let digest = RIPEMD160.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(hex(digest) == "52783243c1697bdbe16d37f97f68f08325dc1528")
    }

    @Test func ripemd160PaddingBoundaries() {
        // Lengths around the 56-byte padding limit and the 64-byte block, against the
        // incremental structure: equal inputs hash equally, and neighbours differ.
        var seen = Set<String>()
        for length in 50...130 {
            seen.insert(hex(RIPEMD160.hash([UInt8](repeating: 0x61, count: length))))
        }
        #expect(seen.count == 81)
        #expect(hex(RIPEMD160.hash(Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)))
            == "9b752e45573d4b39f4dbd3323cab82bf63326bfb")
    }

    @Test func ripemd160Price() {
        #expect(run(Precompiles.ripemd160, [])?.gasUsed == 600)
        #expect(run(Precompiles.ripemd160, [UInt8](repeating: 0, count: 64))?.gasUsed == 840)
        #expect(run(Precompiles.ripemd160, [UInt8](repeating: 0, count: 65))?.gasUsed == 960)
        #expect(Precompiles.ripemd160([], 599) == nil)
    }

    @Test func identityCopiesAndPrices() {
        let data = (0..<100).map { UInt8($0) }
        let result = run(Precompiles.identity, data)
        #expect(result?.output == data)
        #expect(result?.gasUsed == Int64(27))
        #expect(run(Precompiles.identity, [])?.output == [])
        #expect(run(Precompiles.identity, [])?.gasUsed == 15)
        #expect(Precompiles.identity(data, 26) == nil)
        #expect(Precompiles.identity(data, 27)?.gasUsed == 27)
    }

    @Test func tableHasTheCancunAddressesAndP256Verify() {
        let addresses = Set(Precompiles.cancun.keys)
        let expected = Set((1...10).map { Precompiles.address(UInt16($0)) } + [Precompiles.address(0x100)])
        #expect(addresses == expected)
        #expect(Set(Precompiles.ethereumCancun.keys) == expected.subtracting([Precompiles.address(0x100)]), "Ethereum has no P256VERIFY")
        #expect(Precompiles.address(0x100).bytes == [UInt8](repeating: 0, count: 18) + [1, 0])
        // The table entries are the functions themselves.
        #expect(Precompiles.cancun[Precompiles.address(4)]?([1, 2, 3], 100)?.output == [1, 2, 3])
    }
}

/// 0x01 ecrecover.
@Suite struct EcrecoverPrecompileTests {
    @Test(arguments: EcrecoverVectors.all)
    func knownAnswers(vector: PrecompileVector) throws {
        // Invalid signatures succeed with empty output: never a failure.
        let result = try #require(Precompiles.ecrecover(bytes(vector.input), 3000))
        #expect(hex(result.output) == vector.expected)
        #expect(result.gasUsed == 3000)
    }

    @Test func insufficientGasFails() {
        let input = bytes(EcrecoverVectors.all[0].input)
        #expect(Precompiles.ecrecover(input, 2999) == nil)
        #expect(Precompiles.ecrecover([], 2999) == nil)
        #expect(Precompiles.ecrecover(input, 1_000_000)?.gasUsed == 3000)
    }
}

/// 0x100 P256VERIFY (RIP-7212).
@Suite struct P256VerifyPrecompileTests {
    static let one = [UInt8](repeating: 0, count: 31) + [1]

    /// A fresh valid input: digest ‖ r ‖ s ‖ x ‖ y.
    static func validInput() -> [UInt8] {
        let key = Secp256r1.PrivateKey()
        let digest = Keccak256.hash(Array("kramaa p256".utf8))
        let signature = key.sign(digest: digest)
        return digest.bytes + signature.r.bytes + signature.s.bytes + key.publicKey.uncompressedXY
    }

    @Test func validSignatureReturnsOne() {
        for _ in 0..<5 {
            let result = Precompiles.p256Verify(Self.validInput(), 3450)
            #expect(result?.output == Self.one)
            #expect(result?.gasUsed == 3450)
        }
    }

    @Test func invalidInputsReturnEmptyAndChargeOnlyThePrice() {
        let valid = Self.validInput()
        var cases: [(String, [UInt8])] = [
            ("empty", []), ("159 bytes", Array(valid.dropLast())), ("161 bytes", valid + [0]),
        ]
        var wrongDigest = valid
        wrongDigest[0] ^= 1
        cases.append(("wrong digest", wrongDigest))
        let n = Secp256r1.order.bytes
        let pHex = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
        func replacing(_ range: Range<Int>, with word: [UInt8]) -> [UInt8] {
            var out = valid
            out.replaceSubrange(range, with: word)
            return out
        }
        cases.append(("r = 0", replacing(32..<64, with: [UInt8](repeating: 0, count: 32))))
        cases.append(("s = 0", replacing(64..<96, with: [UInt8](repeating: 0, count: 32))))
        cases.append(("r = n", replacing(32..<64, with: n)))
        cases.append(("s = n", replacing(64..<96, with: n)))
        cases.append(("r = 2^256 - 1", replacing(32..<64, with: [UInt8](repeating: 0xff, count: 32))))
        cases.append(("point at (0, 0)", replacing(96..<160, with: [UInt8](repeating: 0, count: 64))))
        cases.append(("x = p", replacing(96..<128, with: bytes(pHex))))
        var offCurve = valid
        offCurve[159] ^= 1
        cases.append(("point off the curve", offCurve))
        for (name, input) in cases {
            let result = Precompiles.p256Verify(input, 3450)
            #expect(result?.output == [], "\(name)")
            #expect(result?.gasUsed == 3450, "\(name)")
        }
    }

    /// A signature built for the point (5, y), whose x is small enough that x + p fits in
    /// 256 bits (computed in Python from the ECDSA equations with chosen u1, u2).
    static let smallXValid = "c28ed68ff0b4caa724e21b1f85b7e67c6ae3028696eca73741e763006beba80d"
        + "e1bc4d9216fa068263292e51ad471df8b0b506e1afbda8fb965cf13bd234bc88"
        + "2769c3ac1d29ebe5c01334fea0a9cb2f2b5c8ea3fdfc941e12eb539caedc7816"
        + "0000000000000000000000000000000000000000000000000000000000000005"
        + "459243b9aa581806fe913bce99817ade11ca503c64d9a3c533415c083248fbcc"
    /// The same with x replaced by x + p: the same point, but a non-canonical coordinate.
    static let smallXPlusP = "c28ed68ff0b4caa724e21b1f85b7e67c6ae3028696eca73741e763006beba80d"
        + "e1bc4d9216fa068263292e51ad471df8b0b506e1afbda8fb965cf13bd234bc88"
        + "2769c3ac1d29ebe5c01334fea0a9cb2f2b5c8ea3fdfc941e12eb539caedc7816"
        + "ffffffff00000001000000000000000000000001000000000000000000000004"
        + "459243b9aa581806fe913bce99817ade11ca503c64d9a3c533415c083248fbcc"

    @Test func coordinatesMustBeBelowP() {
        #expect(Precompiles.p256Verify(bytes(Self.smallXValid), 3450)?.output == Self.one)
        #expect(Precompiles.p256Verify(bytes(Self.smallXPlusP), 3450)?.output == [])
    }

    @Test func wycheproofP1363Vectors() throws {
        // Every P1363 SHA-256 case of Wycheproof: valid ones give 1, invalid ones (including
        // signatures of the wrong length, which make the input other than 160 bytes) give
        // empty output, and all cost exactly the price.
        let url = try Vectors.folder("wycheproof").appendingPathComponent("ecdsa_secp256r1_sha256_p1363_test.json")
        let root = try #require(try Vectors.json(url) as? [String: Any])
        var counts = [String: Int]()
        for group in root["testGroups"] as? [[String: Any]] ?? [] {
            let key = try #require((group["publicKey"] as? [String: Any])?["uncompressed"] as? String)
            let xy = Array(bytes(key).dropFirst())
            for test in group["tests"] as? [[String: Any]] ?? [] {
                let id = test["tcId"] as? Int ?? -1
                let result = test["result"] as? String ?? ""
                let digest = Array(SHA256.hash(data: bytes(test["msg"] as? String ?? "")))
                let input = digest + bytes(test["sig"] as? String ?? "") + xy
                let output = try #require(Precompiles.p256Verify(input, 3450))
                #expect(output.gasUsed == 3450)
                switch result {
                case "valid": #expect(output.output == Self.one, "tcId \(id)")
                case "invalid": #expect(output.output == [], "tcId \(id)")
                default: break
                }
                counts[result, default: 0] += 1
            }
        }
        #expect(counts["valid", default: 0] > 100 && counts["invalid", default: 0] > 50)
    }

    @Test func insufficientGasFails() {
        #expect(Precompiles.p256Verify(Self.validInput(), 3449) == nil)
        #expect(Precompiles.p256Verify([], 3449) == nil)
        #expect(Precompiles.p256Verify(Self.validInput(), 100_000)?.gasUsed == 3450)
    }
}
