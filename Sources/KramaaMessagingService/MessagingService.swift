import Foundation
import KramaaBroker
import KramaaChain
import KramaaEVM
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
    private let node: Node
    private var observer: Int?
    /// The running bridges from external brokers.
    public private(set) var bridges: [MQTTBridge] = []

    private init(server: MQTTServer, policy: DeviceTopicPolicy, node: Node) {
        self.server = server
        self.federation = server.makeFederation()
        self.policy = policy
        self.node = node
    }

    /// Starts the MQTT server for `node`.
    public static func start(node: Node, configuration: Configuration, logger: Logger = Logger(label: "kramaa.mqtt")) async throws -> MessagingService {
        let reader = NodeContractReader(node: node)
        let devices = DeviceClient(reader)
        let policy = DeviceTopicPolicy { name in
            guard let address = try? Address(hex: name), let record = try? devices.device(address),
                  record.status == .active else { return nil }
            return String(record.organization)
        }
        let authenticator = ChainDeviceAuthenticator(chainId: node.chainId, devices: devices, allowAnonymous: configuration.allowAnonymous,
                                                     maximumTokenLifetime: configuration.maximumTokenLifetime)
        let journal = try FileSessionJournal(path: node.dataDirectory.appendingPathComponent(FileSessionJournal.fileName).path)
        let server = try await MQTTServer.start(configuration: configuration.server, authenticator: authenticator, authorizer: policy,
                                                journal: journal, logger: logger)
        let service = MessagingService(server: server, policy: policy, node: node)
        service.observer = node.addObserver { [weak service] event in
            guard case .newBlock(let executed) = event, let service else { return }
            let changed = Self.devicesChanged(in: executed)
            guard !changed.isEmpty else { return }
            service.policy.forget(changed)
            Task { await service.server.withBroker { $0.revalidate(names: changed) } }
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
    static func devicesChanged(in executed: ExecutedBlock) -> Set<String> {
        var changed = Set<String>()
        for receipt in executed.receipts {
            for log in receipt.logs where log.address == DeviceRegistry.address && log.topics.count > 1 {
                changed.insert(try! Address(log.topics[1].bytes.suffix(20)).lowercased)
            }
        }
        return changed
    }

    public func stop() async {
        if let observer { node.removeObserver(observer) }
        for bridge in bridges { await bridge.stop() }
        await server.shutdown()
    }
}
