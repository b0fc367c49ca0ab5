import KramaaChain
import KramaaEVM
import KramaaMessaging
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// Devices' key-agreement keys in the device registry: set with the device's authorisation and
/// a proof of possession, rotated, revoked; unusable while the device is not active; every
/// refusal changes nothing.
@Suite struct AgreementKeyContractTests {
    typealias P = PlatformContractTests
    static let devices = DeviceRegistry.address

    /// A chain with the organisations and a P-256 device of organisation 1 (registered by key 1, a device manager).
    struct Setup {
        let chain = P.withOrganisations()
        let deviceKey = SigningKey(generating: .p256)
        var device: Address { deviceKey.publicKey.address }

        init() { #expect(P.registerDevice(chain, deviceKey.publicKey).success) }

        func setCall(_ key: AgreementPublicKey, possession: [UInt8], authorization: [UInt8], kemId: UInt64? = nil, bytes: [UInt8]? = nil) -> [UInt8] {
            DeviceRegistry.Method.setAgreementKey.callData([.address(device), .uint(UInt256(kemId ?? UInt64(key.type.rawValue))), .bytes(bytes ?? key.bytes),
                                                           .bytes(possession), .bytes(authorization)])
        }

        /// The call that sets `key` with both proofs made right (by the device's current key `signer`).
        func validCall(_ key: AgreementPrivateKey, signer: SigningKey? = nil) -> [UInt8] {
            setCall(key.publicKey, possession: AgreementKeyProof.prove(key, device: device, chainId: ContractChain.chainId),
                    authorization: AgreementKeyProof.authorize(key.publicKey, device: device, chainId: ContractChain.chainId, with: signer ?? deviceKey))
        }

        func read() throws -> DeviceAgreementKeyRecord {
            try DeviceClient(ContractChainCaller(chain, key: 0)).agreementKey(of: device)
        }
    }

    @Test(arguments: AgreementKeyType.allCases)
    func aDeviceManagerSetsTheKeyTheDeviceAuthorisedAndItReadsBack(type: AgreementKeyType) throws {
        let setup = Setup()
        #expect(try setup.read().kemId == 0 && setup.read().usable == false && setup.read().key == nil)
        let key = AgreementPrivateKey(generating: type)
        let result = setup.chain.send(1, Self.devices, setup.validCall(key))
        #expect(result.success)
        #expect(result.logs.map(\.topics) == [[DeviceRegistry.Event.agreementKeySet, Bytes32(UInt256(setup.device))]])
        #expect(result.logs.first?.data == ABI.encode([.uint(UInt256(UInt64(type.rawValue))), .bytes(key.publicKey.bytes)]))
        let record = try setup.read()
        #expect(record.kemId == UInt64(type.rawValue) && record.publicKey == key.publicKey.bytes)
        #expect(record.validFromBlock == setup.chain.head.number && record.usable && record.usableKey == key.publicKey)
        // What is sealed to the registered key opens with the device's private key.
        let (enc, ciphertext) = try HPKEBox.seal([7], to: try #require(record.usableKey), aead: .aes128GCM, info: [], aad: [])
        #expect(try HPKEBox.open(encapsulatedKey: enc, ciphertext: ciphertext, with: key, aead: .aes128GCM, info: [], aad: []) == [7])
    }

    @Test func theDeviceItselfSetsItsKeyAndRotatesIt() async throws {
        let chain = P.withOrganisations()
        // A secp256k1 device whose key is account 3, so it sends its own transactions.
        let signer = SigningKey.secp256k1(chain.keys[3])
        #expect(P.registerDevice(chain, signer.publicKey).success)
        let device = signer.publicKey.address
        let client = DeviceClient(ContractChainCaller(chain, key: 3))
        let first = AgreementPrivateKey(generating: .x25519), second = AgreementPrivateKey(generating: .p256)
        for key in [first, second] {
            _ = try await client.setAgreementKey(of: device, key.publicKey,
                                                 possession: AgreementKeyProof.prove(key, device: device, chainId: ContractChain.chainId),
                                                 authorization: AgreementKeyProof.authorize(key.publicKey, device: device, chainId: ContractChain.chainId, with: signer))
            #expect(try client.usableAgreementKey(of: device) == key.publicKey)
        }
        // The first key, rotated away, cannot come back (its proofs are still valid).
        await #expect(throws: ContractCallError.reverted(reason: "agreement key \(first.publicKey.keyHash) was registered already (to \(device)); generate a new one")) {
            _ = try await client.setAgreementKey(of: device, first.publicKey,
                                                 possession: AgreementKeyProof.prove(first, device: device, chainId: ContractChain.chainId),
                                                 authorization: AgreementKeyProof.authorize(first.publicKey, device: device, chainId: ContractChain.chainId, with: signer))
        }
    }

    @Test func badProofsWrongSignersUnknownTypesAndOutsidersChangeNothing() throws {
        let setup = Setup()
        let key = AgreementPrivateKey(generating: .x25519), other = AgreementPrivateKey(generating: .x25519)
        let chainId = ContractChain.chainId
        let authorization = AgreementKeyProof.authorize(key.publicKey, device: setup.device, chainId: chainId, with: setup.deviceKey)
        let possession = AgreementKeyProof.prove(key, device: setup.device, chainId: chainId)
        // Possession proven for another key, or for another device.
        P.expectRefusal(setup.chain, 1, Self.devices, setup.setCall(key.publicKey, possession: AgreementKeyProof.prove(other, device: setup.device, chainId: chainId),
                                                                    authorization: authorization),
                        AgreementKeyProofError.provingKeyMismatch.description)
        var tampered = possession
        tampered[40] ^= 1
        P.expectRefusal(setup.chain, 1, Self.devices, setup.setCall(key.publicKey, possession: tampered, authorization: authorization),
                        AgreementKeyProofError.badPossessionProof.description)
        // Authorised by a key that is not the device's (the manager's own), or not at all.
        let managerSigned = AgreementKeyProof.authorize(key.publicKey, device: setup.device, chainId: chainId, with: .secp256k1(setup.chain.keys[1]))
        P.expectRefusal(setup.chain, 1, Self.devices, setup.setCall(key.publicKey, possession: possession, authorization: managerSigned),
                        AgreementKeyProofError.badAuthorization.description)
        P.expectRefusal(setup.chain, 1, Self.devices, setup.setCall(key.publicKey, possession: possession, authorization: []),
                        AgreementKeyProofError.badAuthorization.description)
        // Unknown KEM, bytes that are not a key, an outsider, an unknown device.
        P.expectRefusal(setup.chain, 1, Self.devices, setup.setCall(key.publicKey, possession: possession, authorization: authorization, kemId: 0x21),
                        "unknown key-agreement key type 33 (0x20 X25519, 0x10 P-256)")
        P.expectRefusal(setup.chain, 1, Self.devices, setup.setCall(key.publicKey, possession: possession, authorization: authorization, bytes: [UInt8](repeating: 0, count: 32)),
                        "invalid x25519 key: not a usable x25519 key: a point of small order")
        P.expectRefusal(setup.chain, 2, Self.devices, setup.validCall(key), "\(setup.chain.addresses[2]) needs the deviceManager role in organisation 1")
        let stranger = SigningKey(generating: .ed25519).publicKey.address
        P.expectRefusal(setup.chain, 1, Self.devices, DeviceRegistry.Method.setAgreementKey.callData([.address(stranger), .uint(UInt256(0x20)),
                                                                                                      .bytes(key.publicKey.bytes), .bytes(possession), .bytes(authorization)]),
                        "no device \(stranger)")
        P.expectRefusal(setup.chain, 1, Self.devices, DeviceRegistry.Method.revokeAgreementKey.callData([.address(setup.device)]),
                        "device \(setup.device) has no agreement key")
        #expect(try setup.read().kemId == 0)
    }

    @Test func afterASigningKeyRotationOnlyTheNewKeyAuthorises() throws {
        let setup = Setup()
        let newSigner = SigningKey(generating: .ed25519)
        let rotation = DeviceRegistry.rotationMessage(chainId: ContractChain.chainId, device: setup.device, newKey: newSigner.publicKey)
        #expect(setup.chain.send(1, Self.devices, DeviceRegistry.Method.rotate.callData([
            .address(setup.device), .uint(UInt256(3)), .bytes(newSigner.publicKey.bytes), .bytes(newSigner.signature(for: rotation))])).success)
        let key = AgreementPrivateKey(generating: .p256)
        P.expectRefusal(setup.chain, 1, Self.devices, setup.validCall(key), AgreementKeyProofError.badAuthorization.description)
        #expect(setup.chain.send(1, Self.devices, setup.validCall(key, signer: newSigner)).success)
    }

    @Test func suspendedOrRevokedDevicesKeysAreNotUsableAndManagersRevokeKeys() throws {
        let setup = Setup()
        let key = AgreementPrivateKey(generating: .x25519)
        #expect(setup.chain.send(1, Self.devices, setup.validCall(key)).success)
        let status = { (code: UInt64) in DeviceRegistry.Method.setStatus.callData([.address(setup.device), .uint(UInt256(code))]) }
        let client = DeviceClient(ContractChainCaller(setup.chain, key: 0))
        #expect(try client.activeSigningKey(of: setup.device) == setup.deviceKey.publicKey)
        #expect(setup.chain.send(1, Self.devices, status(DeviceStatus.suspended.rawValue)).success)
        #expect(try client.activeSigningKey(of: setup.device) == nil)
        #expect(try setup.read().usable == false && setup.read().usableKey == nil && setup.read().key == key.publicKey)
        P.expectRefusal(setup.chain, 1, Self.devices, setup.validCall(AgreementPrivateKey(generating: .x25519)), "device \(setup.device) is not active")
        #expect(setup.chain.send(1, Self.devices, status(DeviceStatus.active.rawValue)).success)
        #expect(try setup.read().usableKey == key.publicKey)
        // Revocation by a device manager: an outsider cannot; after it the key is gone and cannot return.
        P.expectRefusal(setup.chain, 3, Self.devices, DeviceRegistry.Method.revokeAgreementKey.callData([.address(setup.device)]),
                        "\(setup.chain.addresses[3]) needs the deviceManager role in organisation 1")
        let revoked = setup.chain.send(1, Self.devices, DeviceRegistry.Method.revokeAgreementKey.callData([.address(setup.device)]))
        #expect(revoked.success && revoked.logs.first?.topics.first == DeviceRegistry.Event.agreementKeyRevoked)
        let record = try setup.read()
        #expect(record.kemId == 0 && record.publicKey.isEmpty && record.validFromBlock == nil && !record.usable)
        P.expectRefusal(setup.chain, 1, Self.devices, setup.validCall(key),
                        "agreement key \(key.publicKey.keyHash) was registered already (to \(setup.device)); generate a new one")
        // A revoked device reads as not usable even with a key set before.
        let fresh = AgreementPrivateKey(generating: .p256)
        #expect(setup.chain.send(1, Self.devices, setup.validCall(fresh)).success)
        #expect(setup.chain.send(1, Self.devices, status(DeviceStatus.revoked.rawValue)).success)
        #expect(try setup.read().usable == false && setup.read().key == fresh.publicKey)
        P.expectRefusal(setup.chain, 1, Self.devices, setup.validCall(AgreementPrivateKey(generating: .p256)), "device \(setup.device) is not active")
    }
}
