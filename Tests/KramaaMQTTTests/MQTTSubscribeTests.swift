import KramaaMQTT
import Testing

/// SUBSCRIBE, UNSUBSCRIBE, their acknowledgements and DISCONNECT (§3.8–3.11, §3.14).
@Suite struct MQTTSubscribeTests {
    @Test func subscribeRoundTripsWithItsOptions() throws {
        var properties = MQTTProperties()
        properties.append(.subscriptionIdentifier, .variableInteger(42))
        let v5 = MQTTSubscribe(packetIdentifier: 3, requests: [
            MQTTSubscriptionRequest(filter: "devices/+/telemetry", qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2),
            MQTTSubscriptionRequest(filter: "$share/workers/jobs/#", qos: 2),
        ], properties: properties)
        let frame = v5.frame(version: .v5)
        #expect(frame.encoded.first == 0x82)
        #expect(try MQTTSubscribe(body: frame.body, version: .v5) == v5)
        let v311 = MQTTSubscribe(packetIdentifier: 3, requests: [MQTTSubscriptionRequest(filter: "a/#", qos: 1)])
        #expect(v311.frame(version: .v311).encoded == [0x82, 0x08, 0x00, 0x03, 0x00, 0x03, 0x61, 0x2f, 0x23, 0x01])
        #expect(try MQTTSubscribe(body: v311.frame(version: .v311).body, version: .v311) == v311)
    }

    @Test func badSubscriptionsAreRefused() {
        func body(_ filter: String, _ options: UInt8, id: UInt16 = 1) -> [UInt8] {
            var w = MQTTWriter()
            w.uint16(id)
            w.string(filter)
            w.byte(options)
            return w.bytes
        }
        #expect(throws: MQTTDecodingError.malformed("subscription QoS 3 for a")) { _ = try MQTTSubscribe(body: body("a", 3), version: .v311) }
        #expect(throws: MQTTDecodingError.malformed("reserved subscription option bits set for a")) { _ = try MQTTSubscribe(body: body("a", 0x04), version: .v311) }
        #expect(throws: MQTTDecodingError.protocolError("retain handling 3 for a")) { _ = try MQTTSubscribe(body: [0, 1, 0] + body("a", 0x30).dropFirst(2), version: .v5) }
        #expect(throws: MQTTDecodingError.protocolError("no local on the shared subscription $share/g/a")) {
            _ = try MQTTSubscribe(body: [0, 1, 0] + body("$share/g/a", 0x04).dropFirst(2), version: .v5)
        }
        #expect(throws: MQTTDecodingError.self) { _ = try MQTTSubscribe(body: body("a/#/b", 0), version: .v311) }
        #expect(throws: MQTTDecodingError.malformed("packet identifier 0")) { _ = try MQTTSubscribe(body: body("a", 0, id: 0), version: .v311) }
        #expect(throws: MQTTDecodingError.protocolError("a SUBSCRIBE without topic filters")) { _ = try MQTTSubscribe(body: [0, 1], version: .v311) }
        #expect(throws: MQTTDecodingError.protocolError("an UNSUBSCRIBE without topic filters")) { _ = try MQTTUnsubscribe(body: [0, 1, 0], version: .v5) }
    }

    @Test func acknowledgementsAndDisconnectPerVersion() throws {
        let unsubscribe = MQTTUnsubscribe(packetIdentifier: 5, filters: ["a/+", "$share/g/b"])
        #expect(try MQTTUnsubscribe(body: unsubscribe.frame(version: .v5).body, version: .v5) == unsubscribe)
        let suback = MQTTSubscribeAck(.suback, packetIdentifier: 3, reasonCodes: [0x01, 0x87])
        #expect(suback.frame(version: .v5).encoded == [0x90, 0x05, 0x00, 0x03, 0x00, 0x01, 0x87])
        #expect(suback.frame(version: .v311).encoded == [0x90, 0x04, 0x00, 0x03, 0x01, 0x80], "3.1.1 knows only 0x80 for a refusal")
        #expect(MQTTSubscribeAck(.unsuback, packetIdentifier: 5, reasonCodes: [0x00, 0x11]).frame(version: .v311).encoded == [0xb0, 0x02, 0x00, 0x05])
        #expect(MQTTDisconnect().frame(version: .v5).encoded == [0xe0, 0x00])
        let kicked = MQTTDisconnect(reasonCode: 0x8e)  // session taken over
        #expect(kicked.frame(version: .v5).encoded == [0xe0, 0x01, 0x8e])
        #expect(try MQTTDisconnect(body: [0x8e], version: .v5) == kicked)
        #expect(throws: MQTTDecodingError.malformed("bytes after the DISCONNECT")) { _ = try MQTTDisconnect(body: [0x00], version: .v311) }
    }
}
