import KramaaBroker
import KramaaMQTT
import KramaaPrimitives
import Testing

/// A client as the broker core sees it: frames in, frames out, no sockets.
final class TestClient: MQTTConnectionSink {
    let broker: Broker
    var id: UInt64 = 0
    var version: MQTTVersion
    private(set) var received: [MQTTFrame] = []
    private(set) var closed = false
    /// What the sink tells the broker about the client's reading.
    var isCongested = false

    init(_ broker: Broker, version: MQTTVersion = .v5) {
        self.broker = broker
        self.version = version
        id = broker.open(self, remote: "test")
    }

    func send(_ frame: MQTTFrame) { received.append(frame) }
    func close() { closed = true }

    /// Sends a frame and commits the journal (as the edge does after each read).
    func put(_ frame: MQTTFrame) {
        broker.receive(frame, on: id)
        broker.commit()
    }

    /// Takes the frames received so far.
    func take() -> [MQTTFrame] {
        defer { received.removeAll() }
        return received
    }

    @discardableResult
    func connect(_ clientID: String, cleanStart: Bool = true, expiry: UInt32? = nil, keepAlive: UInt16 = 0,
                 will: MQTTWill? = nil, userName: String? = "device", password: String? = nil,
                 properties extra: MQTTProperties = MQTTProperties()) -> MQTTConnAck {
        var properties = extra
        if let expiry { properties.append(.sessionExpiryInterval, .uint32(expiry)) }
        put(MQTTConnect(version: version, clientIdentifier: clientID, cleanStart: cleanStart, keepAlive: keepAlive,
                        userName: userName, password: password.map { Array($0.utf8) }, will: will, properties: properties).frame)
        guard let f = received.first, f.type == .connack else {
            Issue.record("no CONNACK: \(received)")
            return MQTTConnAck(reasonCode: 0xff)
        }
        received.removeFirst()
        return try! MQTTConnAck(body: f.body, version: version)
    }

    func subscribe(_ filter: String, qos: UInt8 = 1, id packet: UInt16 = 1, noLocal: Bool = false, retainHandling: UInt8 = 0,
                   identifier: Int? = nil) -> [UInt8] {
        var properties = MQTTProperties()
        if let identifier { properties.append(.subscriptionIdentifier, .variableInteger(identifier)) }
        put(MQTTSubscribe(packetIdentifier: packet, requests: [MQTTSubscriptionRequest(filter: filter, qos: qos, noLocal: noLocal, retainHandling: retainHandling)],
                          properties: properties).frame(version: version))
        guard let f = received.first, f.type == .suback else {
            Issue.record("no SUBACK: \(received)")
            return []
        }
        received.removeFirst()
        return try! MQTTSubscribeAck(frame: f, version: version).reasonCodes
    }

    func publish(_ topic: String, _ payload: String, qos: UInt8 = 0, id packet: UInt16? = nil, retain: Bool = false,
                 properties: MQTTProperties = MQTTProperties()) {
        put(MQTTPublish(topic: topic, payload: Array(payload.utf8), qos: qos, retain: retain,
                        packetIdentifier: qos > 0 ? (packet ?? 1) : nil, properties: properties).frame(version: version))
    }

    /// The PUBLISH packets received, decoded (others are left in place).
    func publishes() -> [MQTTPublish] {
        let (pubs, rest) = (received.filter { $0.type == .publish }, received.filter { $0.type != .publish })
        received = rest
        return pubs.map { try! MQTTPublish(frame: $0, version: version) }
    }

    func acks(_ type: MQTTPacketType) -> [MQTTAck] {
        let (mine, rest) = (received.filter { $0.type == type }, received.filter { $0.type != type })
        received = rest
        return mine.map { try! MQTTAck(frame: $0, version: version) }
    }

    func disconnectFrame() -> MQTTDisconnect? {
        received.first { $0.type == .disconnect }.map { try! MQTTDisconnect(body: $0.body, version: version) }
    }
}

/// Accepts everyone: user name "anon" (or none) under the `sandbox/` mount point, others as themselves;
/// password "bad" refused with 0x86; names in `revoked` no longer valid.
final class TestAuthenticator: BrokerAuthenticator {
    var revoked: Set<String> = []

    func authenticate(_ connect: MQTTConnect) -> AuthenticationDecision {
        if connect.password == Array("bad".utf8) { return .refuse(reasonCode: 0x86, reason: "bad password") }
        if connect.properties.string(.authenticationMethod) == "challenge" { return .challenge(method: "challenge", data: [1, 2, 3]) }
        guard let name = connect.userName, name != "anon" else { return .accept(Principal(name: "anonymous", mountPoint: "sandbox/")) }
        return .accept(Principal(name: name))
    }

    func continueAuthentication(_ connect: MQTTConnect, method: String, data: [UInt8], challenge: [UInt8]) -> AuthenticationDecision {
        data == challenge.reversed() ? .accept(Principal(name: connect.userName ?? "challenged")) : .refuse(reasonCode: 0x87, reason: "wrong answer")
    }

    func stillValid(_ principal: Principal) -> Bool { !revoked.contains(principal.name) }
}

/// Refuses publishing under `private/` and subscribing to `secret/#`.
final class TestAuthorizer: BrokerAuthorizer {
    func mayPublish(_ principal: Principal, topic: String) -> Refusal? {
        topic.hasPrefix("private/") ? Refusal(0x87, "private topics are not yours") : nil
    }
    func maySubscribe(_ principal: Principal, filter: String) -> Refusal? {
        filter.hasPrefix("secret") ? Refusal(0x87, "secrets are not yours") : nil
    }
}

/// A broker over a manual clock and a memory journal.
struct BrokerFixture {
    let time = ManualTime()
    let journal = MemoryJournal()
    let authenticator = TestAuthenticator()
    var broker: Broker

    init(configure: (inout BrokerConfiguration) -> Void = { _ in }) {
        var configuration = BrokerConfiguration()
        configure(&configuration)
        broker = try! Broker(configuration: configuration, clock: time, authenticator: authenticator,
                             authorizer: TestAuthorizer(), journal: journal)
    }

    /// A new broker over the same journal and clock: a process restart.
    mutating func restart() {
        broker = try! Broker(configuration: broker.configuration, clock: time, authenticator: authenticator,
                             authorizer: TestAuthorizer(), journal: journal)
    }

    func client(_ version: MQTTVersion = .v5) -> TestClient { TestClient(broker, version: version) }
}

extension MQTTPublish {
    var text: String { String(decoding: payload, as: UTF8.self) }
}
