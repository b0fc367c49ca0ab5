import KramaaBroker
import KramaaEVM
import KramaaMessaging
import KramaaMQTT
import KramaaMQTTClient
import KramaaMQTTServer
import KramaaPlatform
import KramaaPrimitives
import Logging
import NIOConcurrencyHelpers

/// A bridge from a site's existing MQTT broker (kept during a migration) into the node's broker,
/// and back:
///
/// - In: the bridge subscribes on the external broker to the configured filters. A payload that
///   is a valid envelope from a registered, active device (signature by its current key, not a
///   replay) is published to that device's namespace, `devices/{sender}/bridge/{original topic}`;
///   a payload that is no envelope goes under the bridge's mount `bridges/{host}_{port}/`, so a
///   site's topics can never impersonate a device's namespace; an envelope that fails its checks
///   is refused and logged.
/// - Out: local publications matching the outbound filters are published to the external broker
///   under their own topic (never the bridge's own publications: MQTT 5 No Local).
///
/// Inside the node the bridge is the principal `bridge:{host}:{port}` of the group `operator`.
/// The external connection is remade with backoff when lost; every relay and refusal is logged.
public final class MQTTBridge: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var endpoint: MQTTEndpoint
        /// Filters subscribed to on the external broker (relayed in).
        public var topics: [String]
        /// Local filters relayed out.
        public var outbound: [String] = []
        public var userName: String?
        public var password: String?
        public var tlsCAFile: String?
        /// The organisations whose devices may subscribe under ``mountPoint`` (none: operators only).
        public var readers: [UInt64] = []

        public init(endpoint: MQTTEndpoint, topics: [String]) {
            self.endpoint = endpoint
            self.topics = topics
        }

        /// `bridges/{host}_{port}/`: where plain payloads from this broker land.
        public var mountPoint: String { "bridges/\(mountLevel)/" }
        /// `{host}_{port}`, the mount's second level.
        public var mountLevel: String { "\(endpoint.host)_\(endpoint.port)" }
    }

    /// What the node makes of a payload from the external broker.
    public enum Admission: Sendable, Equatable {
        /// A valid envelope from this device (lowercase 0x address).
        case device(String)
        /// Not an envelope.
        case plain
        /// An envelope that fails its checks, and why.
        case refused(String)
    }

    public let configuration: Configuration
    let client: MQTTClient
    let server: MQTTServer
    let admit: @Sendable ([UInt8]) -> Admission
    let logger: Logger
    private var local: MQTTInternalConnection?
    private let nextIdentifier = NIOLockedValueBox<UInt16>(0)
    private var tasks: [Task<Void, Never>] = []
    /// Relayed in and out, refused (status, tests).
    public let counts = NIOLockedValueBox((relayedIn: 0, relayedOut: 0, refused: 0))

    init(configuration: Configuration, server: MQTTServer, logger: Logger, admit: @escaping @Sendable ([UInt8]) -> Admission) {
        self.configuration = configuration
        self.server = server
        self.logger = logger
        self.admit = admit
        var c = MQTTClientConfiguration(endpoint: configuration.endpoint)
        c.userName = configuration.userName
        c.password = configuration.password.map { Array($0.utf8) }
        c.tlsCAFile = configuration.tlsCAFile
        c.keepAlive = 30
        c.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(500), maximumDelay: .seconds(30))
        client = MQTTClient(configuration: c)
    }

    /// Opens the local side, then connects to the external broker in the background (retrying
    /// with backoff until it answers).
    func start() async {
        let e = configuration.endpoint
        let principal = Principal(name: "bridge:\(e.host):\(e.port)", group: DeviceTopicPolicy.operatorGroup)
        local = await server.openInternalConnection(remote: "bridge \(e)", principal: principal,
                                                    onFrame: { [weak self] in self?.fromLocal($0) },
                                                    onClose: { [logger] in logger.warning("mqtt bridge \(e): the local connection closed") })
        var properties = MQTTProperties()
        properties.append(.receiveMaximum, .uint16(1_024))
        local?.submit(MQTTConnect(version: .v5, clientIdentifier: "kramaa-bridge-\(e.host)_\(e.port)", keepAlive: 0, properties: properties).frame)
        if !configuration.outbound.isEmpty {
            let requests = configuration.outbound.map { MQTTSubscriptionRequest(filter: $0, qos: 1, noLocal: true) }
            local?.submit(MQTTSubscribe(packetIdentifier: packetIdentifier(), requests: requests).frame(version: .v5))
        }
        tasks.append(Task { await self.run() })
        tasks.append(Task {
            for await event in self.client.events {
                switch event {
                case .connected: self.logger.info("mqtt bridge \(e): connected")
                case .disconnected(let why): self.logger.warning("mqtt bridge \(e): \(why)")
                case .reconnecting(let attempt, let delay): self.logger.info("mqtt bridge \(e): reconnecting in \(delay) (attempt \(attempt + 1))")
                }
            }
        })
    }

    /// Connects (retrying with the reconnection policy's delays), subscribes, relays in.
    private func run() async {
        let e = configuration.endpoint
        var attempt = 0
        while !Task.isCancelled {
            do throws(MQTTClientError) {
                try await client.connect()
                let codes = try await client.subscribe(configuration.topics.map { MQTTSubscriptionRequest(filter: $0, qos: 1) })
                for (filter, code) in zip(configuration.topics, codes) where code >= 0x80 {
                    logger.warning("mqtt bridge \(e): the broker refused the subscription to \(filter): \(MQTTReasonCode.describe(code))")
                }
                break
            } catch .closed {
                return
            } catch {
                let delay = client.configuration.reconnect!.delay(attempt: attempt)
                logger.warning("mqtt bridge \(e): \(error); retrying in \(delay)")
                attempt += 1
                try? await Task.sleep(for: delay)
            }
        }
        for await message in client.messages { relayIn(message) }
    }

    /// A message from the external broker, into the node's broker.
    func relayIn(_ message: MQTTClientMessage) {
        let e = configuration.endpoint
        let topic: String
        switch admit(message.payload) {
        case .device(let sender):
            topic = "devices/\(sender)/bridge/\(message.topic)"
        case .plain:
            topic = configuration.mountPoint + message.topic
        case .refused(let why):
            counts.withLockedValue { $0.refused += 1 }
            logger.warning("mqtt bridge \(e): refused an envelope on \(message.topic): \(why)")
            return
        }
        counts.withLockedValue { $0.relayedIn += 1 }
        logger.info("mqtt bridge \(e): relayed \(message.topic) in as \(topic) (\(message.payload.count) bytes)")
        let qos = max(message.qos, 1)
        local?.submit(MQTTPublish(topic: topic, payload: message.payload, qos: qos, retain: message.retain,
                                  packetIdentifier: packetIdentifier(), properties: Self.forwardable(message.properties)).frame(version: .v5))
    }

    /// What the broker sends the bridge's local connection (on the broker's loop).
    private func fromLocal(_ frame: MQTTFrame) {
        switch frame.type {
        case .publish:
            guard let publish = try? MQTTPublish(frame: frame, version: .v5) else { return }
            let e = configuration.endpoint
            Task {
                do {
                    let result = try await client.publish(publish.topic, publish.payload, qos: min(publish.qos, 1), retain: publish.retain,
                                                          properties: Self.forwardable(publish.properties))
                    if result.isSuccess {
                        counts.withLockedValue { $0.relayedOut += 1 }
                        logger.info("mqtt bridge \(e): relayed \(publish.topic) out (\(publish.payload.count) bytes)")
                    } else {
                        logger.warning("mqtt bridge \(e): the broker refused \(publish.topic): \(MQTTReasonCode.describe(result.reasonCode))")
                    }
                } catch {
                    logger.warning("mqtt bridge \(e): cannot relay \(publish.topic) out: \(error)")
                }
                if let id = publish.packetIdentifier {
                    local?.submit(MQTTAck(publish.qos == 2 ? .pubrec : .puback, packetIdentifier: id).frame(version: .v5))
                }
            }
        case .pubrel:
            if let ack = try? MQTTAck(frame: frame, version: .v5) {
                local?.submit(MQTTAck(.pubcomp, packetIdentifier: ack.packetIdentifier).frame(version: .v5))
            }
        case .connack:
            if let ack = try? MQTTConnAck(body: frame.body, version: .v5), ack.reasonCode != 0 {
                logger.warning("mqtt bridge \(configuration.endpoint): the node's broker refused the bridge: \(MQTTReasonCode.describe(ack.reasonCode))")
            }
        default:
            break  // PUBACK, SUBACK of the bridge's own packets
        }
    }

    /// Properties that describe the message (not the hop): content type, payload format,
    /// message expiry, response topic, correlation data, user properties.
    static func forwardable(_ p: MQTTProperties) -> MQTTProperties {
        var out = MQTTProperties()
        for (id, value) in p.entries where [.contentType, .payloadFormatIndicator, .messageExpiryInterval, .responseTopic,
                                               .correlationData, .userProperty].contains(id) {
            out.append(id, value)
        }
        return out
    }

    private func packetIdentifier() -> UInt16 {
        nextIdentifier.withLockedValue {
            $0 = $0 == UInt16.max ? 1 : $0 + 1
            return $0
        }
    }

    public func stop() async {
        for task in tasks { task.cancel() }
        await client.close()
        local?.end()
    }
}

/// The bridge's check of what arrives from the external broker: a payload that parses as an
/// envelope goes through ``EnvelopeAdmission`` against the device registry (sender's current
/// key, the recipient's agreement key for a sealed one) and one replay guard per node.
final class BridgeEnvelopeCheck<Reader: ContractReader>: @unchecked Sendable {
    let chainId: UInt64
    let devices: ChainDevices<Reader>
    private let replay = NIOLockedValueBox(ReplayGuard())

    init(chainId: UInt64, devices: ChainDevices<Reader>) {
        self.chainId = chainId
        self.devices = devices
    }

    func admit(_ bytes: [UInt8]) -> MQTTBridge.Admission {
        guard let first = bytes.first, first == SignedEnvelope.format || first == SealedEnvelope.format,
              let envelope = try? Envelope.parse(bytes) else { return .plain }
        let now = UInt64(SystemTime.shared.unixSeconds) * 1000
        return replay.withLockedValue { replay in
            do {
                try EnvelopeAdmission.admit(envelope, chainId: chainId, now: now, replay: &replay,
                                            senderKey: devices.senderKey, recipientKey: devices.usableAgreementKey)
                return .device(envelope.origin.sender.lowercased)
            } catch {
                return .refused("\(error)")
            }
        }
    }
}
