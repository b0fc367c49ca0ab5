/// The line a device writes to its serial port for each frame, read by `kramaa device bridge`
/// (docs/FIRMWARE.md, "Serial frames"):
///
/// ```
/// kramaa-frame <kind> <hex of the bytes> <check>\n
/// check = hex of the first 4 bytes of keccak256(kind ‖ 0x00 ‖ bytes)
/// ```
/// The check catches a damaged line (the bridge refuses it); the signatures inside the frames
/// are what authenticate them. Any other line is the device's log and is passed through.
public enum SerialFrame {
    /// The frame kinds.
    public enum Kind {
        /// key type code (1 byte) ‖ public key: who the following frames are from.
        case identity
        /// A signed device transaction (type 0x4b), for eth_sendRawTransaction.
        case transaction
        /// A signed reading: the 122-byte preimage ‖ 64-byte signature.
        case reading
        /// An MQTT 5 CONNECT packet carrying the device token.
        case mqttConnect
        /// An MQTT 5 PUBLISH packet carrying a signed envelope.
        case mqttPublish

        public var name: StaticString {
            switch self {
            case .identity: "identity"
            case .transaction: "tx"
            case .reading: "reading"
            case .mqttConnect: "mqtt-connect"
            case .mqttPublish: "mqtt-publish"
            }
        }
    }

    /// Writes one frame line.
    public static func write<S: ByteSink>(_ kind: Kind, _ bytes: UnsafeRawBufferPointer, to sink: inout S) {
        sink.update(ascii: "kramaa-frame ")
        sink.update(ascii: kind.name)
        sink.update(0x20)
        HexText.write(bytes, to: &sink)
        sink.update(0x20)
        var h = Keccak256()
        h.update(ascii: kind.name)
        h.update(0)
        h.update(bytes)
        let check = h.finalize()
        withUnsafeBytes(of: check) { HexText.write(UnsafeRawBufferPointer(rebasing: $0[0..<4]), to: &sink) }
        sink.update(0x0a)
    }
}
