import KramaaMQTT
import Testing

/// MQTT 5 properties (§2.2.2): every identifier with its type, and the refusals.
@Suite struct MQTTPropertiesTests {
    static func sample(_ id: MQTTProperties.Identifier, _ n: Int) -> MQTTProperties.Value {
        switch id {
        case .payloadFormatIndicator, .requestProblemInformation, .requestResponseInformation, .maximumQoS, .retainAvailable,
             .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable, .sharedSubscriptionAvailable: .byte(UInt8(n % 2))
        case .serverKeepAlive, .receiveMaximum, .topicAliasMaximum, .topicAlias: .uint16(UInt16(1000 + n))
        case .messageExpiryInterval, .sessionExpiryInterval, .willDelayInterval, .maximumPacketSize: .uint32(UInt32(70_000 + n))
        case .subscriptionIdentifier: .variableInteger(268_435_455)
        case .contentType, .responseTopic, .assignedClientIdentifier, .authenticationMethod, .responseInformation,
             .serverReference, .reasonString: .string("välue \(n)")
        case .correlationData, .authenticationData: .binary([0, 1, 2, UInt8(n)])
        case .userProperty: .pair("key \(n)", "value \(n)")
        }
    }

    @Test func everyIdentifierRoundTripsWithItsType() throws {
        var properties = MQTTProperties()
        for (n, id) in MQTTProperties.Identifier.allCases.enumerated() { properties.append(id, Self.sample(id, n)) }
        properties.append(.userProperty, .pair("key", "second"))  // user properties repeat, in order
        var w = MQTTWriter()
        properties.write(to: &w)
        w.byte(0xee)  // what follows the properties is left alone
        var r = MQTTReader(w.bytes)
        let read = try MQTTProperties(reading: &r)
        #expect(read == properties)
        #expect(try r.byte() == 0xee && r.isAtEnd)
        #expect(read.userProperties.count == 2 && read.userProperties.last! == ("key", "second"))
        #expect(read.uint32(.sessionExpiryInterval) == properties.uint32(.sessionExpiryInterval))
        #expect(read.string(.reasonString)?.hasPrefix("välue") == true)
    }

    @Test func anEmptyPropertyListIsOneZeroByte() throws {
        var w = MQTTWriter()
        MQTTProperties().write(to: &w)
        #expect(w.bytes == [0])
        var r = MQTTReader([0])
        #expect(try MQTTProperties(reading: &r) == MQTTProperties())
    }

    @Test func repeatedUnknownAndOverrunningPropertiesAreRefused() {
        // Session Expiry Interval twice: a Protocol Error (0x82).
        var twice = MQTTReader([10, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2])
        #expect(throws: MQTTDecodingError.protocolError("property sessionExpiryInterval more than once")) { _ = try MQTTProperties(reading: &twice) }
        var unknown = MQTTReader([2, 0x7f, 0])
        #expect(throws: MQTTDecodingError.malformed("unknown property identifier 127")) { _ = try MQTTProperties(reading: &unknown) }
        // A four-byte value declared inside a three-byte property list.
        var overrun = MQTTReader([3, 0x02, 0, 0, 0, 1])
        #expect(throws: MQTTDecodingError.malformed("property messageExpiryInterval runs past the property length")) {
            _ = try MQTTProperties(reading: &overrun)
        }
        var past = MQTTReader([9, 0x01, 1])
        #expect(throws: MQTTDecodingError.self) { _ = try MQTTProperties(reading: &past) }
        var zeroIdentifier = MQTTReader([2, 0x0b, 0])
        #expect(throws: MQTTDecodingError.protocolError("a subscription identifier of 0")) { _ = try MQTTProperties(reading: &zeroIdentifier) }
        #expect(MQTTDecodingError.protocolError("x").reasonCode == 0x82)
    }
}
