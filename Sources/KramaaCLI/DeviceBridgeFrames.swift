import Foundation
import KramaaChain
import KramaaMessaging
import KramaaMQTT
import KramaaPlatform
import KramaaPrimitives

/// Why the bridge refused a frame: nothing of it was forwarded.
struct BridgeRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A frame from a device's serial line (docs/FIRMWARE.md, "Serial frames"), checked before it is
/// forwarded: `kramaa-frame <kind> <hex> <check>`, the check the first 4 bytes of
/// keccak256(kind ‖ 0x00 ‖ bytes), and every signature verified for the device's identity key.
enum DeviceFrame {
    /// `identity`: the key of the device whose frames follow.
    case identity(PublicKey)
    /// `reading`: a signed reading (122-byte preimage ‖ 64-byte signature).
    case reading(DeviceReading, chainId: UInt64, signature: [UInt8])
    /// `tx`: a device transaction (type 0x4b).
    case transaction(Transaction, raw: [UInt8])
    /// `mqtt-connect`: a CONNECT with the device token as password.
    case mqttConnect(raw: [UInt8], token: DeviceToken)
    /// `mqtt-publish`: a PUBLISH of a signed or sealed envelope.
    case mqttPublish(raw: [UInt8], topic: String, envelope: Envelope)

    static let prefix = "kramaa-frame "

    /// Whether a line is meant as a frame (any other line is the device's log).
    static func isFrame(_ line: String) -> Bool { line.hasPrefix(prefix) }

    /// The kind and bytes of a frame line, its check verified.
    static func split(_ line: String) throws(BridgeRefusal) -> (kind: String, bytes: [UInt8]) {
        let parts = line.dropFirst(prefix.count).split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw BridgeRefusal("malformed frame: expected `kramaa-frame KIND HEX CHECK`, got \(parts.count) fields after the prefix") }
        let kind = String(parts[0])
        guard let bytes = try? Hex.decode(parts[1]), parts[1].count % 2 == 0 else { throw BridgeRefusal("malformed frame: the \(kind) bytes are not hex") }
        let check = Keccak256.hash(Array(kind.utf8) + [0] + bytes).bytes.prefix(4)
        guard let given = try? Hex.decode(parts[2]), given == Array(check) else {
            throw BridgeRefusal("malformed frame: the \(kind) frame's check \(parts[2]) does not match its bytes (a damaged line)")
        }
        return (kind, bytes)
    }

    /// Parses and verifies one frame line from the device whose identity is `identity` (nil
    /// before its identity frame), on chain `chainId`, at `now` (unix seconds).
    static func parse(_ line: String, identity: PublicKey?, chainId: UInt64, now: UInt64) throws(BridgeRefusal) -> DeviceFrame {
        let (kind, bytes) = try split(line)
        if kind == "identity" {
            guard let type = bytes.first, let keyType = KeyType(code: UInt64(type)), keyType != .secp256k1 else {
                throw BridgeRefusal("identity frame: key type \(bytes.first.map(String.init) ?? "none") is not 2 (P-256) or 3 (Ed25519)")
            }
            do { return .identity(try PublicKey(type: keyType, bytes: bytes.dropFirst())) } catch {
                throw BridgeRefusal("identity frame: not a \(keyType) public key: \(error)")
            }
        }
        guard let key = identity else { throw BridgeRefusal("\(kind) frame before the device's identity frame: whose it is is unknown") }
        switch kind {
        case "reading": return try reading(bytes, key: key, chainId: chainId)
        case "tx": return try transaction(bytes, key: key, chainId: chainId)
        case "mqtt-connect": return try connect(bytes, key: key, chainId: chainId, now: now)
        case "mqtt-publish": return try publish(bytes, key: key, chainId: chainId)
        default: throw BridgeRefusal("unknown frame kind \(kind): identity, reading, tx, mqtt-connect or mqtt-publish")
        }
    }

    static func reading(_ bytes: [UInt8], key: PublicKey, chainId: UInt64) throws(BridgeRefusal) -> DeviceFrame {
        guard bytes.count == 122 + 64, Array(bytes[0..<14]) == DeviceReading.domain else {
            throw BridgeRefusal("reading frame: expected the 122-byte \"kramaa:reading\" preimage and a 64-byte signature, got \(bytes.count) bytes")
        }
        let frameChain = UInt64(bigEndianBytes: bytes[14..<22])
        guard frameChain == chainId else { throw BridgeRefusal("reading frame: signed for chain \(frameChain), the node is chain \(chainId)") }
        let device = try! Address(bytes[22..<42])
        guard device == key.address else { throw BridgeRefusal("reading frame: it names device \(device), the identity is \(key.address)") }
        let reading = DeviceReading(device: device, kind: try! Bytes32(bytes[42..<74]), valueWord: UInt256(try! Bytes32(bytes[74..<106])),
                                    observedAt: UInt64(bigEndianBytes: bytes[106..<114]), sequence: UInt64(bigEndianBytes: bytes[114..<122]))
        let signature = Array(bytes[122...])
        guard key.isValidSignature(signature, digest: reading.digest(chainId: chainId)) else {
            throw BridgeRefusal("reading frame: the signature is not \(key.address)'s signature of the reading digest")
        }
        return .reading(reading, chainId: chainId, signature: signature)
    }

    static func transaction(_ bytes: [UInt8], key: PublicKey, chainId: UInt64) throws(BridgeRefusal) -> DeviceFrame {
        let tx: Transaction
        do { tx = try Transaction.decode(bytes) } catch { throw BridgeRefusal("tx frame: not a transaction: \(error)") }
        guard tx.type == .device else { throw BridgeRefusal("tx frame: type \(tx.type) is not a device transaction (0x4b)") }
        let sender: Address
        do { sender = try tx.validatedSender(chainId: chainId) } catch { throw BridgeRefusal("tx frame: refused: \(error)") }
        guard sender == key.address else { throw BridgeRefusal("tx frame: sent by \(sender), the identity is \(key.address)") }
        return .transaction(tx, raw: bytes)
    }

    static func connect(_ bytes: [UInt8], key: PublicKey, chainId: UInt64, now: UInt64) throws(BridgeRefusal) -> DeviceFrame {
        let packet: MQTTConnect
        do {
            guard let (frame, size) = try MQTTFrame.next(in: bytes), size == bytes.count, frame.type == .connect else {
                throw BridgeRefusal("mqtt-connect frame: not one whole CONNECT packet")
            }
            packet = try MQTTConnect(body: frame.body)
        } catch let refusal as BridgeRefusal { throw refusal } catch { throw BridgeRefusal("mqtt-connect frame: \(error)") }
        guard packet.userName?.lowercased() == key.address.description.lowercased(), let password = packet.password else {
            throw BridgeRefusal("mqtt-connect frame: the user name must be the device's address \(key.address) with a token as password")
        }
        do {
            let token = try DeviceToken.parse(String(decoding: password, as: UTF8.self))
            try token.verify(device: key.address, chainId: chainId, registeredKey: key, now: now, maximumTTL: 86_400)
            return .mqttConnect(raw: bytes, token: token)
        } catch { throw BridgeRefusal("mqtt-connect frame: the token is refused: \(error)") }
    }

    static func publish(_ bytes: [UInt8], key: PublicKey, chainId: UInt64) throws(BridgeRefusal) -> DeviceFrame {
        do {
            guard let (frame, size) = try MQTTFrame.next(in: bytes), size == bytes.count, frame.type == .publish else {
                throw BridgeRefusal("mqtt-publish frame: not one whole PUBLISH packet")
            }
            let packet = try MQTTPublish(frame: frame, version: .v5)
            // A sealed envelope is checked as a node checks it before relaying: its outer signature
            // (the bridge cannot open it, nor should it).
            let envelope = try Envelope.parse(packet.payload)
            guard envelope.origin.sender == key.address else {
                throw BridgeRefusal("mqtt-publish frame: the envelope's sender \(envelope.origin.sender) is not the identity \(key.address)")
            }
            try envelope.verify(chainId: chainId, senderKey: key)
            return .mqttPublish(raw: bytes, topic: packet.topic, envelope: envelope)
        } catch let refusal as BridgeRefusal { throw refusal } catch { throw BridgeRefusal("mqtt-publish frame: \(error)") }
    }
}

extension UInt64 {
    /// The value of 8 big-endian bytes.
    init(bigEndianBytes bytes: ArraySlice<UInt8>) { self = bytes.reduce(0) { $0 << 8 | UInt64($1) } }
}
