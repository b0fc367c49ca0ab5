import Foundation
import KramaaChain
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The device readings contract: readings signed by registered devices of each key type are
/// accepted and read back; forged, replayed, future and inactive-device readings are refused
/// with their reason and change nothing; signature checks are charged as the precompiles.
@Suite struct DeviceReadingsContractTests {
    typealias P = PlatformContractTests
    static let readings = DeviceReadings.address
    static let moisture = DeviceReading.kind(named: "soil.moisture")

    /// A chain with the organisations and one device of `type` registered by key 1 (a device manager).
    struct Setup {
        let chain = P.withOrganisations()
        let key: SigningKey
        var device: Address { key.publicKey.address }
        var client: DeviceReadingsClient<ContractChainCaller> { DeviceReadingsClient(ContractChainCaller(chain, key: 3)) }

        init(_ type: KeyType) {
            key = SigningKey(generating: type)
            #expect(P.registerDevice(chain, key.publicKey).success)
        }

        /// A reading of `value` observed at the next block's time.
        func reading(_ value: Int64, sequence: UInt64, observedAt: UInt64? = nil, kind: Bytes32 = moisture) -> DeviceReading {
            DeviceReading(device: device, kind: kind, value: value, observedAt: observedAt ?? chain.head.timestamp + 1, sequence: sequence)
        }

        /// Submits `reading` signed by `signer` (default the device's key) from the outsider key 3.
        @discardableResult
        func submit(_ reading: DeviceReading, signedBy signer: SigningKey? = nil) -> (success: Bool, output: [UInt8], logs: [Log]) {
            chain.send(3, readings, reading.submitCallData(signature: reading.sign(with: signer ?? key, chainId: ContractChain.chainId)))
        }

        /// Submits calldata that must be refused with `reason`, and checks that nothing changed.
        func expectRefusal(_ data: [UInt8], _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let before = (chain.storage(readings), try client.latest(device: device, kind: moisture))
            let result = chain.send(3, readings, data)
            #expect(!result.success && result.logs.isEmpty, sourceLocation: sourceLocation)
            #expect(ContractChain.revertReason(result.output) == reason, sourceLocation: sourceLocation)
            #expect(chain.storage(readings) == before.0, sourceLocation: sourceLocation)
            #expect(try client.latest(device: device, kind: moisture) == before.1, sourceLocation: sourceLocation)
        }

        func verify(_ digest: Bytes32, _ signature: [UInt8], device: Address? = nil) throws -> Bool {
            try client.verify(device: device ?? self.device, digest: digest, signature: signature)
        }
    }

    @Test(arguments: KeyType.allCases)
    func aSignedReadingOfEachKeyTypeIsAcceptedAndReadBack(type: KeyType) throws {
        let setup = Setup(type)
        #expect(try setup.client.latest(device: setup.device, kind: Self.moisture) == nil)
        let reading = setup.reading(-1250, sequence: 1)
        let result = setup.submit(reading)
        #expect(result.success, "\(ContractChain.revertReason(result.output) ?? "")")
        #expect(result.logs.map(\.topics) == [[DeviceReadings.Event.accepted, Bytes32(UInt256(setup.device)), Self.moisture]])
        #expect(result.logs.first?.data == ABI.encode([.uint(reading.value), .uint(UInt256(reading.observedAt)), .uint(UInt256(1))]))
        let latest = try #require(try setup.client.latest(device: setup.device, kind: Self.moisture))
        #expect(latest.reading == reading && latest.blockNumber == setup.chain.head.number && latest.reading.signedDecimal == "-1250")
        // The contract's digest is the client's, and the signature verifies on chain.
        let digest = try P.decode(setup.chain.read(Self.readings, DeviceReadings.Method.digest.callData([
            .address(reading.device), .fixedBytes(reading.kind), .uint(reading.value), .uint(UInt256(reading.observedAt)), .uint(UInt256(reading.sequence)),
        ]))) { try $0.nextBytes32() }
        #expect(digest == reading.digest(chainId: ContractChain.chainId))
        #expect(try setup.verify(digest, reading.sign(with: setup.key, chainId: ContractChain.chainId)))
        // A later reading replaces it; another kind is kept apart.
        #expect(setup.submit(setup.reading(40, sequence: 5)).success)
        #expect(setup.submit(setup.reading(7, sequence: 1, kind: DeviceReading.kind(named: "air.humidity"))).success)
        #expect(try setup.client.latest(device: setup.device, kind: Self.moisture)?.reading.value == UInt256(40))
    }

    @Test func forgedReplayedFutureAndUnknownReadingsAreRefusedAndChangeNothing() throws {
        let setup = Setup(.p256)
        #expect(setup.submit(setup.reading(10, sequence: 5)).success)
        let device = setup.device
        let forged = setup.reading(11, sequence: 6)
        try setup.expectRefusal(forged.submitCallData(signature: forged.sign(with: SigningKey(generating: .p256), chainId: ContractChain.chainId)),
                                "the signature is not device \(device)'s signature of the reading digest by its current p256 key")
        let tampered = setup.reading(11, sequence: 6)
        var changed = tampered
        changed.value = UInt256(99)
        try setup.expectRefusal(changed.submitCallData(signature: tampered.sign(with: setup.key, chainId: ContractChain.chainId)),
                                "the signature is not device \(device)'s signature of the reading digest by its current p256 key")
        for sequence: UInt64 in [5, 4] {
            let replay = setup.reading(12, sequence: sequence)
            try setup.expectRefusal(replay.submitCallData(signature: replay.sign(with: setup.key, chainId: ContractChain.chainId)),
                                    "sequence \(sequence) is not above 5, the last accepted of device \(device) for kind \(Self.moisture): a replay")
        }
        let blockTime = setup.chain.head.timestamp + 1
        let future = setup.reading(13, sequence: 6, observedAt: blockTime + 301)
        try setup.expectRefusal(future.submitCallData(signature: future.sign(with: setup.key, chainId: ContractChain.chainId)),
                                "observedAt \(blockTime + 301) is more than 300 s after the block's time \(blockTime): the device's clock is ahead")
        let stranger = SigningKey(generating: .ed25519)
        let unknown = DeviceReading(device: stranger.publicKey.address, kind: Self.moisture, value: 1, observedAt: blockTime, sequence: 1)
        try setup.expectRefusal(unknown.submitCallData(signature: unknown.sign(with: stranger, chainId: ContractChain.chainId)),
                                "no device \(stranger.publicKey.address)")
        // The limit itself (300 s ahead) is accepted.
        #expect(setup.submit(setup.reading(14, sequence: 6, observedAt: setup.chain.head.timestamp + 1 + 300)).success)
    }

    @Test func suspendedRevokedAndRotatedAwayKeysSignNothing() throws {
        let setup = Setup(.ed25519)
        let device = setup.device
        let status = { (code: UInt64) in setup.chain.send(1, DeviceRegistry.address, DeviceRegistry.Method.setStatus.callData([.address(device), .uint(UInt256(code))])) }
        let signed = { (reading: DeviceReading, key: SigningKey) in reading.submitCallData(signature: reading.sign(with: key, chainId: ContractChain.chainId)) }

        #expect(status(2).success)
        try setup.expectRefusal(signed(setup.reading(1, sequence: 1), setup.key), "device \(device) is suspended; it signs nothing now")
        #expect(status(1).success)

        // Rotated to a P-256 key: the old key's readings are refused, the new key's accepted.
        let next = SigningKey(generating: .p256)
        let message = DeviceRegistry.rotationMessage(chainId: ContractChain.chainId, device: device, newKey: next.publicKey)
        #expect(setup.chain.send(1, DeviceRegistry.address, DeviceRegistry.Method.rotate.callData([
            .address(device), .uint(UInt256(2)), .bytes(next.publicKey.bytes), .bytes(next.signature(for: message))])).success)
        let old = setup.reading(2, sequence: 1)
        try setup.expectRefusal(signed(old, setup.key), "the signature is not device \(device)'s signature of the reading digest by its current p256 key")
        #expect(try !setup.verify(old.digest(chainId: ContractChain.chainId), old.sign(with: setup.key, chainId: ContractChain.chainId)))
        #expect(try setup.verify(old.digest(chainId: ContractChain.chainId), old.sign(with: next, chainId: ContractChain.chainId)))
        #expect(setup.chain.send(3, Self.readings, signed(old, next)).success)

        #expect(status(3).success)
        let late = setup.reading(3, sequence: 2)
        try setup.expectRefusal(signed(late, next), "device \(device) is revoked; it signs nothing now")
        #expect(try !setup.verify(late.digest(chainId: ContractChain.chainId), late.sign(with: next, chainId: ContractChain.chainId)))
    }

    @Test func verifyDeviceSignatureAnswersFalseRatherThanReverting() throws {
        let setup = Setup(.secp256k1)
        let digest = Keccak256.hash(Array("any digest".utf8))
        let good = setup.key.signature(digest: digest)
        #expect(good.count == 65 && (good[64] == 27 || good[64] == 28))
        #expect(try setup.verify(digest, good))
        #expect(try setup.verify(digest, Array(good.prefix(64)) + [good[64] - 27]))  // v as 0/1
        #expect(try !setup.verify(digest, Array(good.prefix(64)) + [good[64] == 27 ? 28 : 27]))  // the other v names another signer
        #expect(try !setup.verify(digest, Array(good.prefix(64)) + [2]))
        #expect(try !setup.verify(digest, Array(good.prefix(64))))  // wrong length
        #expect(try !setup.verify(Keccak256.hash([1]), good))
        #expect(try !setup.verify(digest, good, device: SigningKey(generating: .p256).publicKey.address))  // unknown device

        // High s: the same ECDSA signature with s' = n − s is refused for P-256 and secp256k1.
        let p256 = SigningKey(generating: .p256)
        #expect(P.registerDevice(setup.chain, p256.publicKey).success)
        let low = p256.signature(digest: digest)
        let high = Array(low.prefix(32)) + (UInt256(Secp256r1.order) &- UInt256(try Bytes32(low.suffix(32)))).bigEndianBytes
        #expect(try setup.verify(digest, low, device: p256.publicKey.address))
        #expect(try !setup.verify(digest, high, device: p256.publicKey.address))
        let k1High = Array(good.prefix(32)) + (UInt256(Secp256k1.order) &- UInt256(try Bytes32(good[32..<64]))).bigEndianBytes + [good[64] ^ 1]
        #expect(try !setup.verify(digest, k1High))

        // Ed25519 with S + L (the same point equation, a malleated encoding) is refused.
        let ed = SigningKey(generating: .ed25519)
        #expect(P.registerDevice(setup.chain, ed.publicKey).success)
        let edSignature = ed.signature(digest: digest)
        let s = UInt256(try Bytes32(edSignature.suffix(32).reversed())) &+ DeviceRules.ed25519Order
        #expect(try setup.verify(digest, edSignature, device: ed.publicKey.address))
        #expect(try !setup.verify(digest, Array(edSignature.prefix(32)) + s.bigEndianBytes.reversed(), device: ed.publicKey.address))
    }

    /// Gas a read-only call used (ContractChain.read gives 10,000,000).
    static func gasUsed(_ chain: ContractChain, _ data: [UInt8]) -> Int64 { 10_000_000 - chain.read(readings, data).gasLeft }

    @Test func signatureChecksAreChargedAsThePrecompiles() throws {
        let setup = Setup(.p256)
        let k1 = SigningKey(generating: .secp256k1)
        #expect(P.registerDevice(setup.chain, k1.publicKey).success)
        let digest = Keccak256.hash([7])
        let verify = { (device: Address, signature: [UInt8]) in
            DeviceReadings.Method.verify.callData([.address(device), .fixedBytes(digest), .bytes(signature)])
        }
        // Both keys are 33 bytes, so the calls read the same slots; only the check's price differs.
        let p256Gas = Self.gasUsed(setup.chain, verify(setup.device, setup.key.signature(digest: digest)))
        let k1Gas = Self.gasUsed(setup.chain, verify(k1.publicKey.address, k1.signature(digest: digest)))
        #expect(p256Gas - k1Gas == Precompiles.p256VerifyGas - Precompiles.ecrecoverGas)
        let unknownGas = Self.gasUsed(setup.chain, verify(SigningKey(generating: .p256).publicKey.address, []))
        #expect(p256Gas - unknownGas > Precompiles.p256VerifyGas)
        // A first reading pays two new slots, the signature check and the log.
        let block = setup.chain.mine([(3, Self.readings, setup.reading(1, sequence: 1).submitCallData(
            signature: setup.reading(1, sequence: 1).sign(with: setup.key, chainId: ContractChain.chainId)))])
        #expect(block.receipts[0].success)
        #expect(block.receipts[0].cumulativeGasUsed > 21_000 + 2 * 20_000 + UInt64(Precompiles.p256VerifyGas) + 375 + 3 * 375 + 96 * 8)
    }
}
