import KramaaBroker
import KramaaMQTT
import Testing

@Suite struct BrokerDeliveryTests {
    @Test func connackAnnouncesTheBrokersLimitsAndAssignsAnIdentifier() {
        let f = BrokerFixture { $0.maximumKeepAlive = 60 }
        let ack = f.client().connect("", keepAlive: 0)
        #expect(ack.reasonCode == 0)
        #expect(ack.properties.string(.assignedClientIdentifier)?.hasPrefix("kramaa-") == true)
        #expect(ack.properties.uint16(.receiveMaximum) == 1_024)
        #expect(ack.properties.uint16(.topicAliasMaximum) == 64)
        #expect(ack.properties.uint16(.serverKeepAlive) == 60)
        #expect(ack.properties.byte(.sharedSubscriptionAvailable) == 1)
    }

    @Test func qos1IsAcknowledgedAndDeliveredAtTheLowerOfTheTwoQoS() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("sub")
        pub.connect("pub")
        #expect(sub.subscribe("a/+/c", qos: 1) == [1])
        pub.publish("a/b/c", "one", qos: 1, id: 7)
        #expect(pub.acks(.puback).map(\.packetIdentifier) == [7])
        let got = sub.publishes()
        #expect(got.map(\.text) == ["one"])
        #expect(got.first?.qos == 1)
        // Acknowledged: nothing left in flight, the next one gets a new identifier.
        sub.put(MQTTAck(.puback, packetIdentifier: got[0].packetIdentifier!).frame(version: .v5))
        pub.publish("a/x/c", "two", qos: 2, id: 8)
        let second = sub.publishes()
        #expect(second.map(\.qos) == [1])
        #expect(second.first?.packetIdentifier != got.first?.packetIdentifier)
    }

    @Test func qos2RunsTheFourWayHandshakeBothWaysAndDeliversADuplicateOnce() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("sub")
        pub.connect("pub")
        _ = sub.subscribe("t", qos: 2)
        pub.publish("t", "x", qos: 2, id: 3)
        #expect(pub.acks(.pubrec).map(\.packetIdentifier) == [3])
        pub.publish("t", "x", qos: 2, id: 3)  // resent before PUBREL: not delivered again
        #expect(pub.acks(.pubrec).count == 1)
        pub.put(MQTTAck(.pubrel, packetIdentifier: 3).frame(version: .v5))
        #expect(pub.acks(.pubcomp).map(\.reasonCode) == [0])
        let got = sub.publishes()
        #expect(got.count == 1)
        let id = got[0].packetIdentifier!
        sub.put(MQTTAck(.pubrec, packetIdentifier: id).frame(version: .v5))
        #expect(sub.acks(.pubrel).map(\.packetIdentifier) == [id])
        sub.put(MQTTAck(.pubcomp, packetIdentifier: id).frame(version: .v5))
        // A PUBREL for an identifier the broker never saw is answered 0x92.
        pub.put(MQTTAck(.pubrel, packetIdentifier: 99).frame(version: .v5))
        #expect(pub.acks(.pubcomp).map(\.reasonCode) == [0x92])
    }

    @Test func retainedMessagesReachNewSubscribersUnlessRetainHandlingSaysNot() {
        let f = BrokerFixture()
        let pub = f.client()
        pub.connect("pub")
        pub.publish("status/door", "open", qos: 1, retain: true)
        let a = f.client(), b = f.client()
        a.connect("a")
        b.connect("b")
        _ = a.subscribe("status/#", qos: 1)
        let got = a.publishes()
        #expect(got.map(\.text) == ["open"])
        #expect(got.first?.retain == true)
        _ = b.subscribe("status/#", retainHandling: 2)
        #expect(b.publishes().isEmpty)
        // An empty retained payload clears it; live messages carry RETAIN 0 (no Retain As Published).
        pub.publish("status/door", "", qos: 0, retain: true)
        #expect(f.broker.retainedCount == 0)
        #expect(a.publishes().map(\.retain) == [false])
    }

    @Test func wildcardsDoNotMatchDollarTopicsAndOverlappingSubscriptionsGiveOneCopy() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("sub")
        pub.connect("pub")
        _ = sub.subscribe("#", qos: 0, id: 1, identifier: 5)
        _ = sub.subscribe("a/#", qos: 1, id: 2, identifier: 9)
        f.broker.deliver(BrokerMessage(topic: "$SYS/x", payload: Array("no".utf8), qos: 0))
        pub.publish("$mine", "refused", qos: 1, id: 4)
        #expect(pub.acks(.puback).map(\.reasonCode) == [0x90])
        pub.publish("a", "yes", qos: 1)
        let got = sub.publishes()
        #expect(got.map(\.text) == ["yes"])
        #expect(got.first?.qos == 1)
        let ids = got.first?.properties.entries.compactMap { if case .variableInteger(let v) = $0.1 { v } else { nil } }
        #expect(Set(ids ?? []) == [5, 9])
    }

    @Test func sharedSubscriptionsDeliverEachMessageToOneMemberInTurn() {
        let f = BrokerFixture()
        let a = f.client(), b = f.client(), pub = f.client()
        a.connect("a")
        b.connect("b")
        pub.connect("pub")
        _ = a.subscribe("$share/g/jobs/#", qos: 0)
        _ = b.subscribe("$share/g/jobs/#", qos: 0)
        for i in 0..<6 { pub.publish("jobs/\(i)", "\(i)") }
        let ga = a.publishes().map(\.text), gb = b.publishes().map(\.text)
        #expect(ga.count == 3 && gb.count == 3)
        #expect(Set(ga + gb) == Set((0..<6).map(String.init)))
    }

    @Test func noLocalKeepsAClientsOwnMessagesFromIt() {
        let f = BrokerFixture()
        let c = f.client()
        c.connect("me")
        _ = c.subscribe("chat", qos: 0, noLocal: true)
        c.publish("chat", "hello")
        #expect(c.publishes().isEmpty)
    }

    @Test func topicAliasesAreResolvedAndAnAliasOutOfRangeDisconnects() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("sub")
        pub.connect("pub")
        _ = sub.subscribe("long/topic/name", qos: 0)
        var p = MQTTProperties()
        p.append(.topicAlias, .uint16(1))
        pub.publish("long/topic/name", "first", properties: p)
        pub.put(MQTTPublish(topic: "", payload: Array("second".utf8), properties: p).frame(version: .v5))
        #expect(sub.publishes().map(\.text) == ["first", "second"])
        var bad = MQTTProperties()
        bad.append(.topicAlias, .uint16(65))
        pub.publish("x", "y", properties: bad)
        #expect(pub.disconnectFrame()?.reasonCode == 0x94)
        #expect(pub.closed)
    }

    @Test func theClientsReceiveMaximumBoundsMessagesInFlight() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        var p = MQTTProperties()
        p.append(.receiveMaximum, .uint16(2))
        sub.connect("sub", properties: p)
        pub.connect("pub")
        _ = sub.subscribe("q", qos: 1)
        for i in 1...5 { pub.publish("q", "\(i)", qos: 1, id: UInt16(i)) }
        var got = sub.publishes()
        #expect(got.map(\.text) == ["1", "2"])
        sub.put(MQTTAck(.puback, packetIdentifier: got[0].packetIdentifier!).frame(version: .v5))
        got = sub.publishes()
        #expect(got.map(\.text) == ["3"])
    }

    @Test func aMessageOverTheClientsMaximumPacketSizeIsNotSent() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        var p = MQTTProperties()
        p.append(.maximumPacketSize, .uint32(64))
        sub.connect("sub", properties: p)
        pub.connect("pub")
        _ = sub.subscribe("big", qos: 1)
        pub.publish("big", String(repeating: "x", count: 100), qos: 1)
        pub.publish("big", "small", qos: 1, id: 2)
        #expect(sub.publishes().map(\.text) == ["small"])
    }

    @Test func anExpiredMessageIsNotDeliveredAndTheRestIsToldItsRemainingLifetime() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("sub", cleanStart: true, expiry: 600)
        pub.connect("pub")
        _ = sub.subscribe("e", qos: 1)
        sub.put(MQTTDisconnect().frame(version: .v5))
        var short = MQTTProperties(), long = MQTTProperties()
        short.append(.messageExpiryInterval, .uint32(5))
        long.append(.messageExpiryInterval, .uint32(100))
        pub.publish("e", "short", qos: 1, id: 1, properties: short)
        pub.publish("e", "long", qos: 1, id: 2, properties: long)
        f.time.advance(by: .seconds(10))
        let again = f.client()
        #expect(again.connect("sub", cleanStart: false, expiry: 600).sessionPresent)
        let got = again.publishes()
        #expect(got.map(\.text) == ["long"])
        #expect(got.first?.properties.uint32(.messageExpiryInterval) == 90)
    }

    @Test func requestResponseAndUserPropertiesTravelUnchanged() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("sub")
        pub.connect("pub")
        _ = sub.subscribe("req", qos: 0)
        var p = MQTTProperties()
        p.append(.responseTopic, .string("resp/1"))
        p.append(.correlationData, .binary([9, 9]))
        p.append(.userProperty, .pair("k", "v"))
        p.append(.contentType, .string("application/json"))
        pub.publish("req", "{}", properties: p)
        #expect(sub.publishes().first?.properties == p)
    }

    @Test func mqtt311ClientsGetReturnCodesAndNoProperties() {
        let f = BrokerFixture()
        let old = f.client(.v311), new = f.client()
        #expect(old.connect("old").reasonCode == 0)
        new.connect("new")
        #expect(old.subscribe("t", qos: 2) == [2])
        var p = MQTTProperties()
        p.append(.userProperty, .pair("k", "v"))
        new.publish("t", "hi", qos: 1, properties: p)
        let got = old.publishes()
        #expect(got.map(\.text) == ["hi"])
        #expect(got.first?.properties.entries.isEmpty == true)
        let refused = f.client(.v311)
        #expect(refused.connect("x", password: "bad").reasonCode == 4)
    }
}

@Suite struct BrokerDeliveredTests {
    @Test func deliveryIsReportedWhenTheClientAcknowledgesNotWhenItIsSent() {
        let f = BrokerFixture()
        var delivered: [(String, String)] = []
        f.broker.onDelivered = { m, p in delivered.append((m.topic, p.name)) }
        let sub = f.client(), pub = f.client()
        sub.connect("sub", userName: "receiver")
        pub.connect("pub")
        _ = sub.subscribe("d/#", qos: 2)
        pub.publish("d/1", "one", qos: 1)
        let got = sub.publishes()
        #expect(delivered.isEmpty)
        sub.put(MQTTAck(.puback, packetIdentifier: got[0].packetIdentifier!).frame(version: .v5))
        #expect(delivered.map(\.0) == ["d/1"] && delivered.map(\.1) == ["receiver"])
        pub.publish("d/0", "zero", qos: 0)
        #expect(delivered.map(\.0) == ["d/1", "d/0"])
    }
}

@Suite struct BrokerOutboundTests {
    @Test func theBrokerSetsTopicAliasesTheClientAllowsAndThenSendsOnlyTheAlias() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        var p = MQTTProperties()
        p.append(.topicAliasMaximum, .uint16(1))
        sub.connect("sub", properties: p)
        pub.connect("pub")
        _ = sub.subscribe("#", qos: 1)
        for topic in ["a/long/topic", "a/long/topic", "other", "a/long/topic"] { pub.publish(topic, "x", qos: 1) }
        let got = sub.publishes()
        #expect(got.map(\.topic) == ["a/long/topic", "", "other", ""])
        #expect(got.map { $0.properties.uint16(.topicAlias) } == [1, 1, nil, 1])
        // A client that allows none gets none.
        let plain = f.client()
        plain.connect("plain")
        _ = plain.subscribe("#", qos: 0)
        pub.publish("a/long/topic", "x")
        #expect(plain.publishes().first?.properties.uint16(.topicAlias) == nil)
    }

    @Test func qos0MessagesToAClientThatStoppedReadingAreDroppedQoS1Waits() {
        let f = BrokerFixture()
        let slow = f.client(), pub = f.client()
        slow.connect("slow")
        pub.connect("pub")
        _ = slow.subscribe("t", qos: 1)
        slow.isCongested = true
        pub.publish("t", "dropped", qos: 0)
        pub.publish("t", "kept", qos: 1)
        #expect(slow.publishes().map(\.text) == ["kept"])
    }
}
