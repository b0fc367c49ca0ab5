import Foundation
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// docs/vectors/device-readings.json, the reading-signature vectors docs/DEVICES.md gives other
/// implementations: every case's key, digest and signature agree with the Swift code, and the
/// contract on a chain accepts its signature.
@Suite struct DeviceReadingVectorTests {
    struct Case: Decodable {
        let name, keyType, privateKey, publicKey, device, kindName, kind, value, preimage, digest, signature: String
        let keyTypeCode, chainId, observedAt, sequence: UInt64
        let deterministic: Bool
    }

    struct File: Decodable { let cases: [Case] }

    static func cases() throws -> [Case] {
        let url = Vectors.repositoryRoot.appendingPathComponent("docs/vectors/device-readings.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    static func reading(_ c: Case) throws -> DeviceReading {
        DeviceReading(device: try Address(hex: c.device), kind: try Bytes32(hex: c.kind),
                      valueWord: try #require(DeviceReading.parseSignedDecimal(c.value)), observedAt: c.observedAt, sequence: c.sequence)
    }

    @Test func everyCaseAgreesWithTheSwiftSignerAndVerifier() throws {
        let cases = try Self.cases()
        #expect(!cases.isEmpty)
        #expect(Set(cases.map(\.keyType)) == Set(KeyType.allCases.map(\.rawValue)), "every key type has a vector")
        for c in cases {
            let type = try KeyType(parsing: c.keyType)
            #expect(UInt64(type.code) == c.keyTypeCode, "\(c.name)")
            let key = try SigningKey(type: type, rawRepresentation: try Hex.decode(c.privateKey))
            #expect(key.publicKey.bytes == (try Hex.decode(c.publicKey)), "\(c.name)")
            #expect(key.publicKey.address == (try Address(hex: c.device)), "\(c.name)")
            #expect(DeviceReading.kind(named: c.kindName) == (try Bytes32(hex: c.kind)), "\(c.name)")
            let reading = try Self.reading(c)
            #expect(reading.signedDecimal == c.value, "\(c.name)")
            #expect(reading.preimage(chainId: c.chainId) == (try Hex.decode(c.preimage)), "\(c.name)")
            let digest = reading.digest(chainId: c.chainId)
            #expect(digest == (try Bytes32(hex: c.digest)), "\(c.name)")
            let signature = try Hex.decode(c.signature)
            #expect(key.publicKey.isValidSignature(signature, digest: digest), "\(c.name)")
            let own = reading.sign(with: key, chainId: c.chainId)
            #expect(key.publicKey.isValidSignature(own, digest: digest), "\(c.name)")
            if c.deterministic { #expect(own == signature, "\(c.name): a deterministic signature is reproduced") }
        }
    }

    @Test func theContractAcceptsEveryVectorSignature() throws {
        for c in try Self.cases() {
            #expect(c.chainId == ContractChain.chainId, "\(c.name): the vectors are for the devnet's chain id")
            let chain = PlatformContractTests.withOrganisations()
            let key = try SigningKey(type: try KeyType(parsing: c.keyType), rawRepresentation: try Hex.decode(c.privateKey))
            #expect(PlatformContractTests.registerDevice(chain, key.publicKey).success)
            let reading = try Self.reading(c)
            let client = DeviceReadingsClient(ContractChainCaller(chain, key: 3))
            #expect(try client.verify(device: reading.device, digest: try Bytes32(hex: c.digest), signature: try Hex.decode(c.signature)), "\(c.name)")
        }
    }
}
