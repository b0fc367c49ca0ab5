import Foundation
import KramaaPrimitives
import Testing

@Suite struct KeyFileTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-keyfile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test(arguments: KeyType.allCases)
    func encodesAndDecodes(_ type: KeyType) throws {
        let key = SigningKey(generating: type)
        let decoded = try KeyFile(decoding: KeyFile(key).encoded())
        #expect(decoded.key.publicKey == key.publicKey)
        #expect(decoded.key.rawRepresentation == key.rawRepresentation)
    }

    @Test func writesPrivatelyAndRefusesToOverwrite() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/device.key"
        let first = KeyFile(SigningKey(generating: .p256))
        try first.write(to: path, overwrite: false)
        #expect(try Self.mode(path) == 0o600)
        #expect(try KeyFile.exposedPermissions(path: path) == 0)
        #expect(throws: KeyFileError.alreadyExists(path: path)) { try KeyFile(SigningKey(generating: .p256)).write(to: path, overwrite: false) }
        #expect(try KeyFile.read(path: path).key.publicKey == first.key.publicKey)

        let second = KeyFile(SigningKey(generating: .ed25519))
        try second.write(to: path, overwrite: true)
        #expect(try Self.mode(path) == 0o600)
        #expect(try KeyFile.read(path: path).key.publicKey == second.key.publicKey)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["device.key"])

        chmod(path, 0o644)
        #expect(try KeyFile.exposedPermissions(path: path) == 0o044)
    }

    @Test func badFilesGiveTypedErrors() throws {
        let key = SigningKey(generating: .secp256k1)
        let good = String(decoding: KeyFile(key).encoded(), as: UTF8.self)
        func decode(_ text: String) throws(KeyFileError) -> KeyFile { try KeyFile(decoding: Array(text.utf8)) }
        #expect(throws: KeyFileError.malformed("not JSON")) { try decode("nope") }
        #expect(throws: KeyFileError.malformed("not a JSON object")) { try decode("[1]") }
        #expect(throws: KeyFileError.malformed("missing string field 'privateKey'")) { try decode(#"{"type": "p256", "publicKey": "0x"}"#) }
        #expect(throws: KeyFileError.invalidKey(.unknownKeyType("rsa"))) { try decode(good.replacingOccurrences(of: "secp256k1", with: "rsa")) }
        #expect(throws: KeyFileError.invalidKey(.wrongPrivateKeyLength(.secp256k1, expected: 32, actual: 1))) {
            try decode(#"{"type": "secp256k1", "privateKey": "0x01", "publicKey": "0x"}"#)
        }
        #expect(throws: KeyFileError.invalidKey(.privateKeyOutOfRange(.secp256k1))) {
            try decode(#"{"type": "secp256k1", "privateKey": "0x\#(String(repeating: "00", count: 32))", "publicKey": "0x"}"#)
        }
        let other = Hex.encode(SigningKey(generating: .secp256k1).publicKey.bytes)
        #expect(throws: KeyFileError.publicKeyMismatch(stored: other, derived: Hex.encode(key.publicKey.bytes))) {
            try decode(good.replacingOccurrences(of: Hex.encode(key.publicKey.bytes), with: other))
        }
        #expect(throws: KeyFileError.self) { try decode(good.replacingOccurrences(of: "\"0x", with: "\"0xzz")) }
        #expect(throws: KeyFileError.io(path: "/nonexistent/kramaa.key", operation: "open", errno: ENOENT)) {
            try KeyFile.read(path: "/nonexistent/kramaa.key")
        }
    }
}
