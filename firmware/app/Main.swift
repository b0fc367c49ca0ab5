// The demonstration firmware: a P-256 or Ed25519 device that provisions its key, then signs
// what it observes and prints the frames on its serial port for `kramaa device bridge`
// (docs/FIRMWARE.md). Every operation is measured: peak stack, instructions, heap allocations.
//
// Command line (semihosting; on a real board these come from its configuration):
//   provision KEYFILE TYPE                    generate a key (TYPE 2 P-256, 3 Ed25519), store it, print its identity
//   run KEYFILE CHAINID NONCE MAXFEE EPC [RECIPIENT AGREEMENTKEY]
//                                             sign a reading, a reading transaction, an EPCIS capture and an MQTT envelope;
//                                             with a recipient device (0x address) and its X25519 agreement public key
//                                             (64 hex digits), also a sealed envelope to it on its inbox
//   bench TYPE                                the same frames with a fixed key, for the footprint figures

/// Frame memory, static (counted in .bss, not on the stack).
nonisolated(unsafe) var txMemory = InlineArray<1536, UInt8>(repeating: 0)
nonisolated(unsafe) var dataMemory = InlineArray<1024, UInt8>(repeating: 0)
nonisolated(unsafe) var documentMemory = InlineArray<768, UInt8>(repeating: 0)

/// The sensor: a temperature in hundredths of a degree (a real board reads its sensor here).
func readTemperature(_ now: UInt64) -> Int64 { 2315 + Int64(now % 50) - 25 }

@_cdecl("kramaa_firmware_main")
public func firmwareMain() {
    var uart = UART()
    uart.line("kramaa firmware on mps2-an386 (Cortex-M4), Embedded Swift")
    guard let mode = Argument(1) else { return fail(&uart, "usage: provision KEYFILE TYPE | run KEYFILE CHAINID NONCE MAXFEE EPC [RECIPIENT AGREEMENTKEY] | bench TYPE") }
    if mode.equals("provision") {
        guard let path = Argument(2), let type = Argument(3)?.number, type == 2 || type == 3 else { return fail(&uart, "usage: provision KEYFILE TYPE") }
        var entropy = BoardEntropy()
        let generated = measure(&uart, "keygen") { () -> DeviceKey? in try? DeviceKey.generate(typeCode: UInt8(type), entropy: &entropy) }
        guard let key = generated else { return fail(&uart, "key generation failed: the entropy source gave nothing usable") }
        guard store(key, at: path) else { return fail(&uart, "cannot write the key storage") }
        printIdentity(key, &uart)
    } else if mode.equals("run") {
        guard let path = Argument(2), let chainId = Argument(3)?.number, let nonce = Argument(4)?.number,
              let maxFee = Argument(5)?.number, let epc = Argument(6) else {
            return fail(&uart, "usage: run KEYFILE CHAINID NONCE MAXFEE EPC [RECIPIENT AGREEMENTKEY]")
        }
        guard let key = load(at: path) else { return fail(&uart, "no usable key in storage: provision first") }
        var sealTo: SealRecipient? = nil
        if let device = Argument(7) {
            var recipient = SealRecipient(device: Address20(repeating: 0), key: Bytes32(repeating: 0), ephemeral: Bytes32(repeating: 0))
            guard let agreementKey = Argument(8), withUnsafeMutableBytes(of: &recipient.device, { device.hex(into: $0) }),
                  withUnsafeMutableBytes(of: &recipient.key, { agreementKey.hex(into: $0) }) else {
                return fail(&uart, "RECIPIENT is a 0x address and AGREEMENTKEY 64 hex digits (an X25519 public key)")
            }
            var entropy = BoardEntropy()
            guard let ephemeral = try? HPKE.ephemeralSecret(&entropy) else { return fail(&uart, "no entropy for the ephemeral key") }
            recipient.ephemeral = ephemeral
            sealTo = recipient
        }
        epc.withBytes { sendAll(key, chainId: chainId, nonce: nonce, maxFee: maxFee, epc: $0, now: board_unix_time(), sealTo: sealTo, &uart) }
    } else if mode.equals("bench") {
        guard let type = Argument(2)?.number, type == 2 || type == 3 else { return fail(&uart, "usage: bench TYPE") }
        var secret = Bytes32(repeating: 0)
        for i in 0..<32 { secret[i] = UInt8(i + 1) }
        let key = measure(&uart, type == 2 ? "p256-key-from-secret" : "ed25519-key-from-secret") { try! DeviceKey(typeCode: UInt8(type), secret: secret) }
        let digest = Bytes32(repeating: 0x5a)
        _ = measure(&uart, type == 2 ? "p256-sign-digest" : "ed25519-sign-digest") { key.sign(digest: digest) }
        timingSpread(UInt8(type), &uart)
        x25519Spread(&uart)
        let epc: StaticString = "urn:epc:id:sgtin:0614141.107346.2018"
        // A sealed envelope too, to a fixed recipient, with an ephemeral key from fixed bytes
        // (the same instructions every run).
        var recipientSecret = Bytes32(repeating: 0)
        for i in 0..<32 { recipientSecret[i] = UInt8(0x40 + i) }
        var entropy = FixedEntropy()
        let recipient = SealRecipient(device: Address20(repeating: 0x42), key: measure(&uart, "x25519") { X25519.publicKey(recipientSecret) },
                                      ephemeral: try! HPKE.ephemeralSecret(&entropy))
        epc.withUTF8Buffer {
            sendAll(key, chainId: 1337, nonce: 0, maxFee: 2_000_000_000, epc: UnsafeRawBufferPointer($0), now: 1_767_225_600, sealTo: recipient, &uart)
        }
    } else {
        fail(&uart, "unknown mode: provision, run or bench")
    }
    uart.update(ascii: "kramaa-bench peak-stack-since-boot bytes=")
    uart.decimal(UInt64(board_stack_peak()))
    uart.update(0x0a)
    uart.line("done")
}

func fail(_ uart: inout UART, _ message: StaticString) {
    uart.update(ascii: "error: ")
    uart.line(message)
    board_exit(1)
}

/// Runs `body` and prints its figures: stack below the caller's frame at its deepest,
/// instructions (SysTick ticks at 25 MHz × 40 under `-icount shift=0`) and heap allocations.
func measure<R>(_ uart: inout UART, _ name: StaticString, _ body: () -> R) -> R {
    board_paint_stack()
    let base = board_stack_now(), allocations = board_allocations(), start = board_ticks()
    let result = body()
    let ticks = board_ticks() - start, allocated = board_allocations() - allocations
    let peak = board_stack_peak()
    uart.update(ascii: "kramaa-bench ")
    uart.update(ascii: name)
    uart.update(ascii: " stack=")
    uart.decimal(UInt64(peak > base ? peak - base : 0))
    uart.update(ascii: " instructions=")
    uart.decimal(ticks * 40)
    uart.update(ascii: " allocations=")
    uart.decimal(UInt64(allocated))
    uart.update(0x0a)
    return result
}

func printIdentity(_ key: DeviceKey, _ uart: inout UART) {
    var identity = InlineArray<34, UInt8>(repeating: 0)
    identity[0] = key.typeCode
    let count = key.publicKey.withBytes { pk in
        for i in 0..<pk.count { identity[i + 1] = pk[i] }
        return pk.count + 1
    }
    withUnsafeBytes(of: identity) { SerialFrame.write(.identity, UnsafeRawBufferPointer(rebasing: $0[0..<count]), to: &uart) }
}

/// Storage layout: key type (1 byte) ‖ secret (32 bytes).
func store(_ key: DeviceKey, at path: Argument) -> Bool {
    var record = InlineArray<33, UInt8>(repeating: 0)
    record[0] = key.typeCode
    let secret = key.secret
    for i in 0..<32 { record[i + 1] = secret[i] }
    defer { for i in 0..<33 { record[i] = 0 } }
    return path.withCString { p in withUnsafeBytes(of: record) { board_storage_write(p, $0.baseAddress!, 33) == 1 } }
}

func load(at path: Argument) -> DeviceKey? {
    var record = InlineArray<33, UInt8>(repeating: 0)
    defer { for i in 0..<33 { record[i] = 0 } }
    guard path.withCString({ p in withUnsafeMutableBytes(of: &record) { board_storage_read(p, $0.baseAddress!, 33) == 1 } }) else { return nil }
    var secret = Bytes32(repeating: 0)
    for i in 0..<32 { secret[i] = record[i + 1] }
    return try? DeviceKey(typeCode: record[0], secret: secret)
}

/// A device to seal an envelope to: its address and its registered X25519 agreement public key;
/// and the envelope's ephemeral secret (fresh from the board's entropy, one per envelope).
struct SealRecipient {
    var device: Address20
    var key: Bytes32
    var ephemeral: Bytes32
}

/// Signs and prints: the identity, a signed reading, a device transaction submitting another
/// reading, a device transaction capturing an EPCIS event, an MQTT CONNECT and PUBLISH of a
/// signed envelope, and (given a recipient) a PUBLISH of a sealed envelope to its inbox.
func sendAll(_ key: DeviceKey, chainId: UInt64, nonce: UInt64, maxFee: UInt64, epc: UnsafeRawBufferPointer, now: UInt64,
             sealTo: SealRecipient?, _ uart: inout UART) {
    printIdentity(key, &uart)
    let address = measure(&uart, "address") { key.address }
    let kind = SignedReading.kind(named: "air.temperature.centi-celsius")
    let sequence = now   // above every earlier one: a device that lost its counter restarts from its clock
    withUnsafeMutableBytes(of: &txMemory) { txRaw in
        withUnsafeMutableBytes(of: &dataMemory) { dataRaw in
            var tx = FrameBuffer(txRaw.bindMemory(to: UInt8.self))
            var data = FrameBuffer(dataRaw.bindMemory(to: UInt8.self))
            // 1. A signed reading, for the readings oracle (the bridge submits it).
            let reading = SignedReading(chainId: chainId, device: address, kind: kind, value: readTemperature(now), observedAt: now, sequence: sequence)
            let built = measure(&uart, "reading-frame") { try? reading.build(signedBy: key, into: &tx) }
            guard built != nil else { return fail(&uart, "the reading frame does not fit") }
            SerialFrame.write(.reading, tx.bytes, to: &uart)
            // 2. The device submits its next reading itself: a device transaction calling submitReading.
            let second = SignedReading(chainId: chainId, device: address, kind: kind, value: readTemperature(now + 1), observedAt: now, sequence: sequence + 1)
            let submitted = measure(&uart, "reading-transaction") { () -> Bool in
                guard (try? Calldata.submitReading(second, signature: key.sign(digest: second.digest), into: &data)) != nil else { return false }
                let call = DeviceTransaction(chainId: chainId, nonce: nonce, maxPriorityFeePerGas: 1_000_000_000, maxFeePerGas: maxFee,
                                             gasLimit: 200_000, to: Calldata.deviceReadings, data: data.bytes)
                return (try? call.build(signedBy: key, into: &tx)) != nil
            }
            guard submitted else { return fail(&uart, "the reading transaction does not fit") }
            SerialFrame.write(.transaction, tx.bytes, to: &uart)
            // 3. An EPCIS ObjectEvent for the asset the device is bound to, captured by the device.
            let captured = withUnsafeMutableBytes(of: &documentMemory) { docRaw in
                measure(&uart, "epcis-transaction") { () -> Bool in
                    var document = FrameBuffer(docRaw.bindMemory(to: UInt8.self))
                    EPCISDocument.write(epc: epc, time: now, temperature: readTemperature(now), device: address, chainId: chainId, into: &document)
                    guard document.overflowed == false, (try? Calldata.captureEvents(org: 0, document: document.bytes, into: &data)) != nil else { return false }
                    let call = DeviceTransaction(chainId: chainId, nonce: nonce + 1, maxPriorityFeePerGas: 1_000_000_000, maxFeePerGas: maxFee,
                                                 gasLimit: 1_500_000, to: Calldata.provenanceRegistry, data: data.bytes)
                    return (try? call.build(signedBy: key, into: &tx)) != nil
                }
            }
            guard captured else { return fail(&uart, "the EPCIS transaction does not fit") }
            SerialFrame.write(.transaction, tx.bytes, to: &uart)
            // 4. MQTT: CONNECT with a fresh token, then PUBLISH of a signed envelope on its telemetry topic.
            var nonceBytes = InlineArray<16, UInt8>(repeating: 0)
            guard withUnsafeMutableBytes(of: &nonceBytes, { board_entropy($0.baseAddress!, 16) }) == 1 else { return fail(&uart, "no entropy for the token nonce") }
            let connected = measure(&uart, "mqtt-connect") { () -> Bool in
                let token = DeviceTokenFrame(chainId: chainId, device: address, issuedAt: now, expiresAt: now + 600, nonce: nonceBytes).write(signedBy: key)
                let client: StaticString = "kramaa-firmware"
                return client.withUTF8Buffer { c in
                    (try? MQTTFrames.connect(clientIdentifier: UnsafeRawBufferPointer(c), keepAlive: 60, device: address, token: token, into: &tx)) != nil
                }
            }
            guard connected else { return fail(&uart, "the CONNECT does not fit") }
            SerialFrame.write(.mqttConnect, tx.bytes, to: &uart)
            let published = measure(&uart, "mqtt-publish") { () -> Bool in
                Telemetry.withTopic(address) { topic in
                    data.reset()
                    Telemetry.writePayload(value: readTemperature(now), observedAt: now, into: &data)
                    let payload = data.bytes
                    let contentType: StaticString = "application/json"
                    return contentType.withUTF8Buffer { ct in
                        guard (try? SignedEnvelopeFrame(chainId: chainId, sequence: now * 1000, timestamp: now * 1000, recipient: .topic(topic),
                                                        contentType: UnsafeRawBufferPointer(ct), payload: payload).build(signedBy: key, into: &tx)) != nil
                        else { return false }
                        // The envelope moves to the data buffer; the PUBLISH is built in the frame buffer.
                        data.reset()
                        data.update(tx.bytes)
                        return (try? MQTTFrames.publish(topic: topic, payload: data.bytes, qos: 1, packetIdentifier: 1, into: &tx)) != nil
                    }
                }
            }
            guard published else { return fail(&uart, "the PUBLISH does not fit") }
            SerialFrame.write(.mqttPublish, tx.bytes, to: &uart)
            // 5. The same reading sealed to another device (HPKE to its agreement key), on its inbox.
            if let recipient = sealTo { sendSealed(key, to: recipient, chainId: chainId, now: now, tx: &tx, data: &data, &uart) }
        }
    }
}

/// A sealed envelope of the reading to `recipient`, published on its inbox (its own function, so
/// its buffers are on the stack only while it runs).
@inline(never)
func sendSealed(_ key: DeviceKey, to recipient: SealRecipient, chainId: UInt64, now: UInt64, tx: inout FrameBuffer, data: inout FrameBuffer,
                _ uart: inout UART) {
    let sealed = measure(&uart, "mqtt-publish-sealed") { () -> Bool in
        data.reset()
        Telemetry.writePayload(value: readTemperature(now), observedAt: now, into: &data)
        let contentType: StaticString = "application/json"
        let built = contentType.withUTF8Buffer { ct in
            (try? SealedEnvelopeFrame(chainId: chainId, sequence: now * 1000 + 1, timestamp: now * 1000, recipient: recipient.device,
                                      recipientKey: recipient.key, contentType: UnsafeRawBufferPointer(ct), payload: data.bytes)
                .build(signedBy: key, ephemeralSecret: recipient.ephemeral, into: &tx)) != nil
        }
        guard built else { return false }
        data.reset()
        data.update(tx.bytes)
        var topicMemory = InlineArray<64, UInt8>(repeating: 0)
        return withUnsafeMutableBytes(of: &topicMemory) { raw in
            var topic = FrameBuffer(raw.bindMemory(to: UInt8.self))
            guard (try? MQTTFrames.inboxTopic(recipient.device, into: &topic)) != nil else { return false }
            return (try? MQTTFrames.publish(topic: topic.bytes, payload: data.bytes, qos: 1, packetIdentifier: 2, into: &tx)) != nil
        }
    }
    guard sealed else { return fail(&uart, "the sealed PUBLISH does not fit") }
    SerialFrame.write(.mqttPublish, tx.bytes, to: &uart)
}

/// Constant time, observed: the instructions of signing with four different secrets and digests
/// (QEMU counts instructions exactly under -icount, so a secret-dependent branch would show).
func timingSpread(_ type: UInt8, _ uart: inout UART) {
    printSpread("sign-instructions-over-4-secrets", &uart) { trial in
        var secret = Bytes32(repeating: 0), digest = Bytes32(repeating: 0)
        for i in 0..<32 {
            secret[i] = UInt8(truncatingIfNeeded: (i &* 37 &+ trial &* 101) ^ (trial == 3 ? 0x7f : 0))
            digest[i] = UInt8(truncatingIfNeeded: i &* 11 &+ trial &* 59)
        }
        if trial == 0 { secret[0] = 0x01; for i in 1..<32 { secret[i] = 0 } }   // a small scalar
        guard let key = try? DeviceKey(typeCode: type, secret: secret) else { return nil }
        let start = board_ticks()
        _ = key.sign(digest: digest)
        return (board_ticks() - start) * 40
    }
}

/// The same for X25519: four scalars (a small one among them) on one point.
func x25519Spread(_ uart: inout UART) {
    var point = X25519.basePoint
    point[0] = 0x2b
    printSpread("x25519-instructions-over-4-scalars", &uart) { trial in
        var scalar = Bytes32(repeating: 0)
        for i in 0..<32 { scalar[i] = UInt8(truncatingIfNeeded: (i &* 53 &+ trial &* 97) ^ (trial == 3 ? 0xff : 0)) }
        if trial == 0 { scalar[0] = 0x08; for i in 1..<32 { scalar[i] = 0 } }
        let start = board_ticks()
        _ = X25519.scalarMult(scalar, point)
        return (board_ticks() - start) * 40
    }
}

/// Runs `trial` 0 to 3 (each returns its instruction count, nil to skip) and prints
/// `kramaa-bench NAME min=… max=…`.
func printSpread(_ name: StaticString, _ uart: inout UART, _ trial: (Int) -> UInt64?) {
    var least = UInt64.max, most: UInt64 = 0
    for t in 0..<4 {
        guard let spent = trial(t) else { continue }
        least = min(least, spent)
        most = max(most, spent)
    }
    uart.update(ascii: "kramaa-bench ")
    uart.update(ascii: name)
    uart.update(ascii: " min=")
    uart.decimal(least)
    uart.update(ascii: " max=")
    uart.decimal(most)
    uart.update(0x0a)
}
