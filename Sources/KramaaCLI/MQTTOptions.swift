import ArgumentParser
import KramaaMessagingService
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

    func validate() throws {
        if tlsPort != nil && (tlsCertificate == nil || tlsKey == nil) {
            throw ValidationError("--mqtt-tls-port needs --mqtt-tls-cert and --mqtt-tls-key (PEM files)")
        }
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
