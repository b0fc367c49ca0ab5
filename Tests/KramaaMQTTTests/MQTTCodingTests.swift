import KramaaMQTT
import Testing

/// MQTT's data representations and framing (MQTT 5 §1.5, §2.1).
@Suite struct MQTTCodingTests {
    @Test func variableByteIntegersAtEveryBoundary() throws {
        // The specification's table (§1.5.5): the ranges of 1, 2, 3 and 4 bytes.
        let cases: [(Int, [UInt8])] = [(0, [0x00]), (127, [0x7f]), (128, [0x80, 0x01]), (16_383, [0xff, 0x7f]),
                                       (16_384, [0x80, 0x80, 0x01]), (2_097_151, [0xff, 0xff, 0x7f]),
                                       (2_097_152, [0x80, 0x80, 0x80, 0x01]), (268_435_455, [0xff, 0xff, 0xff, 0x7f])]
        for (value, bytes) in cases {
            var w = MQTTWriter()
            w.variableInteger(value)
            #expect(w.bytes == bytes, "\(value)")
            #expect(MQTTWriter.variableIntegerSize(value) == bytes.count)
            var r = MQTTReader(bytes)
            #expect(try r.variableInteger() == value)
            #expect(r.isAtEnd)
        }
    }

    @Test func malformedVariableIntegersAndStringsAreRefused() {
        var fiveBytes = MQTTReader([0xff, 0xff, 0xff, 0xff, 0x01])
        #expect(throws: MQTTDecodingError.malformed("a variable byte integer longer than 4 bytes")) { _ = try fiveBytes.variableInteger() }
        var nonMinimal = MQTTReader([0x80, 0x00])
        #expect(throws: MQTTDecodingError.self) { _ = try nonMinimal.variableInteger() }
        var invalidUTF8 = MQTTReader([0x00, 0x02, 0xc3, 0x28])
        #expect(throws: MQTTDecodingError.malformed("a string that is not well-formed UTF-8")) { _ = try invalidUTF8.string() }
        var nul = MQTTReader([0x00, 0x03, 0x61, 0x00, 0x62])
        #expect(throws: MQTTDecodingError.malformed("a string containing U+0000")) { _ = try nul.string() }
        var short = MQTTReader([0x00, 0x05, 0x61])
        #expect(throws: MQTTDecodingError.self) { _ = try short.binary() }
        #expect(MQTTDecodingError.malformed("x").reasonCode == 0x81 && MQTTDecodingError.packetTooLarge(size: 2, maximum: 1).reasonCode == 0x95)
    }

    @Test func framesAreCutFromAStreamWhateverHowTheBytesArrive() throws {
        var body = MQTTWriter()
        body.string("sensors/t1")
        body.append(Array(repeating: 0x2a, count: 300))  // a remaining length of two bytes
        let publish = MQTTFrame(type: .publish, flags: 0b0001, body: body.bytes)
        let stream = publish.encoded + MQTTFrame(type: .pingreq).encoded
        // Every prefix short of a whole packet asks for more; the whole one is cut exactly.
        for cut in 0..<publish.encoded.count { #expect(try MQTTFrame.next(in: Array(stream.prefix(cut))) == nil, "\(cut)") }
        let (first, size) = try #require(try MQTTFrame.next(in: stream))
        #expect(first == publish && size == publish.encoded.count)
        let (second, _) = try #require(try MQTTFrame.next(in: stream, from: size))
        #expect(second.type == .pingreq && second.body.isEmpty)
    }

    @Test func badFixedHeadersAndOversizedPacketsAreRefusedEarly() {
        #expect(throws: MQTTDecodingError.malformed("packet type 0 (reserved)")) { _ = try MQTTFrame.next(in: [0x00, 0x00]) }
        #expect(throws: MQTTDecodingError.self) { _ = try MQTTFrame.next(in: [0x80, 0x00]) }  // SUBSCRIBE must carry flags 0010
        #expect(throws: MQTTDecodingError.malformed("PUBLISH with QoS 3")) { _ = try MQTTFrame.next(in: [0x36, 0x00]) }
        #expect(throws: MQTTDecodingError.malformed("a variable byte integer longer than 4 bytes")) {
            _ = try MQTTFrame.next(in: [0xc0, 0xff, 0xff, 0xff, 0xff, 0x01])
        }
        #expect(throws: MQTTDecodingError.malformed("a variable byte integer in more bytes than needed")) { _ = try MQTTFrame.next(in: [0xc0, 0x80, 0x00]) }
        // Refused from the header alone: 1 MiB announced, 100 KiB allowed, no body sent yet.
        #expect(throws: MQTTDecodingError.packetTooLarge(size: 1_048_580, maximum: 102_400)) {
            _ = try MQTTFrame.next(in: [0x30, 0x80, 0x80, 0x40], maximumSize: 102_400)
        }
    }
}

/// Topic names, filters and matching (MQTT 5 §4.7, §4.8.2).
@Suite struct MQTTTopicTests {
    @Test func wildcardsMatchAsTheSpecificationSays() {
        let cases: [(String, String, Bool)] = [
            ("sport/tennis/player1/#", "sport/tennis/player1", true), ("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
            ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true), ("sport/#", "sport", true), ("#", "a/b", true),
            ("sport/tennis/+", "sport/tennis/player1", true), ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+", "sport", false), ("sport/+", "sport/", true), ("+/+", "/finance", true), ("/+", "/finance", true),
            ("+", "/finance", false), ("#", "$SYS/broker", false), ("+/monitor/Clients", "$SYS/monitor/Clients", false),
            ("$SYS/#", "$SYS/broker", true), ("$SYS/monitor/+", "$SYS/monitor/Clients", true), ("a/b", "a/b", true), ("a/b", "a/c", false),
        ]
        for (filter, name, expected) in cases { #expect(MQTTTopic.matches(filter: filter, name: name) == expected, "\(filter) vs \(name)") }
    }

    @Test func invalidFiltersAndNamesAreRefused() throws {
        for bad in ["sport/tennis#", "sport/tennis/#/ranking", "sport+", "", "a/#/"] {
            #expect(throws: MQTTDecodingError.self, "\(bad)") { try MQTTTopic.validateFilter(bad) }
        }
        for good in ["#", "+", "sport/+/player1", "+/tennis/#", "/"] { try MQTTTopic.validateFilter(good) }
        #expect(throws: MQTTDecodingError.self) { try MQTTTopic.validateName("a/+") }
        #expect(throws: MQTTDecodingError.self) { try MQTTTopic.validateName("") }
        try MQTTTopic.validateName("devices/0xabc/telemetry")
    }

    @Test func sharedSubscriptionsNameTheirGroup() throws {
        #expect(try MQTTTopic.parseSubscription("$share/consumers/sport/#") == .init(filter: "sport/#", shareGroup: "consumers"))
        #expect(try MQTTTopic.parseSubscription("sport/#") == .init(filter: "sport/#", shareGroup: nil))
        for bad in ["$share/consumers", "$share//a", "$share/a+b/c", "$share/g/a#"] {
            #expect(throws: MQTTDecodingError.self, "\(bad)") { _ = try MQTTTopic.parseSubscription(bad) }
        }
    }
}
