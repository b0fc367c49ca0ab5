import KramaaMQTT

/// An application message as the broker holds it: topic in the broker's namespace (mount
/// points applied), properties without the per-hop ones (topic alias, subscription
/// identifiers, message expiry, which is kept as an absolute time).
public struct BrokerMessage: Equatable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: UInt8
    public var retain: Bool
    public var properties: MQTTProperties
    /// Unix seconds after which the message is no longer delivered (MQTT 5 Message Expiry).
    public var expiresAt: UInt64?
    /// The publishing client's identifier (for No Local), if published by a local client.
    public var origin: String?

    public init(topic: String, payload: [UInt8], qos: UInt8, retain: Bool = false, properties: MQTTProperties = MQTTProperties(),
                expiresAt: UInt64? = nil, origin: String? = nil) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.expiresAt = expiresAt
        self.origin = origin
    }

    /// Whether the message has expired at `now` (unix seconds).
    public func expired(at now: UInt64) -> Bool { expiresAt.map { now >= $0 } ?? false }

    /// The properties that travel from publisher to subscriber unchanged (§3.3.2.3): payload
    /// format, content type, response topic, correlation data and user properties, in order.
    static func forwarded(_ properties: MQTTProperties) -> MQTTProperties {
        var kept = MQTTProperties()
        for (id, value) in properties.entries {
            switch id {
            case .payloadFormatIndicator, .contentType, .responseTopic, .correlationData, .userProperty: kept.append(id, value)
            default: continue
            }
        }
        return kept
    }
}

/// A subscription as a session holds it (§3.8.3.1 options, §3.8.2.1.2 identifier).
public struct Subscription: Equatable, Sendable {
    /// The filter in the broker's namespace, without `$share/{group}/`.
    public var filter: String
    public var shareGroup: String?
    public var qos: UInt8
    public var noLocal: Bool
    public var retainAsPublished: Bool
    public var retainHandling: UInt8
    public var identifier: Int?

    public init(filter: String, shareGroup: String? = nil, qos: UInt8, noLocal: Bool = false, retainAsPublished: Bool = false,
                retainHandling: UInt8 = 0, identifier: Int? = nil) {
        self.filter = filter
        self.shareGroup = shareGroup
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
        self.identifier = identifier
    }

    /// The key a session files it under: the filter, or `$share/{group}/{filter}`.
    public var key: String { shareGroup.map { "$share/\($0)/\(filter)" } ?? filter }
}
