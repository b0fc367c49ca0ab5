import KramaaMQTT
import Testing

/// PUBLISH and its acknowledgements (§3.3–3.7).
@Suite struct MQTTPublishTests {
    @Test func publishRoundTripsInBothVersions() throws {
        var properties = MQTTProperties()
        properties.append(.messageExpiryInterval, .uint32(120))
        properties.append(.responseTopic, .string("devices/0xab/replies"))
        properties.append(.correlationData, .binary([9, 9]))
        for version in [MQTTVersion.v311, .v5] {
            for qos: UInt8 in 0...2 {
                let publish = MQTTPublish(topic: "devices/0xab/telemetry", payload: Array("21.5 °C".utf8), qos: qos, retain: qos == 1,
                                          duplicate: qos == 2, packetIdentifier: qos > 0 ? 7 : nil,
                                          properties: version == .v5 ? properties : MQTTProperties())
                let (frame, _) = try #require(try MQTTFrame.next(in: publish.frame(version: version).encoded))
                #expect(try MQTTPublish(frame: frame, version: version) == publish, "\(version) QoS \(qos)")
            }
        }
        // QoS 0 at 3.1.1: topic, then the payload (no identifier, no properties).
        #expect(MQTTPublish(topic: "a/b", payload: [0x2a]).frame(version: .v311).encoded == [0x30, 0x06, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x2a])
    }

    @Test func badPublishesAreRefused() {
        func body(_ topic: String, id: UInt16? = nil, properties: [UInt8] = []) -> [UInt8] {
            var w = MQTTWriter()
            w.string(topic)
            if let id { w.uint16(id) }
            w.append(properties)
            return w.bytes
        }
        #expect(throws: MQTTDecodingError.malformed("DUP set on a QoS 0 PUBLISH")) {
            _ = try MQTTPublish(frame: MQTTFrame(type: .publish, flags: 0x08, body: body("a")), version: .v311)
        }
        #expect(throws: MQTTDecodingError.malformed("packet identifier 0")) {
            _ = try MQTTPublish(frame: MQTTFrame(type: .publish, flags: 0x02, body: body("a", id: 0)), version: .v311)
        }
        #expect(throws: MQTTDecodingError.self) {
            _ = try MQTTPublish(frame: MQTTFrame(type: .publish, body: body("a/+")), version: .v311)
        }
        #expect(throws: MQTTDecodingError.protocolError("an empty topic name without a topic alias")) {
            _ = try MQTTPublish(frame: MQTTFrame(type: .publish, body: body("", properties: [0])), version: .v5)
        }
        // An empty topic with a Topic Alias is how MQTT 5 clients publish to an aliased topic.
        #expect(throws: Never.self) {
            _ = try MQTTPublish(frame: MQTTFrame(type: .publish, body: body("", properties: [3, 0x23, 0, 1])), version: .v5)
        }
    }

    @Test func acknowledgementsOmitTheReasonCodeOnlyWhenAllowed() throws {
        #expect(MQTTAck(.puback, packetIdentifier: 7).frame(version: .v5).encoded == [0x40, 0x02, 0x00, 0x07])
        #expect(MQTTAck(.pubrel, packetIdentifier: 7).frame(version: .v311).encoded == [0x62, 0x02, 0x00, 0x07])
        #expect(MQTTAck(.pubrec, packetIdentifier: 7, reasonCode: 0x87).frame(version: .v5).encoded == [0x50, 0x03, 0x00, 0x07, 0x87])
        var properties = MQTTProperties()
        properties.append(.reasonString, .string("topic not allowed"))
        let refused = MQTTAck(.puback, packetIdentifier: 9, reasonCode: 0x87, properties: properties)
        let (frame, _) = try #require(try MQTTFrame.next(in: refused.frame(version: .v5).encoded))
        #expect(try MQTTAck(frame: frame, version: .v5) == refused)
        #expect(throws: MQTTDecodingError.malformed("packet identifier 0")) {
            _ = try MQTTAck(frame: MQTTFrame(type: .puback, body: [0, 0]), version: .v311)
        }
        #expect(throws: MQTTDecodingError.self) { _ = try MQTTAck(frame: MQTTFrame(type: .puback, body: [0, 1, 0]), version: .v311) }
    }
}
