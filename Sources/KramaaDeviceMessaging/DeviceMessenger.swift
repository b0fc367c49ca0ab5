import Foundation
import KramaaMessaging
import KramaaMQTT
import KramaaMQTTClient
import KramaaPrimitives

/// A device's side of device messaging (docs/MESSAGING.md): connects to a node's MQTT server
/// as the device (a token signed by its key, or the `kramaa-device-v1` challenge), sends
/// envelopes signed by the device key — optionally sealed to the recipient's agreement key — to
/// the recipient's inbox `devices/{recipient}/inbox`, and receives from its own inbox, checking
/// each envelope before the application sees it: the sender's registered key signed it, it is
/// not a replay, it is addressed to this device, and a sealed one opens with this device's
/// agreement key.
public final class DeviceMessenger: Sendable {
    public struct Configuration: Sendable {
        public enum Authentication: Sendable {
            /// User name = the device address, password = a device token valid for `ttl` seconds.
            case token(ttl: UInt64)
            /// MQTT 5 enhanced authentication, method `kramaa-device-v1`.
            case challenge
        }

        public var endpoint: MQTTEndpoint
        public var tlsCAFile: String?
        public var key: SigningKey
        /// The device address (its first key's address until the key is rotated).
        public var device: Address
        public var chainId: UInt64
        public var authentication = Authentication.token(ttl: 3600)
        /// Sequence numbers and the inbox's replay memory (``DeviceStateFile``).
        public var state: DeviceStateFile
        /// This device's agreement key, to open sealed envelopes.
        public var agreementKey: AgreementPrivateKey?
        /// QoS of sending and of the inbox subscription (2: each envelope once).
        public var qos: UInt8 = 2
        public var aead = MessageAEAD.chaCha20Poly1305

        public init(endpoint: MQTTEndpoint, key: SigningKey, device: Address, chainId: UInt64, state: DeviceStateFile) {
            self.endpoint = endpoint
            self.key = key
            self.device = device
            self.chainId = chainId
            self.state = state
        }
    }

    /// An envelope sent: its hash (keccak256 of the wire bytes, its name in proofs of delivery).
    public struct Sent: Sendable {
        public var envelopeHash: Bytes32
        public var sequence: UInt64
        public var sealed: Bool
        public var topic: String
    }

    /// An envelope received and verified.
    public struct Received: Sendable {
        public var sender: Address
        public var sequence: UInt64
        public var timestamp: UInt64
        public var contentType: String
        public var payload: [UInt8]
        public var envelopeHash: Bytes32
        public var sealed: Bool
    }

    /// An envelope refused, and why (what arrived, for the log).
    public struct Refused: Error, Sendable {
        public var topic: String
        public var envelopeHash: Bytes32
        public var error: DeviceMessagingError
    }

    public let configuration: Configuration
    public let directory: DeviceDirectory
    let client: MQTTClient

    public init(configuration: Configuration, directory: DeviceDirectory, clientIdentifier: String = "") {
        self.configuration = configuration
        self.directory = directory
        var c = MQTTClientConfiguration(endpoint: configuration.endpoint)
        c.tlsCAFile = configuration.tlsCAFile
        c.clientIdentifier = clientIdentifier
        let device = configuration.device, key = configuration.key, chainId = configuration.chainId
        switch configuration.authentication {
        case .token(let ttl):
            c.userName = device.lowercased
            c.password = Array(DeviceToken.make(key: key, device: device, chainId: chainId, ttl: ttl,
                                                now: UInt64(Date().timeIntervalSince1970)).text.utf8)
        case .challenge:
            c.userName = device.lowercased
            c.authenticationMethod = DeviceChallenge.method
            c.authenticationData = DeviceChallenge.Hello(device: device, key: key.publicKey.address).bytes
            c.authenticate = { challenge in DeviceChallenge.respond(to: challenge, key: key, device: device, chainId: chainId) }
        }
        client = MQTTClient(configuration: c)
    }

    /// The inbox topic of `device`: `devices/{lowercase address}/inbox`.
    public static func inbox(of device: Address) -> String { "devices/\(device.lowercased)/inbox" }

    public func connect() async throws(DeviceMessagingError) {
        do { try await client.connect() } catch { throw .mqtt(error) }
    }

    /// Signs `payload` (with the next sequence number), seals it to `recipient`'s registered
    /// agreement key when `seal`, publishes it to the recipient's inbox and waits for the
    /// server's acknowledgement.
    public func send(_ payload: [UInt8], contentType: String, to recipient: Address, seal: Bool = false) async throws(DeviceMessagingError) -> Sent {
        let c = configuration
        var sealTo: AgreementPublicKey?
        if seal {
            guard let key = try await directory.agreementKey(of: recipient) else { throw .recipientHasNoAgreementKey(recipient) }
            sealTo = key
        }
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let sequence = try c.state.nextSequence(now: now)
        let envelope: Envelope
        do throws(EnvelopeError) {
            let signed = try SignedEnvelope.sign(payload, contentType: contentType, to: .device(recipient), from: c.device, key: c.key,
                                                 sequence: sequence, timestamp: now, chainId: c.chainId)
            if let sealTo { envelope = .sealed(try SealedEnvelope.seal(signed, to: sealTo, aead: c.aead, key: c.key)) } else { envelope = .signed(signed) }
        } catch {
            throw .envelope(error)
        }
        let topic = Self.inbox(of: recipient)
        let result: MQTTPublishResult
        do { result = try await client.publish(topic, envelope.wireBytes, qos: c.qos) } catch { throw .mqtt(error) }
        guard result.isSuccess else { throw .publishRefused(topic: topic, reasonCode: result.reasonCode, reason: result.reasonString) }
        return Sent(envelopeHash: envelope.envelopeHash, sequence: sequence, sealed: sealTo != nil, topic: topic)
    }

    /// Subscribes to this device's inbox; yields each envelope verified, or refused with why
    /// (forged, replayed, misaddressed, unopenable), in arrival order.
    public func listen() async throws(DeviceMessagingError) -> AsyncStream<Result<Received, Refused>> {
        let topic = Self.inbox(of: configuration.device)
        let code: UInt8
        do { code = try await client.subscribe(topic, qos: configuration.qos) } catch { throw .mqtt(error) }
        guard code < 0x80 else { throw .mqtt(.refused(reasonCode: code, reason: "subscribing to \(topic)")) }
        let (stream, sink) = AsyncStream.makeStream(of: Result<Received, Refused>.self)
        let task = Task {
            for await message in client.messages {
                do throws(DeviceMessagingError) {
                    sink.yield(.success(try await self.verify(message.payload)))
                } catch {
                    sink.yield(.failure(Refused(topic: message.topic, envelopeHash: Keccak256.hash(message.payload), error: error)))
                }
            }
            sink.finish()
        }
        sink.onTermination = { _ in task.cancel() }
        return stream
    }

    /// What the inbox checks, in this order: the form; the sender's registered key signed it
    /// (the outer signature of a sealed one); not a replay (remembered in the state file);
    /// addressed to this device; a sealed one opens with this device's agreement key.
    public func verify(_ bytes: [UInt8]) async throws(DeviceMessagingError) -> Received {
        let c = configuration
        let envelope: Envelope
        do { envelope = try Envelope.parse(bytes) } catch { throw .envelope(error) }
        let origin = envelope.origin
        guard origin.chainId == c.chainId else { throw .envelope(.wrongChain(expected: c.chainId, envelope: origin.chainId)) }
        let senderKey = try await directory.signingKey(of: origin.sender)
        do { try envelope.verify(chainId: c.chainId, senderKey: senderKey) } catch { throw .envelope(error) }
        let signed: SignedEnvelope
        switch envelope {
        case .signed(let e):
            guard e.recipient == .device(c.device) else { throw .notForThisDevice(e.recipient) }
            signed = e
        case .sealed(let e):
            guard e.recipient == c.device else { throw .notForThisDevice(.device(e.recipient)) }
            guard let key = c.agreementKey else { throw .noAgreementKey }
            do { signed = try e.open(with: key, chainId: c.chainId, senderKey: senderKey) } catch { throw .envelope(error) }
        }
        try c.state.admit(origin, now: UInt64(Date().timeIntervalSince1970 * 1000))
        return Received(sender: origin.sender, sequence: origin.sequence, timestamp: origin.timestamp, contentType: signed.contentType,
                        payload: signed.payload, envelopeHash: envelope.envelopeHash, sealed: envelope.isSealed)
    }

    public func close() async { await client.close() }
}

extension Envelope {
    var isSealed: Bool { if case .sealed = self { true } else { false } }
}
