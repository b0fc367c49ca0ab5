import ArgumentParser
import KramaaMessagingService
import KramaaMQTT
import KramaaMQTTClient
import KramaaMQTTServer

/// Options of the node's MQTT server, shared by `kramaa node` and `kramaa devnet` (whose
/// validators take the ports after the first: `--mqtt-port` + i, `--mqtt-ws-port` + i).
struct MQTTOptions: ParsableArguments {
    @Option(name: .customLong("mqtt-host"), help: "Address the MQTT listeners bind.")
    var host = "127.0.0.1"
    @Option(name: .customLong("mqtt-port"), help: "Port of MQTT over TCP; 0 picks a free one.")
    var port = 1883
    @Option(name: .customLong("mqtt-ws-port"), help: "Port of MQTT over WebSocket (subprotocol mqtt); none unless given (the devnet: 8083 and up).")
    var webSocketPort: Int?
    @Option(name: .customLong("mqtt-tls-port"), help: "Port of MQTT over TLS (8883 by convention); needs --mqtt-tls-cert and --mqtt-tls-key.")
    var tlsPort: Int?
    @Option(name: .customLong("mqtt-tls-cert"), help: "The TLS certificate chain (PEM) of the MQTT TLS listener.")
    var tlsCertificate: String?
    @Option(name: .customLong("mqtt-tls-key"), help: "The TLS private key (PEM) of the MQTT TLS listener.")
    var tlsKey: String?
    @Flag(name: .customLong("mqtt-allow-anonymous"),
          help: "Let clients without credentials connect, confined to the sandbox/ namespace (as mosquitto's allow_anonymous); off by default.")
    var allowAnonymous = false
    @Flag(name: .customLong("no-mqtt"), help: "Run no MQTT server.")
    var disabled = false
    @Option(name: .customLong("mqtt-bridge"),
            help: "Bridge from an existing broker (mqtt://host:port or mqtts://): relay its --bridge-topic filters in, local --bridge-out filters out.")
    var bridge: String?
    @Option(name: .customLong("bridge-topic"), help: "A topic filter relayed in from the bridged broker (repeatable); lands under bridges/{host}_{port}/, or devices/{sender}/bridge/ for a device's signed envelope.")
    var bridgeTopics: [String] = []
    @Option(name: .customLong("bridge-out"), help: "A local topic filter relayed out to the bridged broker (repeatable).")
    var bridgeOut: [String] = []
    @Option(name: .customLong("bridge-user"), help: "The user name on the bridged broker.")
    var bridgeUser: String?
    @Option(name: .customLong("bridge-password"), help: "The password on the bridged broker.")
    var bridgePassword: String?
    @Option(name: .customLong("bridge-ca"), help: "With mqtts://: the CA certificates (PEM) to trust for the bridged broker.")
    var bridgeCA: String?
    @Option(name: .customLong("bridge-readers"), help: "An organisation whose devices may subscribe to what the bridge relays in, under bridges/{host}_{port}/ (repeatable; none: only the node's operators read it).")
    var bridgeReaders: [UInt64] = []

    func validate() throws {
        if tlsPort != nil && (tlsCertificate == nil || tlsKey == nil) {
            throw ValidationError("--mqtt-tls-port needs --mqtt-tls-cert and --mqtt-tls-key (PEM files)")
        }
        _ = try bridgeConfiguration()
    }

    /// The bridge `--mqtt-bridge` and its options describe (nil: none), checked.
    func bridgeConfiguration() throws -> MQTTBridge.Configuration? {
        guard let bridge else {
            let stray = [bridgeTopics.isEmpty ? nil : "--bridge-topic", bridgeOut.isEmpty ? nil : "--bridge-out", bridgeUser.map { _ in "--bridge-user" },
                         bridgePassword.map { _ in "--bridge-password" }, bridgeCA.map { _ in "--bridge-ca" },
                         bridgeReaders.isEmpty ? nil : "--bridge-readers"].compactMap { $0 }
            if let first = stray.first { throw ValidationError("\(first) needs --mqtt-bridge mqtt://host:port") }
            return nil
        }
        guard !disabled else { throw ValidationError("--mqtt-bridge needs the MQTT server: drop --no-mqtt") }
        let endpoint: MQTTEndpoint
        do { endpoint = try MQTTEndpoint(parsing: bridge) } catch { throw ValidationError("--mqtt-bridge: \(error)") }
        guard !bridgeTopics.isEmpty || !bridgeOut.isEmpty else {
            throw ValidationError("--mqtt-bridge needs at least one --bridge-topic FILTER (relayed in) or --bridge-out FILTER (relayed out)")
        }
        for (flag, filters) in [("--bridge-topic", bridgeTopics), ("--bridge-out", bridgeOut)] {
            for filter in filters {
                do { _ = try MQTTTopic.parseSubscription(filter) } catch { throw ValidationError("\(flag) \(filter): \(error)") }
            }
        }
        if bridgePassword != nil && bridgeUser == nil { throw ValidationError("--bridge-password needs --bridge-user") }
        var c = MQTTBridge.Configuration(endpoint: endpoint, topics: bridgeTopics)
        c.outbound = bridgeOut
        c.userName = bridgeUser
        c.password = bridgePassword
        c.tlsCAFile = bridgeCA
        c.readers = bridgeReaders
        return c
    }

    /// The bridge flags, for the validator that runs the bridge.
    var bridgeArguments: [String] {
        guard let bridge else { return [] }
        var out = ["--mqtt-bridge", bridge]
        for t in bridgeTopics { out += ["--bridge-topic", t] }
        for t in bridgeOut { out += ["--bridge-out", t] }
        if let bridgeUser { out += ["--bridge-user", bridgeUser] }
        if let bridgePassword { out += ["--bridge-password", bridgePassword] }
        if let bridgeCA { out += ["--bridge-ca", bridgeCA] }
        for org in bridgeReaders { out += ["--bridge-readers", String(org)] }
        return out
    }

    /// Adds the listeners' ports to the pre-start check (validator i of `count`).
    func addPorts(to ports: inout ListenPorts, count: Int = 1, webSocketDefault: Int? = nil) {
        guard !disabled else { return }
        ports.add(host: host, first: port, flag: "--mqtt-port", count: count, what: "MQTT")
        if let ws = webSocketPort ?? webSocketDefault { ports.add(host: host, first: ws, flag: "--mqtt-ws-port", count: count, what: "MQTT WebSocket") }
        if let tls = tlsPort { ports.add(host: host, first: tls, flag: "--mqtt-tls-port", count: count, what: "MQTT TLS") }
    }

    /// The flags a devnet gives validator `i`.
    func arguments(validator i: Int, webSocketDefault: Int) -> [String] {
        guard !disabled else { return ["--no-mqtt"] }
        var out = ["--mqtt-host", host, "--mqtt-port", String(port == 0 ? 0 : port + i)]
        let ws = webSocketPort ?? webSocketDefault
        out += ["--mqtt-ws-port", String(ws == 0 ? 0 : ws + i)]
        if let tlsPort, let tlsCertificate, let tlsKey {
            out += ["--mqtt-tls-port", String(tlsPort == 0 ? 0 : tlsPort + i), "--mqtt-tls-cert", tlsCertificate, "--mqtt-tls-key", tlsKey]
        }
        if allowAnonymous { out.append("--mqtt-allow-anonymous") }
        // One bridge per network: the first validator runs it (the others get its relays through the federation).
        if i == 0 { out += bridgeArguments }
        return out
    }

    /// The service's configuration, or nil when MQTT is off.
    func configuration(webSocketDefault: Int? = nil) -> MessagingService.Configuration? {
        guard !disabled else { return nil }
        var c = MessagingService.Configuration()
        c.server.host = host
        c.server.port = port
        c.server.webSocketPort = webSocketPort ?? webSocketDefault
        c.server.tlsPort = tlsPort
        c.server.tlsCertificatePath = tlsCertificate
        c.server.tlsKeyPath = tlsKey
        c.allowAnonymous = allowAnonymous
        c.bridges = (try? bridgeConfiguration()).flatMap { $0.map { [$0] } } ?? []
        return c
    }

    static let devnetWebSocketPort = 8083
}

extension MQTTServer {
    /// `mqtt://host:port`, `ws://host:port`, `mqtts://host:port` for the listeners running.
    var endpoints: [String] {
        let host = configuration.host
        return [port.map { "mqtt://\(host):\($0)" }, webSocketPort.map { "ws://\(host):\($0)" }, tlsPort.map { "mqtts://\(host):\($0)" }]
            .compactMap { $0 }
    }
}
