import KramaaBroker
import KramaaMQTT
import KramaaPrimitives
import Testing

/// Two brokers whose locator asks the other synchronously: a session moving between nodes.
final class PairLocator: SessionLocator {
    var here: Broker!
    var there: Broker!
    var asked: [String] = []

    func locate(clientID: String, principal: Principal, for connection: UInt64) {
        asked.append(clientID)
        here.sessionArrived(for: connection, there.surrender(clientID: clientID, principal: principal))
        here.commit()
        there.commit()
    }
}

@Suite struct BrokerMigrationTests {
    /// Node A holds sessions; node B asks A for the ones its clients resume.
    static func pair() -> (a: BrokerFixture, b: BrokerFixture, locator: PairLocator) {
        let a = BrokerFixture(), b = BrokerFixture()
        let locator = PairLocator()
        locator.here = b.broker
        locator.there = a.broker
        b.broker.sessionLocator = locator
        return (a, b, locator)
    }

    @Test func aSessionResumedOnAnotherNodeMovesThereWithItsQueuedMessages() {
        let (a, b, _) = Self.pair()
        let device = a.client()
        device.connect("dev", expiry: 600)
        _ = device.subscribe("cmd", qos: 1)
        device.put(MQTTDisconnect().frame(version: .v5))
        let sender = a.client()
        sender.connect("sender")
        sender.publish("cmd", "while offline", qos: 1)
        // The device comes back on the other node.
        let back = b.client()
        #expect(back.connect("dev", cleanStart: false, expiry: 600).sessionPresent)
        #expect(back.publishes().map(\.text) == ["while offline"])
        #expect(a.broker.sessionCount == 1)  // only the sender's left there
        #expect(b.broker.interest == ["cmd"])
        #expect(a.broker.interest.isEmpty)
        // And it is journaled there: it survives a restart of that node.
        b.broker.commit()
        #expect(b.journal.committed.sessions["dev"]?.subscriptions.map(\.filter) == ["cmd"])
    }

    @Test func aConnectedClientOnTheOldNodeIsToldItsSessionWasTakenOver() {
        let (a, b, _) = Self.pair()
        let old = a.client()
        old.connect("dev", expiry: 600, will: MQTTWill(topic: "wills/dev", payload: [1]))
        let watcher = a.client()
        watcher.connect("w")
        _ = watcher.subscribe("wills/#", qos: 0)
        #expect(b.client().connect("dev", cleanStart: false, expiry: 600).sessionPresent)
        #expect(old.disconnectFrame()?.reasonCode == 0x8E)
        #expect(watcher.publishes().isEmpty)  // alive elsewhere: no will
    }

    @Test func anotherPrincipalsSessionDoesNotMoveAndCleanStartAsksNobody() {
        let (a, b, locator) = Self.pair()
        a.client().connect("dev", expiry: 600, userName: "owner")
        #expect(!b.client().connect("dev", cleanStart: false, expiry: 600, userName: "thief").sessionPresent)
        #expect(a.broker.sessionCount == 1)
        _ = b.client().connect("fresh", cleanStart: true)
        #expect(locator.asked == ["dev"])
    }
}

/// A locator that answers later, when the test says.
final class DeferredLocator: SessionLocator {
    var requests: [(clientID: String, principal: Principal, connection: UInt64)] = []
    func locate(clientID: String, principal: Principal, for connection: UInt64) { requests.append((clientID, principal, connection)) }
}

@Suite struct BrokerMigrationEdgeTests {
    @Test func aSessionArrivingAfterItsClientLeftIsKeptForItsReturn() {
        let a = BrokerFixture(), b = BrokerFixture()
        let locator = DeferredLocator()
        b.broker.sessionLocator = locator
        let device = a.client()
        device.connect("dev", expiry: 600)
        _ = device.subscribe("cmd", qos: 1)
        device.put(MQTTDisconnect().frame(version: .v5))
        let impatient = b.client()
        impatient.put(MQTTConnect(version: .v5, clientIdentifier: "dev", cleanStart: false, userName: "device").frame)
        #expect(impatient.take().isEmpty)  // no CONNACK while the session is fetched
        b.broker.connectionLost(impatient.id)
        let request = locator.requests[0]
        b.broker.sessionArrived(for: request.connection, a.broker.surrender(clientID: request.clientID, principal: request.principal))
        #expect(b.broker.sessionCount == 1 && a.broker.sessionCount == 0)
        b.broker.sessionLocator = nil
        #expect(b.client().connect("dev", cleanStart: false, expiry: 600).sessionPresent)
    }
}
