import Foundation
import KramaaBroker
import KramaaMQTT
import KramaaMQTTClient
import KramaaMQTTServer
import Testing

/// Checks payloads on `checked/…` ahead, on the server's pool, taking a random while (so checks
/// finish out of order) and marking good ones; "forged" payloads are never marked.
final class SlowMarkingPreverifier: PayloadPreverifier, @unchecked Sendable {
    private let lock = NSLock()
    private var marked = Set<[UInt8]>()

    func wantsPreverification(topic: String, payload: [UInt8]) -> Bool { topic.hasPrefix("checked/") }

    func preverify(topic: String, payload: [UInt8]) {
        usleep(UInt32.random(in: 0...2_000))
        guard payload != Array("forged".utf8) else { return }
        lock.withLock { _ = marked.insert(payload) }
    }

    func isMarked(_ payload: [UInt8]) -> Bool { lock.withLock { marked.contains(payload) } }
}

/// Refuses a `checked/…` payload the preverifier has not marked: a packet given to the broker
/// before its check finished would be refused.
final class MarkRequiringInspector: BrokerPayloadInspector {
    let marks: SlowMarkingPreverifier
    init(_ marks: SlowMarkingPreverifier) { self.marks = marks }

    func inspect(_ principal: Principal, topic: String, payload: [UInt8]) -> Refusal? {
        guard topic.hasPrefix("checked/"), !marks.isMarked(payload) else { return nil }
        return Refusal(0x87, "not verified ahead")
    }
}

@Suite(.serialized) struct ServerPreverificationTests {
    @Test func heldPublicationsReachTheBrokerCheckedAndInTheOrderSent() async throws {
        let marks = SlowMarkingPreverifier()
        let broker = try await InProcessBroker.start(inspector: MarkRequiringInspector(marks), preverifier: marks)
        defer { Task { await broker.server.shutdown() } }
        let subscriber = broker.client(), publisher = broker.client()
        try await subscriber.connect()
        try await publisher.connect()
        #expect(try await subscriber.subscribe([MQTTSubscriptionRequest(filter: "#", qos: 1)]) == [1])
        // QoS 0 goes out without waiting: many packets arrive in one read, checked and unchecked mixed.
        let count = 300
        for i in 0..<count {
            _ = try await publisher.publish(i % 3 == 0 ? "plain/\(i)" : "checked/\(i)", Array("m\(i)".utf8), qos: 0)
        }
        #expect(try await publisher.publish("checked/last", Array("last".utf8), qos: 1).reasonCode == 0)
        let got = await receive(subscriber, count + 1, within: 20)
        #expect(got.map(\.topic) == (0..<count).map { $0 % 3 == 0 ? "plain/\($0)" : "checked/\($0)" } + ["checked/last"])
        await subscriber.close()
        await publisher.close()
    }

    @Test func aPublicationItsCheckDoesNotPassIsStillRefusedByTheInspector() async throws {
        let marks = SlowMarkingPreverifier()
        let broker = try await InProcessBroker.start(inspector: MarkRequiringInspector(marks), preverifier: marks)
        defer { Task { await broker.server.shutdown() } }
        let publisher = broker.client()
        try await publisher.connect()
        #expect(try await publisher.publish("checked/x", Array("forged".utf8), qos: 1).reasonCode == 0x87)
        #expect(try await publisher.publish("checked/x", Array("fine".utf8), qos: 1).reasonCode < 0x80)  // 0x10: no subscribers
        await publisher.close()
    }

    @Test func whatAClientSentBeforeClosingIsDeliveredThoughItsCheckEndsAfterTheClose() async throws {
        let marks = SlowMarkingPreverifier()
        let broker = try await InProcessBroker.start(inspector: MarkRequiringInspector(marks), preverifier: marks)
        defer { Task { await broker.server.shutdown() } }
        let subscriber = broker.client(), publisher = broker.client()
        try await subscriber.connect()
        try await publisher.connect()
        #expect(try await subscriber.subscribe([MQTTSubscriptionRequest(filter: "checked/#", qos: 0)]) == [0])
        for i in 0..<20 { _ = try await publisher.publish("checked/\(i)", Array("bye\(i)".utf8), qos: 0) }
        await publisher.close()
        let got = await receive(subscriber, 20, within: 10)
        #expect(got.map(\.topic) == (0..<20).map { "checked/\($0)" })
        await subscriber.close()
    }
}
