import KramaaJSON
import KramaaPlatform
import KramaaPrimitives

/// A signed reading as a device sends it to another over messaging (content type
/// ``contentType``): the reading's fields and the device's signature of its digest, so the
/// receiver can check it against the device's registered key and anyone can submit it to the
/// readings contract (docs/DEVICES.md).
public enum ReadingMessage {
    public static let contentType = "application/vnd.kramaa.reading+json"

    public static func encode(_ reading: DeviceReading, signature: [UInt8]) -> [UInt8] {
        let object: JSON = ["device": .string(reading.device.checksummed), "kind": .string(reading.kind.description),
                            "value": .string(reading.signedDecimal), "observedAt": .number(JSONNumber(reading.observedAt)),
                            "sequence": .number(JSONNumber(reading.sequence)), "signature": .string(Hex.encode(signature))]
        return object.serialized()
    }

    public static func decode(_ bytes: [UInt8]) throws(AgentError) -> (reading: DeviceReading, signature: [UInt8]) {
        guard let json = try? JSON.parse(bytes), let o = json.objectValue else { throw AgentError("reading", "not a JSON object") }
        guard let device = o["device"]?.stringValue.flatMap({ try? Address(hex: $0) }),
              let kind = o["kind"]?.stringValue.flatMap({ try? Bytes32(hex: $0) }),
              let value = o["value"]?.stringValue.flatMap(DeviceReading.parseSignedDecimal),
              let observedAt = o["observedAt"]?.numberValue?.uint64, let sequence = o["sequence"]?.numberValue?.uint64,
              let signature = o["signature"]?.stringValue.flatMap({ try? Hex.decode($0) }) else {
            throw AgentError("reading", "needs device, kind (32-byte hex), value (decimal string), observedAt, sequence and signature (hex)")
        }
        return (DeviceReading(device: device, kind: kind, valueWord: value, observedAt: observedAt, sequence: sequence), signature)
    }
}
