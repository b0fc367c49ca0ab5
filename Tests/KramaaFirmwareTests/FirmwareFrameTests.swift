import KramaaChain
import KramaaFirmware
import KramaaMessaging
import KramaaMQTT
import KramaaPlatform
import KramaaPrimitives
import Testing

/// Each frame the firmware builds against the node's own code for the same inputs, over random
/// inputs: byte-identical for Ed25519 (deterministic, as the node's signer), and for P-256 the
/// same bytes but the signature (the node signs with random nonces), which the node's verifier
/// accepts.
@Suite struct FirmwareFrameTests {
    static let keyTypes: [UInt8] = [2, 3]


    @Test(arguments: keyTypes) func deviceTransactionsAreTheNodes(type: UInt8) throws {
        var rng = SplitMix64(seed: 10 + UInt64(type))
        for round in 0..<20 {
            let (firmware, node) = try keyPair(type, randomSecret(type, &rng))
            let chainId = UInt64.random(in: 1...UInt64(UInt32.max), using: &rng)
            let nonce = round == 0 ? 0 : UInt64.random(in: 0...UInt64.max - 1, using: &rng)
            let tip = UInt64.random(in: 0...1_000_000_000, using: &rng), cap = tip + UInt64.random(in: 0...UInt64(UInt32.max), using: &rng)
            let gas = UInt64.random(in: 21_000...10_000_000, using: &rng), value = round % 3 == 0 ? 0 : UInt64.random(in: 0...UInt64.max, using: &rng)
            let to = rng.bytes(20), data = rng.bytes([0, 1, 55, 56, 300, 1200][round % 6])
            let (wire, hash) = try withFrameBuffer(capacity: 2048) { out in
                let tx = data.withUnsafeBytes {
                    KramaaFirmware.DeviceTransaction(chainId: chainId, nonce: nonce, maxPriorityFeePerGas: tip, maxFeePerGas: cap, gasLimit: gas,
                                                     to: Address20(to), value: value, data: $0)
                }
                let hash = try tx.build(signedBy: firmware, into: &out)
                return (out.array, hash.array)
            }
            let decoded = try Transaction.decode(wire)
            #expect(decoded.encoded == wire, "canonical: the node re-encodes the same bytes")
            #expect(decoded.hash.bytes == hash)
            #expect(try decoded.validatedSender(chainId: chainId) == node.publicKey.address, "the node verifies the device signature")
            let expected = try Transaction.device(publicKey: node.publicKey, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: UInt256(tip),
                                                  maxFeePerGas: UInt256(cap), gasLimit: gas, to: try Address(to), value: UInt256(value), data: data)
            #expect(decoded.signingHash == expected.signingHash)
            if type == 3 { #expect(try expected.signedAsDevice(with: node).encoded == wire, "Ed25519: byte-identical") }
        }
    }

    @Test func aTamperedDeviceTransactionIsRefusedByTheNode() throws {
        var rng = SplitMix64(seed: 12)
        let (firmware, _) = try keyPair(2, randomSecret(2, &rng))
        var wire = try withFrameBuffer { out in
            let tx = KramaaFirmware.DeviceTransaction(chainId: 1337, nonce: 1, maxPriorityFeePerGas: 1, maxFeePerGas: 2_000_000_000, gasLimit: 100_000,
                                                      to: Calldata.deviceReadings, data: UnsafeRawBufferPointer(start: nil, count: 0))
            try tx.build(signedBy: firmware, into: &out)
            return out.array
        }
        wire[4] ^= 1   // the nonce
        #expect(throws: (any Error).self) { try Transaction.decode(wire).validatedSender(chainId: 1337) }
    }

    @Test func captureCalldataIsTheNodes() throws {
        var rng = SplitMix64(seed: 13)
        for length in [0, 1, 31, 32, 33, 500] {
            let document = rng.bytes(length), org = UInt64.random(in: 0...1000, using: &rng)
            let firmware = try withFrameBuffer { out in
                try document.withUnsafeBytes { try Calldata.captureEvents(org: org, document: $0, into: &out) }
                return out.array
            }
            #expect(firmware == ProvenanceRegistry.Method.capture.callData([.uint(UInt256(org)), .bytes(document)]))
            #expect(Calldata.provenanceRegistry.array == ProvenanceRegistry.address.bytes)
        }
    }

    @Test(arguments: keyTypes) func readingsAreTheNodes(type: UInt8) throws {
        var rng = SplitMix64(seed: 20 + UInt64(type))
        for _ in 0..<20 {
            let (firmware, node) = try keyPair(type, randomSecret(type, &rng))
            let value = Int64.random(in: Int64.min...Int64.max, using: &rng)
            let observedAt = UInt64.random(in: 0...UInt64(UInt32.max), using: &rng), sequence = UInt64.random(in: 0...UInt64.max, using: &rng)
            let kind = rng.bytes(32), chainId = UInt64.random(in: 1...100_000, using: &rng)
            let reading = SignedReading(chainId: chainId, device: firmware.address, kind: KramaaFirmware.Bytes32(kind), value: value,
                                        observedAt: observedAt, sequence: sequence)
            let nodeReading = DeviceReading(device: node.publicKey.address, kind: try KramaaPrimitives.Bytes32(kind), value: value,
                                            observedAt: observedAt, sequence: sequence)
            let (frame, signature) = try withFrameBuffer { out in
                let signature = try reading.build(signedBy: firmware, into: &out)
                return (out.array, signature.array)
            }
            #expect(Array(frame[0..<122]) == nodeReading.preimage(chainId: chainId))
            #expect(Array(frame[122...]) == signature)
            #expect(reading.digest.array == nodeReading.digest(chainId: chainId).bytes)
            #expect(node.publicKey.isValidSignature(signature, digest: nodeReading.digest(chainId: chainId)), "the oracle's verifier accepts it")
            if type == 3 { #expect(signature == nodeReading.sign(with: node, chainId: chainId)) }
            let calldata = try withFrameBuffer { out in
                try Calldata.submitReading(reading, signature: KramaaFirmware.Bytes64(signature), into: &out)
                return out.array
            }
            #expect(calldata == nodeReading.submitCallData(signature: signature))
        }
        #expect(SignedReading.kind(named: "soil.moisture").array == DeviceReading.kind(named: "soil.moisture").bytes)
    }

    @Test(arguments: keyTypes) func tokensAreTheNodes(type: UInt8) throws {
        var rng = SplitMix64(seed: 30 + UInt64(type))
        for _ in 0..<10 {
            let (firmware, node) = try keyPair(type, randomSecret(type, &rng))
            let chainId = UInt64.random(in: 1...100_000, using: &rng), now = UInt64.random(in: 1_700_000_000...1_900_000_000, using: &rng)
            let nonce = rng.bytes(16)
            let frame = DeviceTokenFrame(chainId: chainId, device: firmware.address, issuedAt: now, expiresAt: now + 600,
                                         nonce: InlineArray<16, UInt8>(nonce)).write(signedBy: firmware).array
            let expected = DeviceToken.make(key: node, device: node.publicKey.address, chainId: chainId, ttl: 600, now: now, nonce: nonce)
            #expect(Array(frame[0..<81]) == Array(expected.bytes[0..<81]))
            if type == 3 { #expect(frame == expected.bytes) }
            let parsed = try DeviceToken.parse(DeviceToken.textPrefix + KramaaPrimitives.Base64URL.encode(frame))
            try parsed.verify(device: node.publicKey.address, chainId: chainId, registeredKey: node.publicKey, now: now + 1, maximumTTL: 86_400)
        }
    }

    @Test(arguments: keyTypes) func envelopesAreTheNodes(type: UInt8) throws {
        var rng = SplitMix64(seed: 40 + UInt64(type))
        for round in 0..<16 {
            let (firmware, node) = try keyPair(type, randomSecret(type, &rng))
            let chainId = UInt64.random(in: 1...100_000, using: &rng), sequence = UInt64.random(in: 0...UInt64.max, using: &rng)
            let timestamp = UInt64.random(in: 0...UInt64(1) << 45, using: &rng)
            let payload = rng.bytes([0, 1, 60, 400][round % 4]), contentType = Array((round % 2 == 0 ? "application/json" : "").utf8)
            let recipientDevice = rng.bytes(20), topic = Array("devices/\(hex(firmware.address.array))/telemetry".utf8)
            let wire = try withFrameBuffer { out in
                try payload.withUnsafeBytes { p in
                    try contentType.withUnsafeBytes { c in
                        try topic.withUnsafeBytes { t in
                            let target: EnvelopeTarget = round % 2 == 0 ? .topic(t) : .device(Address20(recipientDevice))
                            try SignedEnvelopeFrame(chainId: chainId, sequence: sequence, timestamp: timestamp, recipient: target,
                                                    contentType: c, payload: p).build(signedBy: firmware, into: &out)
                        }
                    }
                }
                return out.array
            }
            let recipient: EnvelopeRecipient = round % 2 == 0 ? .topic(String(decoding: topic, as: UTF8.self)) : .device(try Address(recipientDevice))
            let expected = try SignedEnvelope.sign(payload, contentType: String(decoding: contentType, as: UTF8.self), to: recipient,
                                                   from: node.publicKey.address, key: node, sequence: sequence, timestamp: timestamp, chainId: chainId)
            let parsed = try SignedEnvelope(parsing: wire)
            try parsed.verify(chainId: chainId, senderKey: node.publicKey)
            #expect(parsed.payload == payload && parsed.recipient == recipient && parsed.origin == expected.origin)
            if type == 3 { #expect(wire == expected.wireBytes) }
        }
    }

    @Test func mqttPacketsAreTheNodesCodecs() throws {
        var rng = SplitMix64(seed: 50)
        let (firmware, node) = try keyPair(3, randomSecret(3, &rng))
        let token = DeviceTokenFrame(chainId: 1337, device: firmware.address, issuedAt: 1_800_000_000, expiresAt: 1_800_000_600,
                                     nonce: InlineArray<16, UInt8>(rng.bytes(16))).write(signedBy: firmware)
        let clientID = Array("fw-device".utf8)
        let connect = try withFrameBuffer { out in
            try clientID.withUnsafeBytes { try MQTTFrames.connect(clientIdentifier: $0, keepAlive: 60, device: firmware.address, token: token, into: &out) }
            return out.array
        }
        let text = DeviceToken.textPrefix + KramaaPrimitives.Base64URL.encode(token.array)
        let expected = MQTTConnect(version: .v5, clientIdentifier: "fw-device", cleanStart: true, keepAlive: 60,
                                   userName: node.publicKey.address.description.lowercased(), password: Array(text.utf8))
        #expect(connect == expected.frame.encoded)
        for (size, qos) in [(0, UInt8(1)), (10, 0), (127, 1), (128, 2), (20_000, 1)] {
            let payload = rng.bytes(size), topic = Array("devices/abc/telemetry".utf8)
            let publish = try withFrameBuffer(capacity: 30_000) { out in
                try payload.withUnsafeBytes { p in try topic.withUnsafeBytes { t in try MQTTFrames.publish(topic: t, payload: p, qos: qos, packetIdentifier: 7, into: &out) } }
                return out.array
            }
            let packet = MQTTPublish(topic: "devices/abc/telemetry", payload: payload, qos: qos, packetIdentifier: qos > 0 ? 7 : nil)
            #expect(publish == packet.frame(version: .v5).encoded, "PUBLISH of \(size) bytes at QoS \(qos)")
        }
        let disconnect = try withFrameBuffer { out in try MQTTFrames.disconnect(into: &out); return out.array }
        #expect(disconnect == [0xe0, 0x00])
    }

    @Test func framesRefuseWhatTheirFormatForbidsAndBuffersTooSmall() throws {
        var rng = SplitMix64(seed: 60)
        let (firmware, _) = try keyPair(2, randomSecret(2, &rng))
        let wildcard = Array("devices/+/x".utf8), empty: [UInt8] = []
        #expect(throws: FrameError.invalidField) {
            try withFrameBuffer { out in
                try wildcard.withUnsafeBytes { t in try empty.withUnsafeBytes { e in
                    try SignedEnvelopeFrame(chainId: 1, sequence: 1, timestamp: 1, recipient: .topic(t), contentType: e, payload: e).build(signedBy: firmware, into: &out)
                } }
            }
        }
        #expect(throws: FrameError.bufferTooSmall) {
            try withFrameBuffer(capacity: 100) { out in
                let tx = KramaaFirmware.DeviceTransaction(chainId: 1, nonce: 0, maxPriorityFeePerGas: 1, maxFeePerGas: 1, gasLimit: 21_000,
                                                          to: Calldata.deviceReadings, data: UnsafeRawBufferPointer(start: nil, count: 0))
                try tx.build(signedBy: firmware, into: &out)
            }
        }
    }
}
