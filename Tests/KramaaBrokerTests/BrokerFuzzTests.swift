import KramaaBroker
import KramaaMQTT
import KramaaPrimitives
import Testing

/// Bad input, fuzzed for a bounded time: valid packets with random bytes flipped, cut or
/// appended, from many clients at once, through the same framing the server uses. The broker
/// must never crash, must close what it cannot accept, and must go on serving a good client.
@Suite struct BrokerFuzzTests {
    static func seedPackets() -> [[UInt8]] {
        var p = MQTTProperties()
        p.append(.topicAlias, .uint16(2))
        p.append(.userProperty, .pair("k", "v"))
        var s = MQTTProperties()
        s.append(.subscriptionIdentifier, .variableInteger(7))
        return [
            MQTTConnect(version: .v5, clientIdentifier: "f", cleanStart: false, keepAlive: 5, userName: "u",
                        will: MQTTWill(topic: "w", payload: [1], qos: 1)).frame.encoded,
            MQTTConnect(version: .v311, clientIdentifier: "g", userName: "u").frame.encoded,
            MQTTPublish(topic: "a/b", payload: [1, 2, 3], qos: 1, retain: true, packetIdentifier: 3, properties: p).frame(version: .v5).encoded,
            MQTTPublish(topic: "a/c", payload: [], qos: 2, packetIdentifier: 4).frame(version: .v5).encoded,
            MQTTSubscribe(packetIdentifier: 5, requests: [MQTTSubscriptionRequest(filter: "a/#", qos: 2), MQTTSubscriptionRequest(filter: "$share/g/+/b", qos: 1)],
                          properties: s).frame(version: .v5).encoded,
            MQTTUnsubscribe(packetIdentifier: 6, filters: ["a/#"]).frame(version: .v5).encoded,
            MQTTAck(.pubrel, packetIdentifier: 4).frame(version: .v5).encoded,
            MQTTAck(.puback, packetIdentifier: 1).frame(version: .v5).encoded,
            MQTTFrame(type: .pingreq).encoded,
            MQTTDisconnect(reasonCode: 4).frame(version: .v5).encoded,
            MQTTAuth(reasonCode: 0x19).frame.encoded,
        ]
    }

    /// Feeds `bytes` as the edge does: frames cut at the broker's maximum, errors to `malformed`.
    static func feed(_ bytes: [UInt8], to client: TestClient, broker: Broker) {
        var at = 0
        do {
            while let (frame, size) = try MQTTFrame.next(in: bytes, from: at, maximumSize: broker.configuration.maximumPacketSize) {
                at += size
                broker.receive(frame, on: client.id)
                if client.closed { return }
            }
        } catch {
            broker.malformed(client.id, error)
        }
        broker.commit()
    }

    @Test func mutatedPacketsNeverCrashTheBrokerAndAGoodClientIsStillServed() {
        let f = BrokerFixture { $0.maximumPacketSize = 4_096 }
        var random = SplitMix64(seed: 0x6b72616d6161)
        let seeds = Self.seedPackets()
        var clients: [TestClient] = []
        var closedCount = 0
        for round in 0..<20_000 {
            if clients.isEmpty || random.next() % 8 == 0 { clients.append(f.client(random.next() % 3 == 0 ? .v311 : .v5)) }
            let client = clients[Int(random.next() % UInt64(clients.count))]
            var packet = seeds[Int(random.next() % UInt64(seeds.count))]
            switch random.next() % 4 {
            case 0: for _ in 0...(random.next() % 3) { packet[Int(random.next() % UInt64(packet.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1) }
            case 1: packet = Array(packet.prefix(Int(random.next() % UInt64(packet.count + 1))))
            case 2: packet += (0..<(random.next() % 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            default: break
            }
            Self.feed(packet, to: client, broker: f.broker)
            if round % 100 == 0 {
                f.time.advance(by: .seconds(1))
                f.broker.tick()
            }
            clients.removeAll { c in
                if c.closed { closedCount += 1 }
                return c.closed
            }
            _ = client.take()
        }
        #expect(closedCount > 100)  // the fuzzing did reach refusals
        #expect(f.broker.connectionCount == clients.count)  // every closed connection is gone from the broker
        let good = f.client(), other = f.client()
        #expect(good.connect("good-after-fuzz").reasonCode == 0)
        other.connect("other-after-fuzz")
        _ = good.subscribe("z", qos: 1)
        other.publish("z", "still serving", qos: 1)
        #expect(good.publishes().map(\.text) == ["still serving"])
    }
}
