import Foundation
import KramaaBroker
import KramaaChain
import KramaaEVM
import KramaaMessaging
import KramaaMQTTServer
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import Logging

/// The node's messaging: its MQTT server, with devices authenticated and authorised from the
/// chain, sessions kept in the data directory, and connected devices re-checked whenever a
/// block changes their registry entries (a revoked or suspended device is disconnected within
/// that block).
public final class MessagingService: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var server = MQTTServer.Configuration()
        /// Clients without credentials are let in under `sandbox/` (mosquitto's allow_anonymous).
        public var allowAnonymous = false
        /// The longest device token lifetime accepted.
        public var maximumTokenLifetime: UInt64 = 24 * 3600
        /// Bridges from existing brokers (`--mqtt-bridge`).
        public var bridges: [MQTTBridge.Configuration] = []

        public init() {}
    }

    public let server: MQTTServer
    public let policy: DeviceTopicPolicy
    /// Relays to and from the other nodes' MQTT servers; attach it to the validator's peer
    /// network (a node without one serves its own clients only).
    public let federation: MQTTFederation
    /// Deliveries to devices' inboxes, committed on chain as Merkle roots.
    public let deliveries: DeliveryLog
    /// Each device's connections and messages on this node's MQTT server since the node started.
    public let activity: DeviceActivity
    private let node: Node
    private var observer: Int?
    /// The running bridges from external brokers.
    public private(set) var bridges: [MQTTBridge] = []

    private init(server: MQTTServer, policy: DeviceTopicPolicy, node: Node, deliveries: DeliveryLog, activity: DeviceActivity) {
        self.server = server
        self.activity = activity
        self.deliveries = deliveries
        self.federation = server.makeFederation()
        self.policy = policy
        self.node = node
    }

    /// Starts the MQTT server for `node`; `committer` signs the delivery roots it commits (nil:
    /// deliveries are recorded, not committed).
    public static func start(node: Node, configuration: Configuration, committer: Secp256k1.PrivateKey?,
                             logger: Logger = Logger(label: "kramaa.mqtt")) async throws -> MessagingService {
        let devices = ChainDevices(client: DeviceClient(NodeContractReader(node: node)))
        let grants = MessagingPolicyClient(NodeContractReader(node: node))
        let policy = DeviceTopicPolicy(organizationOf: { name in
            guard let address = try? Address(hex: name), let (record, _) = try? devices.active(address) else { return nil }
            return String(record.organization)
        }, rightsOf: { org, peer in
            guard let o = UInt64(org), let p = UInt64(peer) else { return [] }
            return (try? grants.rights(of: p, on: o)) ?? []
        }, bridgeReaders: Dictionary(configuration.bridges.map { ($0.mountLevel, Set($0.readers.map(String.init))) }, uniquingKeysWith: { $0.union($1) }))
        let authenticator = ChainDeviceAuthenticator(chainId: node.chainId, devices: devices, allowAnonymous: configuration.allowAnonymous,
                                                     maximumTokenLifetime: configuration.maximumTokenLifetime)
        // A restarted node does not know which sequences it saw: envelopes dated before its start
        // from senders it has not seen since are refused (the replay guard's floor).
        let signatures = EnvelopeSignatureChecks(chainId: node.chainId, devices: devices)
        let inspector = EnvelopeInspector(chainId: node.chainId, devices: devices,
                                          replay: ReplayGuard(restoring: [], floor: UInt64(SystemTime.shared.sinceEpoch.inNanoseconds / 1_000_000)),
                                          signatures: signatures)
        let journal = try FileSessionJournal(path: node.dataDirectory.appendingPathComponent(FileSessionJournal.fileName).path)
        let activity = DeviceActivity()
        let server = try await MQTTServer.start(configuration: configuration.server,
                                                authenticator: ActivityRecordingAuthenticator(authenticator, activity: activity), authorizer: policy,
                                                inspector: ActivityRecordingInspector(inspector, activity: activity), preverifier: signatures,
                                                journal: journal, logger: logger)
        let deliveries = try DeliveryLog(node: node, key: committer, logger: logger)
        await server.withBroker { broker in broker.onDelivered = { deliveries.delivered($0, to: $1) } }
        deliveries.start()
        let service = MessagingService(server: server, policy: policy, node: node, deliveries: deliveries, activity: activity)
        service.observer = node.addObserver { [weak service] event in
            guard case .newBlock(let executed) = event, let service else { return }
            let changed = Self.devicesChanged(in: executed)
            let grantsChanged = executed.receipts.contains { $0.logs.contains { $0.address == MessagingPolicy.address } }
            guard !changed.isEmpty || grantsChanged else { return }
            devices.forget(changed)
            if grantsChanged { service.policy.forgetGrants() }
            let names = Set(changed.map(\.lowercased))
            Task {
                await service.server.withBroker { broker in
                    broker.revalidate(names: names)
                    // Devices keep only the subscriptions the policy still allows.
                    broker.recheckSubscriptions()
                }
            }
        }
        let check = BridgeEnvelopeCheck(chainId: node.chainId, devices: devices)
        for bridgeConfiguration in configuration.bridges {
            let bridge = MQTTBridge(configuration: bridgeConfiguration, server: server, logger: logger, admit: { check.admit($0) })
            await bridge.start()
            service.bridges.append(bridge)
        }
        return service
    }

    /// Devices whose registry entries a block changed (registered, status, key).
    static func devicesChanged(in executed: ExecutedBlock) -> Set<Address> {
        var changed = Set<Address>()
        for receipt in executed.receipts {
            for log in receipt.logs where log.address == DeviceRegistry.address && log.topics.count > 1 {
                changed.insert(try! Address(log.topics[1].bytes.suffix(20)))
            }
        }
        return changed
    }

    public func stop() async {
        if let observer { node.removeObserver(observer) }
        deliveries.stop()
        for bridge in bridges { await bridge.stop() }
        await server.shutdown()
    }
}
