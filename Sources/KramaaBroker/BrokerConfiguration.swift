/// What the broker offers clients and the limits it holds them to (announced in CONNACK).
public struct BrokerConfiguration: Sendable {
    /// The largest packet the broker accepts (the edge refuses larger frames with 0x95).
    public var maximumPacketSize = 1 << 20
    /// QoS 2 messages a client may have unreleased at once (MQTT 5 Receive Maximum).
    public var receiveMaximum: UInt16 = 1_024
    /// Topic aliases a client may set.
    public var topicAliasMaximum: UInt16 = 64
    /// The longest keep-alive the broker allows; a client asking for more (or for none) is
    /// told this one (Server Keep Alive). Nil: whatever the client asks.
    public var maximumKeepAlive: UInt16? = nil
    /// The longest session expiry the broker keeps a session for.
    public var maximumSessionExpiry: UInt32 = .max
    /// Session expiry given to MQTT 3.1.1 clients connecting with clean session 0.
    public var persistentSessionExpiry311: UInt32 = .max
    /// Messages queued for one session beyond which the oldest are dropped (as mosquitto's max_queued_messages).
    public var maximumQueuedMessages = 1_000
    /// Connections (connected or still connecting) beyond which a CONNECT is refused with
    /// 0x89 (server busy): each holds a socket and its buffers.
    public var maximumConnections = 100_000
    /// Seconds a connection may take to send CONNECT (and finish authenticating).
    public var connectTimeout: Duration = .seconds(10)
    /// Prefix of the identifiers the broker assigns to clients connecting without one.
    public var assignedIdentifierPrefix = "kramaa-"

    public init() {}
}
