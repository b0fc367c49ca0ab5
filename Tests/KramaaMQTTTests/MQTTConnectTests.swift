import KramaaMQTT
import Testing

/// CONNECT and CONNACK (§3.1, §3.2) in MQTT 3.1.1 and 5.0.
@Suite struct MQTTConnectTests {
    /// CONNECT "MQTT" level 4, clean session, keep alive 60, client "c1": the bytes a 3.1.1
    /// client sends (fixed header 0x10, remaining length 14).
    static let connect311: [UInt8] = [0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x02, 0x63, 0x31]

    @Test func aPlain311ConnectDecodesAndEncodesToTheSameBytes() throws {
        let (frame, size) = try #require(try MQTTFrame.next(in: Self.connect311))
        #expect(size == Self.connect311.count && frame.type == .connect)
        let connect = try MQTTConnect(body: frame.body)
        #expect(connect == MQTTConnect(version: .v311, clientIdentifier: "c1", cleanStart: true, keepAlive: 60))
        #expect(connect.frame.encoded == Self.connect311)
    }

    @Test func aFullV5ConnectRoundTrips() throws {
        var properties = MQTTProperties()
        properties.append(.sessionExpiryInterval, .uint32(3600))
        properties.append(.receiveMaximum, .uint16(20))
        properties.append(.userProperty, .pair("site", "plant 7"))
        var willProperties = MQTTProperties()
        willProperties.append(.willDelayInterval, .uint32(30))
        let will = MQTTWill(topic: "devices/0xab/status", payload: Array("offline".utf8), qos: 1, retain: true, properties: willProperties)
        let connect = MQTTConnect(version: .v5, clientIdentifier: "device-0xab", cleanStart: false, keepAlive: 30,
                                  userName: "0x00000000000000000000000000000000000000ab", password: [1, 2, 3], will: will, properties: properties)
        let bytes = connect.frame.encoded
        let (frame, _) = try #require(try MQTTFrame.next(in: bytes))
        #expect(try MQTTConnect(body: frame.body) == connect)
        #expect(frame.body[7] == 0b1110_1100, "user name, password, will retain, will QoS 1, will; not clean start")
    }

    @Test func connectFlagRulesAreEnforced() throws {
        func refuses(_ flags: UInt8, version: UInt8 = 4, _ error: MQTTDecodingError, sourceLocation: SourceLocation = #_sourceLocation) {
            var body = Array(Self.connect311.dropFirst(2))
            body[6] = version
            body[7] = flags
            #expect(throws: error, sourceLocation: sourceLocation) { _ = try MQTTConnect(body: body) }
        }
        refuses(0x03, .malformed("the reserved connect flag is set"))
        refuses(0x02 | 0x04 | 0x18, .malformed("will QoS 3"))
        refuses(0x02 | 0x20, .malformed("will QoS or retain set without a will"))
        refuses(0x02 | 0x40, .protocolError("a password without a user name (MQTT 3.1.1)"))
        refuses(0x02, version: 3, .unsupportedProtocolVersion(name: "MQTT", level: 3))
        #expect(MQTTDecodingError.unsupportedProtocolVersion(name: "MQIsdp", level: 3).reasonCode == 0x84)
        var trailing = Array(Self.connect311.dropFirst(2))
        trailing.append(0)
        #expect(throws: MQTTDecodingError.malformed("1 bytes after the CONNECT payload")) { _ = try MQTTConnect(body: trailing) }
    }

    @Test func connAckIsWrittenForEachVersion() throws {
        #expect(MQTTConnAck(sessionPresent: true).frame(version: .v311).encoded == [0x20, 0x02, 0x01, 0x00])
        #expect(MQTTConnAck(reasonCode: 0x87).frame(version: .v311).encoded == [0x20, 0x02, 0x00, 0x05], "not authorized")
        #expect(MQTTConnAck(sessionPresent: true, reasonCode: 0x86).frame(version: .v311).encoded == [0x20, 0x02, 0x00, 0x04],
                "a refusal never has a session present")
        var properties = MQTTProperties()
        properties.append(.reasonString, .string("revoked device"))
        let v5 = MQTTConnAck(reasonCode: 0x87, properties: properties)
        let frame = v5.frame(version: .v5)
        #expect(try MQTTConnAck(body: frame.body, version: .v5) == v5)
        #expect([UInt8](0...255).map(MQTTConnAck.returnCode311).allSatisfy { $0 <= 5 })
    }
}
