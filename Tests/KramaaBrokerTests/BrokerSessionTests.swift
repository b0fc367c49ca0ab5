import KramaaPrimitives
import KramaaBroker
import KramaaMQTT
import Testing

@Suite struct BrokerSessionTests {
    @Test func aPersistentSessionKeepsSubscriptionsAndQueuedMessagesAcrossReconnection() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        #expect(!sub.connect("s", cleanStart: true, expiry: 3_600).sessionPresent)
        _ = sub.subscribe("d/#", qos: 1)
        sub.put(MQTTDisconnect().frame(version: .v5))
        pub.connect("p")
        pub.publish("d/1", "while away", qos: 1)
        let back = f.client()
        #expect(back.connect("s", cleanStart: false, expiry: 3_600).sessionPresent)
        #expect(back.publishes().map(\.text) == ["while away"])
        // Clean start discards it all.
        let fresh = f.client()
        #expect(!fresh.connect("s", cleanStart: true).sessionPresent)
        pub.publish("d/2", "nobody", qos: 1, id: 2)
        #expect(fresh.publishes().isEmpty)
    }

    @Test func anUnacknowledgedMessageIsResentWithDupAfterReconnection() {
        let f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("s", expiry: 60)
        pub.connect("p")
        _ = sub.subscribe("t", qos: 1)
        pub.publish("t", "m", qos: 1)
        let first = sub.publishes()
        f.broker.connectionLost(sub.id)
        let again = f.client()
        again.connect("s", cleanStart: false, expiry: 60)
        let resent = again.publishes()
        #expect(resent.map(\.text) == ["m"])
        #expect(resent.first?.duplicate == true)
        #expect(resent.first?.packetIdentifier == first.first?.packetIdentifier)
    }

    @Test func aSessionExpiresAfterItsInterval() {
        let f = BrokerFixture()
        let sub = f.client()
        sub.connect("s", expiry: 30)
        _ = sub.subscribe("t")
        sub.put(MQTTDisconnect().frame(version: .v5))
        f.time.advance(by: .seconds(29))
        f.broker.tick()
        #expect(f.broker.sessionCount == 1)
        f.time.advance(by: .seconds(2))
        f.broker.tick()
        #expect(f.broker.sessionCount == 0)
        #expect(f.broker.subscriptionCount == 0)
        f.broker.commit()
        #expect(f.journal.committed.sessions.isEmpty)
    }

    @Test func theJournalRestoresSessionsAndRetainedMessagesAfterARestart() {
        var f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("s", expiry: 600)
        _ = sub.subscribe("t", qos: 2)
        sub.put(MQTTDisconnect().frame(version: .v5))
        pub.connect("p")
        pub.publish("t", "queued", qos: 1)
        pub.publish("r", "kept", qos: 0, retain: true)
        f.restart()
        #expect(f.broker.sessionCount == 1)
        #expect(f.broker.retainedCount == 1)
        let back = f.client()
        #expect(back.connect("s", cleanStart: false, expiry: 600).sessionPresent)
        #expect(back.publishes().map(\.text) == ["queued"])
        _ = back.subscribe("r", qos: 0, id: 9)
        #expect(back.publishes().map(\.text) == ["kept"])
    }

    @Test func anAcknowledgementWaitsForTheJournalAndACrashBeforeCommitLosesNothingAcknowledged() {
        var f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("s", expiry: 600)
        _ = sub.subscribe("t", qos: 1)
        sub.put(MQTTDisconnect().frame(version: .v5))
        pub.connect("p")
        f.broker.receive(MQTTPublish(topic: "t", payload: [1], qos: 1, packetIdentifier: 5).frame(version: .v5), on: pub.id)
        #expect(pub.acks(.puback).isEmpty)  // held: not yet durable
        #expect(f.broker.needsCommit)
        f.journal.crash()
        f.restart()
        let back = f.client()
        back.connect("s", cleanStart: false, expiry: 600)
        #expect(back.publishes().isEmpty)  // never acknowledged, so the publisher still has it
        // Committed: acknowledged and kept through a restart.
        let pub2 = f.client()
        pub2.connect("p2")
        pub2.publish("t", "durable", qos: 1, id: 6)
        #expect(pub2.acks(.puback).map(\.packetIdentifier) == [6])
    }

    @Test func aWillIsPublishedWhenTheConnectionIsLostButNotAfterANormalDisconnect() {
        let f = BrokerFixture()
        let watcher = f.client()
        watcher.connect("w")
        _ = watcher.subscribe("wills/#", qos: 1)
        let dying = f.client()
        dying.connect("d", will: MQTTWill(topic: "wills/d", payload: Array("gone".utf8), qos: 1))
        f.broker.connectionLost(dying.id)
        #expect(watcher.publishes().map(\.text) == ["gone"])
        let polite = f.client()
        polite.connect("p", will: MQTTWill(topic: "wills/p", payload: Array("gone".utf8)))
        polite.put(MQTTDisconnect().frame(version: .v5))
        let withWill = f.client()
        withWill.connect("q", will: MQTTWill(topic: "wills/q", payload: Array("asked".utf8)))
        withWill.put(MQTTDisconnect(reasonCode: 0x04).frame(version: .v5))
        #expect(watcher.publishes().map(\.text) == ["asked"])
    }

    @Test func aDelayedWillIsCancelledByReconnectionAndPublishedAfterItsDelayOtherwise() {
        let f = BrokerFixture()
        let watcher = f.client()
        watcher.connect("w")
        _ = watcher.subscribe("wills/#", qos: 0)
        var delay = MQTTProperties()
        delay.append(.willDelayInterval, .uint32(10))
        let will = MQTTWill(topic: "wills/d", payload: Array("late".utf8), properties: delay)
        let d = f.client()
        d.connect("d", expiry: 100, will: will)
        f.broker.connectionLost(d.id)
        f.time.advance(by: .seconds(5))
        f.broker.tick()
        #expect(watcher.publishes().isEmpty)
        f.client().connect("d", cleanStart: false, expiry: 100)
        f.time.advance(by: .seconds(10))
        f.broker.tick()
        #expect(watcher.publishes().isEmpty)
        let e = f.client()
        e.connect("e", expiry: 100, will: will)
        f.broker.connectionLost(e.id)
        f.time.advance(by: .seconds(11))
        f.broker.tick()
        #expect(watcher.publishes().map(\.text) == ["late"])
    }

    @Test func keepAliveTimeoutDisconnectsWith0x8DAndPublishesTheWill() {
        let f = BrokerFixture()
        let watcher = f.client()
        watcher.connect("w")
        _ = watcher.subscribe("wills/#", qos: 0)
        let quiet = f.client()
        quiet.connect("q", keepAlive: 10, will: MQTTWill(topic: "wills/q", payload: Array("timeout".utf8)))
        f.time.advance(by: .seconds(14))
        f.broker.tick()
        #expect(!quiet.closed)
        f.time.advance(by: .seconds(2))
        f.broker.tick()
        #expect(quiet.disconnectFrame()?.reasonCode == 0x8D)
        #expect(quiet.closed)
        #expect(watcher.publishes().map(\.text) == ["timeout"])
    }

    @Test func aSecondConnectionWithTheSameIdentifierTakesTheSessionOver() {
        let f = BrokerFixture()
        let first = f.client(), second = f.client()
        first.connect("same", expiry: 60)
        _ = first.subscribe("t", qos: 1)
        #expect(second.connect("same", cleanStart: false, expiry: 60).sessionPresent)
        #expect(first.disconnectFrame()?.reasonCode == 0x8E)
        #expect(first.closed)
        // Another principal may not take it.
        let thief = f.client()
        #expect(thief.connect("same", userName: "mallory").reasonCode == 0x85)
        #expect(!second.closed)
    }

    @Test func refusedCredentialsGetTheirReasonCodeAndLeaveNoSession() {
        let f = BrokerFixture()
        let c = f.client()
        #expect(c.connect("x", password: "bad").reasonCode == 0x86)
        #expect(c.closed)
        #expect(f.broker.sessionCount == 0)
    }

    @Test func enhancedAuthenticationRunsItsChallengeBeforeConnack() {
        let f = BrokerFixture()
        let c = f.client()
        var p = MQTTProperties()
        p.append(.authenticationMethod, .string("challenge"))
        c.put(MQTTConnect(version: .v5, clientIdentifier: "c", userName: "dev", properties: p).frame)
        let challenge = try! MQTTAuth(body: c.take()[0].body)
        #expect(challenge.reasonCode == 0x18 && challenge.data == [1, 2, 3])
        var answer = MQTTProperties()
        answer.append(.authenticationMethod, .string("challenge"))
        answer.append(.authenticationData, .binary([3, 2, 1]))
        c.put(MQTTAuth(reasonCode: 0x18, properties: answer).frame)
        let ack = try! MQTTConnAck(body: c.take()[0].body, version: .v5)
        #expect(ack.reasonCode == 0)
        #expect(ack.properties.string(.authenticationMethod) == "challenge")
    }

    @Test func unauthorisedPublishAndSubscribeAreRefusedWithTheirReasonCodesAndNothingIsDelivered() {
        let f = BrokerFixture()
        let c = f.client(), spy = f.client()
        c.connect("c")
        spy.connect("spy")
        _ = spy.subscribe("#", qos: 1)
        #expect(c.subscribe("secret/x", qos: 1) == [0x87])
        c.publish("private/x", "no", qos: 1, id: 3)
        #expect(c.acks(.puback).map(\.reasonCode) == [0x87])
        #expect(spy.publishes().isEmpty)
        #expect(f.broker.retainedCount == 0)
    }

    @Test func aMountedClientSeesOnlyItsOwnNamespace() {
        let f = BrokerFixture()
        let anon = f.client(), named = f.client()
        anon.connect("a", userName: "anon")
        named.connect("n")
        _ = anon.subscribe("#", qos: 0)
        _ = named.subscribe("#", qos: 0)
        anon.publish("hello", "from the sandbox")
        named.publish("hello", "from outside")
        #expect(anon.publishes().map { "\($0.topic) \($0.text)" } == ["hello from the sandbox"])
        #expect(named.publishes().map { "\($0.topic) \($0.text)" } == ["sandbox/hello from the sandbox", "hello from outside"])
    }

    @Test func revalidationDisconnectsAPrincipalThatIsNoLongerValid() {
        let f = BrokerFixture()
        let c = f.client(), other = f.client()
        c.connect("c", userName: "device-1")
        other.connect("o", userName: "device-2")
        f.authenticator.revoked = ["device-1"]
        f.broker.revalidate()
        #expect(c.disconnectFrame()?.reasonCode == 0x87)
        #expect(c.closed && !other.closed)
    }

    @Test func protocolViolationsDisconnectWithTheSpecifiedReasonAndOtherClientsCarryOn() {
        let f = BrokerFixture()
        let bad = f.client(), good = f.client()
        bad.connect("bad")
        good.connect("good")
        _ = good.subscribe("t", qos: 0)
        bad.put(MQTTConnect(version: .v5, clientIdentifier: "again").frame)
        #expect(bad.disconnectFrame()?.reasonCode == 0x82)
        #expect(bad.closed)
        let early = f.client()
        early.put(MQTTFrame(type: .pingreq))
        #expect(early.closed && early.take().isEmpty)
        f.broker.malformed(f.client().id, .unsupportedProtocolVersion(name: "MQIsdp", level: 3))
        let other = f.client()
        other.connect("other")
        other.publish("t", "still here")
        #expect(good.publishes().map(\.text) == ["still here"])
    }

    @Test func theQueueOfAnOfflineSessionIsBoundedDroppingTheOldest() {
        let f = BrokerFixture { $0.maximumQueuedMessages = 3 }
        let sub = f.client(), pub = f.client()
        sub.connect("s", expiry: 600)
        _ = sub.subscribe("t", qos: 1)
        sub.put(MQTTDisconnect().frame(version: .v5))
        pub.connect("p")
        for i in 1...5 { pub.publish("t", "\(i)", qos: 1, id: UInt16(i)) }
        let back = f.client()
        back.connect("s", cleanStart: false, expiry: 600)
        #expect(back.publishes().map(\.text) == ["3", "4", "5"])
    }
}

@Suite struct BrokerInternalConnectionTests {
    @Test func aConnectionInsideTheNodeIsAcceptedAsItsPrincipalWithoutCredentials() {
        let f = BrokerFixture()
        let inside = TestClient(f.broker)
        inside.id = f.broker.openAuthenticated(inside, remote: "bridge", principal: Principal(name: "bridge", group: "operator"))
        #expect(inside.connect("bridge", userName: nil, password: "bad").reasonCode == 0)
        let outside = f.client()
        #expect(outside.connect("x", password: "bad").reasonCode == 0x86)
    }
}

/// An authoriser whose refusals the test changes.
final class SwitchableAuthorizer: BrokerAuthorizer {
    var refusedFilters: Set<String> = []
    func mayPublish(_ principal: Principal, topic: String) -> Refusal? { nil }
    func maySubscribe(_ principal: Principal, filter: String) -> Refusal? {
        refusedFilters.contains(filter) ? Refusal(0x87, "revoked") : nil
    }
}

@Suite struct BrokerRecheckTests {
    @Test func subscriptionsTheAuthoriserNowRefusesAreRemovedAndNothingMoreArrives() {
        let rules = SwitchableAuthorizer()
        let broker = try! Broker(clock: ManualTime(), authenticator: TestAuthenticator(), authorizer: rules)
        let sub = TestClient(broker), pub = TestClient(broker)
        sub.connect("sub")
        pub.connect("pub")
        _ = sub.subscribe("granted/x", qos: 0)
        _ = sub.subscribe("kept", qos: 0, id: 2)
        rules.refusedFilters = ["granted/x"]
        broker.recheckSubscriptions()
        pub.publish("granted/x", "after revocation")
        pub.publish("kept", "still")
        #expect(sub.publishes().map(\.text) == ["still"])
        #expect(broker.interest == ["kept"])
    }
}

@Suite struct BrokerLimitTests {
    @Test func connectionsBeyondTheMaximumAreRefusedAsServerBusyAndOthersCarryOn() {
        let f = BrokerFixture { $0.maximumConnections = 2 }
        let a = f.client(), b = f.client()
        #expect(a.connect("a").reasonCode == 0)
        #expect(b.connect("b").reasonCode == 0)
        let c = f.client()
        #expect(c.connect("c").reasonCode == 0x89)
        #expect(c.closed && f.broker.connectionCount == 2)
        a.put(MQTTDisconnect().frame(version: .v5))
        #expect(f.client().connect("d").reasonCode == 0)
    }
}

@Suite struct BrokerRestartTests {
    @Test func aQueuedMessageKeepsItsSubscriptionIdentifiersThroughARestart() {
        var f = BrokerFixture()
        let sub = f.client(), pub = f.client()
        sub.connect("s", expiry: 600)
        _ = sub.subscribe("t", qos: 1, identifier: 42)
        sub.put(MQTTDisconnect().frame(version: .v5))
        pub.connect("p")
        pub.publish("t", "queued", qos: 1)
        f.restart()
        let back = f.client()
        back.connect("s", cleanStart: false, expiry: 600)
        let got = back.publishes()
        #expect(got.map(\.text) == ["queued"])
        #expect(got.first?.properties.entries.contains { $0.0 == .subscriptionIdentifier && $0.1 == .variableInteger(42) } == true)
    }
}
