/// MQTT 5 reason codes (§2.4) in words, so that a refusal can be reported as what it means and
/// not as a number; and the MQTT 3.1.1 CONNACK return codes mapped to them.
public enum MQTTReasonCode {
    /// What `code` means (MQTT 5 §2.4, Table 2-6), e.g. 0x87 → "not authorized".
    public static func meaning(_ code: UInt8) -> String {
        switch code {
        case 0x00: "success"
        case 0x01: "granted QoS 1"
        case 0x02: "granted QoS 2"
        case 0x04: "disconnect with will message"
        case 0x10: "no matching subscribers"
        case 0x11: "no subscription existed"
        case 0x18: "continue authentication"
        case 0x19: "re-authenticate"
        case 0x80: "unspecified error"
        case 0x81: "malformed packet"
        case 0x82: "protocol error"
        case 0x83: "implementation specific error"
        case 0x84: "unsupported protocol version"
        case 0x85: "client identifier not valid"
        case 0x86: "bad user name or password"
        case 0x87: "not authorized"
        case 0x88: "server unavailable"
        case 0x89: "server busy"
        case 0x8A: "banned"
        case 0x8B: "server shutting down"
        case 0x8C: "bad authentication method"
        case 0x8D: "keep alive timeout"
        case 0x8E: "session taken over"
        case 0x8F: "topic filter invalid"
        case 0x90: "topic name invalid"
        case 0x91: "packet identifier in use"
        case 0x92: "packet identifier not found"
        case 0x93: "receive maximum exceeded"
        case 0x94: "topic alias invalid"
        case 0x95: "packet too large"
        case 0x96: "message rate too high"
        case 0x97: "quota exceeded"
        case 0x98: "administrative action"
        case 0x99: "payload format invalid"
        case 0x9A: "retain not supported"
        case 0x9B: "QoS not supported"
        case 0x9C: "use another server"
        case 0x9D: "server moved"
        case 0x9E: "shared subscriptions not supported"
        case 0x9F: "connection rate exceeded"
        case 0xA0: "maximum connect time"
        case 0xA1: "subscription identifiers not supported"
        case 0xA2: "wildcard subscriptions not supported"
        default: "reason code 0x\(String(code, radix: 16)) (not defined by MQTT 5)"
        }
    }

    /// `0x87 (not authorized)`.
    public static func describe(_ code: UInt8) -> String {
        "0x" + (code < 0x10 ? "0" : "") + String(code, radix: 16, uppercase: true) + " (" + meaning(code) + ")"
    }

    /// The MQTT 5 reason code of an MQTT 3.1.1 CONNACK return code (§3.2.2.3 of 3.1.1): the
    /// inverse of ``MQTTConnAck/returnCode311(_:)`` (5, "not authorized", for unknown codes).
    public static func fromConnectReturnCode311(_ code: UInt8) -> UInt8 {
        switch code {
        case 0: 0x00
        case 1: 0x84
        case 2: 0x85
        case 3: 0x88
        case 4: 0x86
        default: 0x87
        }
    }
}
