import Foundation
import KramaaMQTT
import KramaaMQTTClient

/// `kramaa-bench messaging`: the same MQTT load through the node's MQTT server and through
/// mosquitto, both started by `scripts/bench.sh messaging`, with one client program (this one,
/// on KramaaMQTTClient) for both:
///
/// - QoS 1 throughput between two clients (a publisher with a window of unacknowledged
///   messages, a subscriber), then p50/p99 latency (publish → delivery) paced at half that rate;
/// - the same between clients of two validators of a 4-validator devnet (federation);
/// - idle connections: N clients connected and silent, the server's RSS growth per connection.
enum MessagingBench {
    struct Endpoints {
        var kramaa: String
        var mosquitto: String
        var kramaaPID: Int32?
        var mosquittoPID: Int32?
        /// Two validators of a 4-validator devnet (publisher's, subscriber's).
        var crossPublisher: String?
        var crossSubscriber: String?
        var idle: Int
    }

    static func run(_ e: Endpoints, quick: Bool) async -> Section {
        let count = quick ? 2_000 : 50_000
        var section = Section(title: "Messaging (MQTT, QoS 1)", command: "scripts/bench.sh messaging")
        do {
            let ours = try await pair(publisher: e.kramaa, subscriber: e.kramaa, count: count)
            let theirs = try await pair(publisher: e.mosquitto, subscriber: e.mosquitto, count: count)
            section.rows.append(Row(name: "QoS 1 messages/s, two clients on one node (window 100, 64-byte payloads)", ours: ours.rate, unit: "msg/s",
                                    reference: theirs.rate, referenceName: "mosquitto 2", goal: "≥ mosquitto"))
            section.rows.append(Row(name: "latency p50 at half of each broker's own rate", ours: ours.p50, unit: "ms", reference: theirs.p50, referenceName: "mosquitto 2"))
            section.rows.append(Row(name: "latency p99 at half of each broker's own rate", ours: ours.p99, unit: "ms", reference: theirs.p99, referenceName: "mosquitto 2",
                                    goal: "< 50 ms"))
            if let p = e.crossPublisher, let s = e.crossSubscriber {
                let cross = try await pair(publisher: p, subscriber: s, count: count)
                section.rows.append(Row(name: "QoS 1 messages/s, clients on two validators of 4 (federation)", ours: cross.rate, unit: "msg/s",
                                        reference: theirs.rate, referenceName: "mosquitto 2, one broker", goal: "≥ half of mosquitto"))
                section.rows.append(Row(name: "latency p99 across validators at half rate", ours: cross.p99, unit: "ms",
                                        reference: theirs.p99, referenceName: "mosquitto 2, one broker", goal: "< 50 ms"))
            }
            if e.idle > 0, let kp = e.kramaaPID, let mp = e.mosquittoPID {
                let ours = try await idle(url: e.kramaa, pid: kp, count: e.idle)
                let theirs = try await idle(url: e.mosquitto, pid: mp, count: e.idle)
                section.rows.append(Row(name: "RSS per idle connection (\(e.idle) connected clients)", ours: ours, unit: "bytes",
                                        reference: theirs, referenceName: "mosquitto 2", goal: "bounded"))
            }
        } catch {
            section.notes.append("failed: \(error)")
        }
        section.notes.append("One client program (kramaa-bench on KramaaMQTTClient, MQTT 5) for both brokers, on the same machine as the brokers. "
                             + "The node's clients are anonymous (--mqtt-allow-anonymous, under sandbox/): the payloads are not envelopes and the node verifies no signatures on this path.")
        return section
    }

    struct Result {
        var rate: Double
        var p50: Double
        var p99: Double
    }

    static func client(_ url: String, keepAlive: UInt16 = 60) throws -> MQTTClient {
        var c = MQTTClientConfiguration(endpoint: try MQTTEndpoint(parsing: url))
        c.keepAlive = keepAlive
        c.connectTimeout = .seconds(30)
        return MQTTClient(configuration: c)
    }

    static func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Throughput at full load (window 100), then latencies paced at half that rate.
    static func pair(publisher: String, subscriber: String, count: Int) async throws -> Result {
        let topic = "bench/\(UUID().uuidString.prefix(8))"
        let sub = try client(subscriber), pub = try client(publisher)
        try await sub.connect()
        _ = try await sub.subscribe(topic, qos: 1)
        try await pub.connect()
        try await Task.sleep(for: .seconds(1))  // subscription interest reaches the other validators
        var inbox = sub.messages.makeAsyncIterator()
        let full = try await pass(pub, topic: topic, inbox: &inbox, count: count, rate: nil)
        let paced = try await pass(pub, topic: topic, inbox: &inbox, count: max(count / 5, 1_000), rate: full.rate / 2)
        await pub.close()
        await sub.close()
        return Result(rate: full.rate, p50: paced.p50, p99: paced.p99)
    }

    /// Publishes `count` messages (window 100, or paced at `rate`), receives them all.
    static func pass(_ pub: MQTTClient, topic: String, inbox: inout AsyncStream<MQTTClientMessage>.AsyncIterator, count: Int,
                     rate: Double?) async throws -> Result {
        let start = nowNanoseconds()
        let sender = Task {
            if let rate {
                for i in 0..<count {
                    let due = start + UInt64(Double(i) / rate * 1e9)
                    let now = nowNanoseconds()
                    if due > now { try await Task.sleep(nanoseconds: due - now) }
                    Task { _ = try? await pub.publish(topic, payload(), qos: 1) }
                }
            } else {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let window = 100
                    for w in 0..<window {
                        group.addTask { for _ in stride(from: w, to: count, by: window) { _ = try await pub.publish(topic, payload(), qos: 1) } }
                    }
                    try await group.waitForAll()
                }
            }
        }
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        while latencies.count < count, let m = await inbox.next() {
            let sent = m.payload.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            latencies.append(Double(nowNanoseconds() &- sent) / 1e6)
        }
        let elapsed = Double(nowNanoseconds() - start) / 1e9
        _ = try await sender.value
        latencies.sort()
        func pct(_ p: Double) -> Double { latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        return Result(rate: Double(latencies.count) / elapsed, p50: pct(0.5), p99: pct(0.99))
    }

    /// 64 bytes: the send time (ns, big-endian) and padding.
    static func payload() -> [UInt8] {
        let t = nowNanoseconds()
        return (0..<8).map { UInt8(t >> (56 - 8 * UInt64($0)) & 0xff) } + [UInt8](repeating: 0x2e, count: 56)
    }

    /// The server's RSS growth per connection with `count` idle clients connected.
    static func idle(url: String, pid: Int32, count: Int) async throws -> Double {
        let before = rss(pid)
        var clients: [MQTTClient] = []
        for batch in stride(from: 0, to: count, by: 200) {
            try await withThrowingTaskGroup(of: MQTTClient.self) { group in
                for _ in batch..<min(batch + 200, count) {
                    group.addTask {
                        let c = try client(url, keepAlive: 600)
                        try await c.connect()
                        return c
                    }
                }
                for try await c in group { clients.append(c) }
            }
        }
        try await Task.sleep(for: .seconds(2))
        let after = rss(pid)
        for c in clients { await c.close() }
        return Double(after - before) / Double(count)
    }

    /// VmRSS of `pid` in bytes (/proc).
    static func rss(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
}
