import Foundation
import KramaaMQTT
@testable import KramaaMQTTClient
import NIOCore
import NIOPosix
import Testing

/// A real mosquitto (Debian's /usr/sbin/mosquitto) on a free loopback port with a temporary
/// configuration, stopped when the test ends.
final class Mosquitto: @unchecked Sendable {
    static let binary = "/usr/sbin/mosquitto"
    let process = Process()
    let directory: URL
    let port: Int

    /// Starts mosquitto with `extra` configuration lines (anonymous clients allowed unless a
    /// password file is given).
    init(_ extra: [String] = []) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TestFailure("\(Self.binary) is missing: install Debian's mosquitto package (apt-get install mosquitto) to run the client tests against a real broker")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-mosquitto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try await Self.freePort()
        var lines = ["listener \(port) 127.0.0.1", "persistence false", "log_dest stderr"]
        if !extra.contains(where: { $0.hasPrefix("password_file") }) { lines.append("allow_anonymous true") }
        lines += extra
        let config = directory.appendingPathComponent("mosquitto.conf")
        try lines.joined(separator: "\n").appending("\n").write(to: config, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-c", config.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        try await waitUntilListening()
    }

    deinit {
        // SIGKILL: a child of the test process may inherit a signal mask that blocks SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    var endpoint: MQTTEndpoint { MQTTEndpoint(host: "127.0.0.1", port: port) }

    /// Writes a mosquitto password file for `user` (mosquitto_passwd -b) and returns its path.
    static func passwordFile(in directory: URL, user: String, password: String) throws -> String {
        let path = directory.appendingPathComponent("passwords-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: Data())
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_passwd")
        tool.arguments = ["-b", path, user, password]
        try tool.run()
        tool.waitUntilExit()
        return path
    }

    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    private func waitUntilListening() async throws {
        for _ in 0..<100 {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
                try? await channel.close()
                return
            }
            guard process.isRunning else { throw TestFailure("mosquitto exited at start (status \(process.terminationStatus))") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("mosquitto did not listen on port \(port) within 5 s")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite(.serialized) struct ClientAgainstMosquittoTests {
    func client(_ broker: Mosquitto, _ configure: (inout MQTTClientConfiguration) -> Void = { _ in }) -> MQTTClient {
        var c = MQTTClientConfiguration(endpoint: broker.endpoint)
        configure(&c)
        return MQTTClient(configuration: c)
    }

    @Test(arguments: [MQTTVersion.v5, .v311])
    func roundTripsEveryQoSThroughMosquitto(version: MQTTVersion) async throws {
        let broker = try await Mosquitto()
        let subscriber = client(broker) { $0.version = version }, publisher = client(broker) { $0.version = version }
        try await subscriber.connect()
        try await publisher.connect()
        #expect(try await subscriber.subscribe([MQTTSubscriptionRequest(filter: "m/+", qos: 2)]) == [2])
        for qos: UInt8 in 0...2 { #expect(try await publisher.publish("m/\(qos)", [qos], qos: qos).isSuccess) }
        let got = await receive(subscriber, 3)
        #expect(got.map(\.payload) == [[0], [1], [2]])
        #expect(got.map(\.qos) == [0, 1, 2])
        await subscriber.close()
        await publisher.close()
    }

    @Test func respectsMosquittosReceiveMaximumUnderConcurrentPublishing() async throws {
        let broker = try await Mosquitto(["max_inflight_messages 3"])
        let publisher = client(broker), subscriber = client(broker)
        try await subscriber.connect()
        _ = try await subscriber.subscribe("burst/#", qos: 1)
        #expect(try await publisher.connect().receiveMaximum == 3)
        let codes = try await withThrowingTaskGroup(of: UInt8.self) { group in
            for i in 0..<200 { group.addTask { try await publisher.publish("burst/\(i % 7)", [UInt8(i & 0xff)], qos: UInt8(i % 2 + 1)).reasonCode } }
            return try await group.reduce(into: [UInt8]()) { $0.append($1) }
        }
        #expect(codes.count == 200 && codes.allSatisfy { $0 < 0x80 })
        #expect(await receive(subscriber, 200).count == 200)
    }

    @Test func userNameAndPasswordAreCheckedByMosquitto() async throws {
        let directory = FileManager.default.temporaryDirectory
        let passwords = try Mosquitto.passwordFile(in: directory, user: "site", password: "pw")
        defer { try? FileManager.default.removeItem(atPath: passwords) }
        let broker = try await Mosquitto(["password_file \(passwords)", "allow_anonymous false"])
        let good = client(broker) {
            $0.userName = "site"
            $0.password = Array("pw".utf8)
        }
        try await good.connect()
        await good.close()
        let bad = client(broker) {
            $0.userName = "site"
            $0.password = Array("nope".utf8)
        }
        do {
            try await bad.connect()
            Issue.record("mosquitto let a wrong password in")
        } catch {
            guard case .refused(let code, _) = error else { Issue.record("\(error)"); return }
            #expect(code == 0x86 || code == 0x87)
        }
    }

    @Test func aPersistentSessionKeepsMessagesPublishedWhileTheSubscriberWasAway() async throws {
        let broker = try await Mosquitto()
        let configure: (inout MQTTClientConfiguration) -> Void = {
            $0.clientIdentifier = "persistent-\(UUID().uuidString.prefix(8))"
            $0.cleanStart = false
            $0.sessionExpiry = 600
        }
        let away = client(broker, configure)
        #expect(try await away.connect().sessionPresent == false)
        _ = try await away.subscribe("away/#", qos: 2)
        await away.disconnect()
        let publisher = client(broker)
        try await publisher.connect()
        _ = try await publisher.publish("away/x", [42], qos: 2)
        #expect(try await away.connect().sessionPresent)
        #expect(await receive(away, 1).map(\.payload) == [[42]])
        await away.close()
        await publisher.close()
    }

    @Test func aLostConnectionIsReestablishedAndSubscriptionsMadeAgain() async throws {
        let broker = try await Mosquitto()
        let client = client(broker) { $0.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50)) }
        try await client.connect()
        _ = try await client.subscribe("again/#", qos: 1)
        var events = client.events.makeAsyncIterator()
        _ = await events.next()
        await client.abortConnection()
        while let event = await events.next() { if case .connected = event { break } }
        let publisher = self.client(broker)
        try await publisher.connect()
        // The clean session was gone: the client subscribed again; give mosquitto the SUBSCRIBE first.
        var got: [MQTTClientMessage] = []
        for _ in 0..<20 where got.isEmpty {
            _ = try await publisher.publish("again/1", [1], qos: 1)
            got = await receive(client, 1, within: 0.25)
        }
        #expect(got.first?.payload == [1])
        await client.close()
        await publisher.close()
    }
}
