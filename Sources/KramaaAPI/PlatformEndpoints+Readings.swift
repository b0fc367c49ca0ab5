import KramaaJSON
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// `/devices/{device}/readings`: readings signed by a device (docs/DEVICES.md), submitted to the
/// readings contract by the node's account like the other writes, and the latest one of a kind.
extension PlatformEndpoints {
    /// A reading's kind from text: `0x` and 64 hex digits is the 32-byte kind itself; anything
    /// else is a name, hashed with keccak256 of its UTF-8 bytes (`soil.moisture`).
    static func readingKind(_ text: String) throws(HTTPProblem) -> Bytes32 {
        if text.hasPrefix("0x") && text.count == 66 {
            do { return try Bytes32(hex: text) } catch { throw .badRequest("kind \(text): \(error)") }
        }
        guard !text.isEmpty else { throw .badRequest("a reading's kind is a name (hashed with keccak256) or 0x and 64 hex digits") }
        return DeviceReading.kind(named: text)
    }

    /// `{device, kind, value, observedAt, sequence, blockNumber}`; 404 when the device has no reading of `kind`.
    func latestReading(_ device: Address, _ kind: Bytes32) throws -> JSON {
        guard let latest = try DeviceReadingsClient(calls.reader).latest(device: device, kind: kind) else {
            throw HTTPProblem.notFound("no reading of kind \(kind) from device \(device)")
        }
        return ["device": .account(device), "kind": .hash(kind), "value": .string(latest.reading.signedDecimal),
                "observedAt": .int(latest.reading.observedAt), "sequence": .int(latest.reading.sequence), "acceptedAtBlock": .int(latest.blockNumber)]
    }

    /// `POST …/readings {kind, value, observedAt, sequence, signature}`: `value` a signed decimal
    /// string, `signature` the device's signature of the reading digest in hex.
    func submitReading(_ device: Address, _ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let kind = try Self.readingKind(try body.string("kind"))
        guard let value = DeviceReading.parseSignedDecimal(try body.string("value")) else {
            throw HTTPProblem.badRequest("\"value\" must be a signed decimal string of an int256 (\"-1250\")")
        }
        let reading = DeviceReading(device: device, kind: kind, valueWord: value, observedAt: try body.uint64("observedAt"),
                                    sequence: try body.uint64("sequence"))
        let sent = try await calls.write(from: from, DeviceReadings.address, reading.submitCallData(signature: try body.bytes("signature")))
        return .json(try latestReading(device, kind).merging(sent), status: 201,
                     headers: [("location", "\(Self.prefix)/devices/\(device)/readings/\(kind)")])
    }
}
