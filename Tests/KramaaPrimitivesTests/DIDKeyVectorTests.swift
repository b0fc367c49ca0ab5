import BigInt
import Crypto
import Foundation
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// Runs every did:key vector file (`didkey/test-vectors`, `didkey/resolver-cases`) and the
/// base58btc rows of the multibase test tables.
@Suite struct DIDKeyVectorTests {
    static func files(_ folder: String) throws -> [String] {
        try Vectors.files(in: folder).map(\.lastPathComponent)
    }

    static func load(_ folder: String, _ name: String) throws -> Any {
        try Vectors.json(Vectors.folder(folder).appendingPathComponent(name))
    }

    /// Every did:key in a vector file: each DID string, and the DID named by each
    /// `#fragment` (a fragment of a did:key method id is the multibase key itself).
    static func allDIDs(in json: Any) -> [String] {
        var dids = Set<String>()
        visit(json) { value in
            guard let s = value as? String else { return }
            if s.hasPrefix("did:key:") {
                let parts = s.split(separator: "#", maxSplits: 1)
                dids.insert(String(parts[0]))
                if parts.count == 2 { dids.insert("did:key:" + parts[1]) }
            } else if s.hasPrefix("#z") {
                dids.insert("did:key:" + s.dropFirst())
            }
        }
        return dids.sorted()
    }

    static func visit(_ json: Any, _ body: (Any) -> Void) {
        body(json)
        if let object = json as? [String: Any] {
            for key in object.keys.sorted() { visit(object[key]!, body) }
        } else if let array = json as? [Any] {
            for element in array { visit(element, body) }
        }
    }

    @Test(arguments: try files("didkey/test-vectors"))
    func testVectorFile(_ name: String) throws {
        let json = try Self.load("didkey/test-vectors", name)
        var decoded: [String: DIDKey] = [:]
        var unsupported = 0
        for did in Self.allDIDs(in: json) {
            do {
                let key = try DIDKey(did)
                #expect(key.string == did, "\(name): \(did) re-encodes as \(key.string)")
                decoded[did] = key
            } catch {
                let expected: Set<Multicodec> = [.p384Pub, .p521Pub]
                guard case .unsupportedCodec(let codec) = error, expected.contains(codec) else {
                    Issue.record("\(name): \(did) failed to decode: \(error)")
                    continue
                }
                unsupported += 1
            }
        }

        // Each verification method's key material matches the DID its id names.
        var methods = 0, unsupportedMethods = 0
        Self.visit(json) { value in
            guard let method = value as? [String: Any], let id = method["id"] as? String,
                  let fragment = id.split(separator: "#", maxSplits: 1).last, id.contains("#") else { return }
            let did = "did:key:" + fragment
            guard let key = decoded[did] else {
                unsupportedMethods += 1
                return
            }
            methods += 1
            Self.checkMaterial(of: method, against: key, in: "\(name) \(id)")
        }

        // Entries with a seed: the key derived from it is the DID's key.
        var seeds = 0
        if let entries = json as? [String: Any] {
            for (did, entry) in entries {
                guard let seedHex = (entry as? [String: Any])?["seed"] as? String else { continue }
                let key = try #require(decoded[did], "\(name): seed entry for undecoded \(did)")
                let type = try #require(key.publicKey?.type)
                let derived = try SigningKey(type: type, rawRepresentation: [UInt8](hex: seedHex)).publicKey
                #expect(derived == key.publicKey, "\(name): seed of \(did) gives \(derived)")
                seeds += 1
            }
        }

        // Each Ed25519 DID's X25519 key-agreement DID (Edwards-to-Montgomery) is in the file.
        var conversions = 0
        for key in decoded.values {
            guard case .ed25519(let ed)? = key.publicKey, name.contains("x25519") else { continue }
            let x25519 = try DIDKey(x25519PublicKey: Self.montgomery(fromEdwards: ed.rawRepresentation))
            #expect(decoded[x25519.string] != nil, "\(name): \(x25519) (from \(key)) is not in the file")
            conversions += 1
        }

        print("didkey \(name): \(decoded.count + unsupported) DIDs (\(decoded.count) decoded and round-tripped, \(unsupported) unsupported P-384/P-521), \(methods) verification methods matched (\(unsupportedMethods) of unsupported curves), \(seeds) seeds derived, \(conversions) Ed25519→X25519 conversions")
        #expect(decoded.count + unsupported > 0, "\(name) has no DIDs")
    }

    /// Compares `publicKeyBase58`, `publicKeyMultibase`, `publicKeyJwk` and any private key
    /// of a verification method with the DID's key.
    static func checkMaterial(of method: [String: Any], against did: DIDKey, in context: String) {
        let keyBytes: [UInt8]
        switch did.key {
        case .signing(let key): keyBytes = key.bytes
        case .x25519(let bytes): keyBytes = bytes
        }
        if let base58 = method["publicKeyBase58"] as? String {
            #expect((try? Base58.decode(base58)) == keyBytes, "\(context): publicKeyBase58 differs from the DID's key")
        }
        if let multibase = method["publicKeyMultibase"] as? String {
            #expect(multibase == did.multibaseKey, "\(context): publicKeyMultibase differs")
        }
        if let jwk = method["publicKeyJwk"] as? [String: String] {
            switch (jwk["kty"], did.key) {
            case ("EC", .signing(.secp256k1(let key))):
                #expect(jwk["crv"] == "secp256k1")
                #expect(base64url(jwk["x"]) + base64url(jwk["y"]) == key.uncompressedXY, "\(context): JWK differs")
            case ("EC", .signing(.p256(let key))):
                #expect(jwk["crv"] == "P-256")
                #expect(base64url(jwk["x"]) + base64url(jwk["y"]) == key.uncompressedXY, "\(context): JWK differs")
            case ("OKP", _):
                #expect(base64url(jwk["x"]) == keyBytes, "\(context): JWK x differs")
            default:
                Issue.record("\(context): JWK \(jwk["kty"] ?? "?") does not fit \(did.codec)")
            }
        }
        let privateKey = (method["privateKeyBase58"] as? String).flatMap { try? Base58.decode($0) }
            ?? (method["privateKeyJwk"] as? [String: String]).map { base64url($0["d"]) }
        if let privateKey {
            switch did.key {
            case .signing(let key):
                let derived = try? SigningKey(type: key.type, rawRepresentation: privateKey).publicKey
                #expect(derived == key, "\(context): private key does not give the DID's key")
            case .x25519(let bytes):
                let derived = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey).publicKey.rawRepresentation
                #expect(derived.map(Array.init) == bytes, "\(context): X25519 private key does not give the DID's key")
            }
        }
    }

    static func base64url(_ text: String?) -> [UInt8] {
        var s = (text ?? "").replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init) ?? []
    }

    /// The X25519 public key of an Ed25519 public key: u = (1 + y) / (1 − y) mod p.
    static func montgomery(fromEdwards key: [UInt8]) -> [UInt8] {
        let p = BigUInt(1) << 255 - 19
        var littleEndian = key
        littleEndian[31] &= 0x7f
        let y = BigUInt(Data(littleEndian.reversed()))
        let u = (1 + y) * ((p + 1 - y) % p).inverse(p)! % p
        let bigEndian = Array(u.serialize())
        return (bigEndian.reversed() + [UInt8](repeating: 0, count: 32 - bigEndian.count))
    }

    @Test(arguments: try files("didkey/resolver-cases"))
    func resolverCase(_ name: String) throws {
        let json = try #require(try Self.load("didkey/resolver-cases", name) as? [String: Any])
        let did = try #require(json["did"] as? String)
        let negative = try #require(json["negative"] as? Bool)
        if negative {
            #expect(throws: DIDKeyError.self, "\(name): \(did) must not resolve") { try DIDKey(did) }
            if name == "notMultibase.json" {
                #expect(throws: DIDKeyError.notMultibase("t")) { try DIDKey(did) }
            }
            print("didkey resolver \(name): rejected as expected: \(Self.error(of: did))")
            return
        }
        let key = try DIDKey(did)
        let document = try #require((json["expected"] as? [String: Any])?["didDocument"] as? [String: Any])
        #expect(document["id"] as? String == key.string)
        var methods = (document["verificationMethod"] as? [[String: Any]] ?? [])
        methods += (document["keyAgreement"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
        #expect(!methods.isEmpty)
        for method in methods {
            let id = try #require(method["id"] as? String)
            let named = try DIDKey("did:key:" + id.split(separator: "#").last!)
            Self.checkMaterial(of: method, against: named, in: "\(name) \(id)")
            if case .x25519 = named.key, case .ed25519(let ed)? = key.publicKey {
                #expect(named == (try DIDKey(x25519PublicKey: Self.montgomery(fromEdwards: ed.rawRepresentation))))
            }
        }
        print("didkey resolver \(name): resolved \(key.codec) key, \(methods.count) verification methods matched")
    }

    static func error(of did: String) -> String {
        do { _ = try DIDKey(did); return "no error" } catch { return "\(error)" }
    }

    /// `multibase-test-*.csv`: the first row gives the input, the others one encoding each.
    /// Only base58btc is Kramaa's; other encodings are skipped by name.
    @Test func multibaseBase58btcRows() throws {
        let files = try Vectors.files(in: "didkey/multiformats", ext: "csv").filter { $0.lastPathComponent.hasPrefix("multibase-test-") }
        var rows = 0
        for url in files {
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
            let input = try #require(lines.first.flatMap(Self.quoted).map(Self.unescape), "\(url.lastPathComponent): no input row")
            for line in lines.dropFirst() {
                let name = line.split(separator: ",", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces)
                guard name == "base58btc", let encoded = Self.quoted(line) else { continue }
                #expect("z" + Base58.encode(input) == encoded, "\(url.lastPathComponent): encoding differs")
                #expect(encoded.first == "z")
                #expect(try Base58.decode(encoded.dropFirst()) == input, "\(url.lastPathComponent): decoding differs")
                rows += 1
            }
        }
        print("multibase: \(rows) base58btc rows checked in \(files.count) files (other encodings are not Kramaa's)")
        #expect(rows >= 3)
    }

    static func quoted(_ line: String) -> String? {
        guard let start = line.firstIndex(of: "\""), let end = line.lastIndex(of: "\""), start < end else { return nil }
        return String(line[line.index(after: start)..<end])
    }

    /// Bytes of a CSV cell, with `\xHH` escapes.
    static func unescape(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "\\"), i + 3 < utf8.count, utf8[i + 1] == UInt8(ascii: "x"),
               let byte = UInt8(String(decoding: utf8[i + 2...i + 3], as: UTF8.self), radix: 16) {
                out.append(byte)
                i += 4
            } else {
                out.append(utf8[i])
                i += 1
            }
        }
        return out
    }
}
