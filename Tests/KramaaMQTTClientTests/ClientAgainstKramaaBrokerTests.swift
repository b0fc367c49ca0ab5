import Foundation
import KramaaBroker
import KramaaMQTT
@testable import KramaaMQTTClient
import KramaaMQTTServer
import Testing

/// Lets in user `user` with password `secret`, refuses other passwords with 0x86, and runs the
/// enhanced-authentication method `test-v1`: the answer must be the challenge reversed.
final class TestAuthenticator: BrokerAuthenticator, @unchecked Sendable {
    func authenticate(_ connect: MQTTConnect) -> AuthenticationDecision {
        if let method = connect.properties.string(.authenticationMethod) {
            guard method == "test-v1" else { return .refuse(reasonCode: 0x8C, reason: "unknown method \(method)") }
            return .challenge(method: method, data: [1, 2, 3, 4])
        }
        guard let user = connect.userName else { return .accept(Principal(name: "anonymous")) }
        guard connect.password == Array("secret".utf8) else { return .refuse(reasonCode: 0x86, reason: "wrong password for \(user)") }
        return .accept(Principal(name: user))
    }

    func continueAuthentication(_ connect: MQTTConnect, method: String, data: [UInt8], challenge: [UInt8]) -> AuthenticationDecision {
        data == challenge.reversed() ? .accept(Principal(name: "challenged")) : .refuse(reasonCode: 0x87, reason: "wrong answer")
    }

    func stillValid(_ principal: Principal) -> Bool { true }
}

/// The project's own MQTT server in this process, on a free port.
struct InProcessBroker {
    let server: MQTTServer

    static func start(inspector: BrokerPayloadInspector? = nil, preverifier: PayloadPreverifier? = nil,
                      _ configure: (inout BrokerConfiguration) -> Void = { _ in }) async throws -> InProcessBroker {
        var configuration = MQTTServer.Configuration()
        configuration.port = 0
        configure(&configuration.broker)
        let server = try await MQTTServer.start(configuration: configuration, authenticator: TestAuthenticator(), authorizer: AllowAll(),
                                                inspector: inspector, preverifier: preverifier, journal: NoJournal())
        return InProcessBroker(server: server)
    }

    func client(_ configure: (inout MQTTClientConfiguration) -> Void = { _ in }) -> MQTTClient {
        var c = MQTTClientConfiguration(endpoint: MQTTEndpoint(host: "127.0.0.1", port: server.port!))
        c.userName = "user"
        c.password = Array("secret".utf8)
        configure(&c)
        return MQTTClient(configuration: c)
    }
}

/// What a client received, collected by one task for the client's life (an AsyncStream has one
/// consumer, and cancelling a consumer would end it), taken by the tests with a deadline.
actor Inbox {
    private var messages: [MQTTClientMessage] = []

    init(_ client: MQTTClient) {
        Task { [weak self] in
            for await m in client.messages { await self?.add(m) }
        }
    }

    private func add(_ m: MQTTClientMessage) { messages.append(m) }

    /// The next `count` messages, or those that came within `seconds`.
    func take(_ count: Int, within seconds: Double = 5) async -> [MQTTClientMessage] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while messages.count < count, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        let out = Array(messages.prefix(count))
        messages.removeFirst(out.count)
        return out
    }
}

private nonisolated(unsafe) var inboxes: [ObjectIdentifier: Inbox] = [:]
private let inboxLock = NSLock()

/// The next `count` messages of `client` (or fewer if `seconds` pass first).
func receive(_ client: MQTTClient, _ count: Int, within seconds: Double = 5) async -> [MQTTClientMessage] {
    let inbox = inboxLock.withLock {
        if let known = inboxes[ObjectIdentifier(client)] { return known }
        let made = Inbox(client)
        inboxes[ObjectIdentifier(client)] = made
        return made
    }
    return await inbox.take(count, within: seconds)
}

@Suite(.serialized) struct ClientAgainstKramaaBrokerTests {
    @Test(arguments: [MQTTVersion.v5, .v311])
    func publishesAtEveryQoSAndReceivesEachOnce(version: MQTTVersion) async throws {
        let broker = try await InProcessBroker.start()
        defer { Task { await broker.server.shutdown() } }
        let subscriber = broker.client { $0.version = version }, publisher = broker.client { $0.version = version }
        try await subscriber.connect()
        try await publisher.connect()
        #expect(try await subscriber.subscribe([MQTTSubscriptionRequest(filter: "t/#", qos: 2)]) == [2])
        for qos: UInt8 in 0...2 {
            let result = try await publisher.publish("t/\(qos)", Array("m\(qos)".utf8), qos: qos)
            #expect(result.reasonCode == 0)
        }
        let got = await receive(subscriber, 3)
        #expect(got.map(\.topic) == ["t/0", "t/1", "t/2"])
        #expect(got.map(\.qos) == [0, 1, 2])
        #expect(got.map { String(decoding: $0.payload, as: UTF8.self) } == ["m0", "m1", "m2"])
        #expect(try await subscriber.unsubscribe(["t/#"]) == [0])
        _ = try await publisher.publish("t/after", [1], qos: 1)
        #expect(await receive(subscriber, 1, within: 0.5).isEmpty)
        #expect(await publisher.unacknowledged == 0)
        await subscriber.close()
        await publisher.close()
    }

    @Test func aWrongPasswordIsRefusedWithItsReasonCodeExplained() async throws {
        let broker = try await InProcessBroker.start()
        defer { Task { await broker.server.shutdown() } }
        let client = broker.client { $0.password = Array("wrong".utf8) }
        do {
            try await client.connect()
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error == .refused(reasonCode: 0x86, reason: "wrong password for user"))
            #expect(error.description.contains("0x86 (bad user name or password)"))
        }
    }

    @Test func aRefusalInMQTT311IsMappedToTheMQTT5Code() async throws {
        let broker = try await InProcessBroker.start()
        defer { Task { await broker.server.shutdown() } }
        let client = broker.client {
            $0.version = .v311
            $0.password = Array("wrong".utf8)
        }
        await #expect(throws: MQTTClientError.refused(reasonCode: 0x86, reason: nil)) { try await client.connect() }
    }

    @Test func enhancedAuthenticationAnswersTheServersChallenge() async throws {
        let broker = try await InProcessBroker.start()
        defer { Task { await broker.server.shutdown() } }
        let client = broker.client {
            $0.userName = nil
            $0.password = nil
            $0.authenticationMethod = "test-v1"
            $0.authenticate = { challenge in challenge.reversed() }
        }
        try await client.connect()
        #expect(try await client.publish("auth/ok", [1], qos: 1).isSuccess)
        await client.close()

        let wrong = broker.client {
            $0.authenticationMethod = "test-v1"
            $0.authenticate = { challenge in challenge }
        }
        await #expect(throws: MQTTClientError.refused(reasonCode: 0x87, reason: "wrong answer")) { try await wrong.connect() }
        let unanswerable = broker.client { $0.authenticationMethod = "test-v1" }
        await #expect(throws: MQTTClientError.self) { try await unanswerable.connect() }
    }

    @Test func neverHasMoreUnacknowledgedThanTheServersReceiveMaximum() async throws {
        // The broker disconnects (0x93) a client with more QoS 2 messages unreleased than it allows.
        let broker = try await InProcessBroker.start { $0.receiveMaximum = 2 }
        defer { Task { await broker.server.shutdown() } }
        let subscriber = broker.client(), publisher = broker.client()
        try await subscriber.connect()
        #expect(try await subscriber.subscribe("flow/#", qos: 2) == 2)
        #expect(try await publisher.connect().receiveMaximum == 2)
        let results = try await withThrowingTaskGroup(of: MQTTPublishResult.self) { group in
            for i in 0..<40 { group.addTask { try await publisher.publish("flow/\(i)", [UInt8(i)], qos: 2) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 40 && results.allSatisfy(\.isSuccess))
        #expect(Set(await receive(subscriber, 40).map(\.payload)).count == 40)
    }

    @Test func keepAlivePingsHoldAnIdleConnectionOpen() async throws {
        let broker = try await InProcessBroker.start()
        defer { Task { await broker.server.shutdown() } }
        let client = broker.client { $0.keepAlive = 1 }
        try await client.connect()
        // Without pings the broker closes a connection silent for 1.5 keep-alives.
        try await Task.sleep(for: .seconds(3.5))
        #expect(try await client.publish("still/here", [1], qos: 1).isSuccess)
        await client.close()
    }

    @Test func aReconnectingClientResumesItsSessionAndGetsWhatWasQueuedForIt() async throws {
        let broker = try await InProcessBroker.start()
        defer { Task { await broker.server.shutdown() } }
        let subscriber = broker.client {
            $0.clientIdentifier = "resumer"
            $0.cleanStart = false
            $0.sessionExpiry = 300
            $0.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50))
        }
        let publisher = broker.client()
        try await subscriber.connect()
        try await publisher.connect()
        #expect(try await subscriber.subscribe("resume/#", qos: 1) == 1)
        var events = subscriber.events.makeAsyncIterator()
        _ = await events.next()  // connected
        await subscriber.abortConnection()
        _ = try await publisher.publish("resume/while-away", [7], qos: 1)
        var resumed = false
        while let event = await events.next() {
            if case .connected(let result) = event { resumed = result.sessionPresent; break }
        }
        #expect(resumed)
        #expect(await receive(subscriber, 1).map(\.payload) == [[7]])
        await subscriber.close()
        await publisher.close()
    }

    @Test func operationsOnAClosedClientFailClearly() async throws {
        let broker = try await InProcessBroker.start()
        defer { Task { await broker.server.shutdown() } }
        let client = broker.client()
        await #expect(throws: MQTTClientError.notConnected) { try await client.publish("a", [1], qos: 1) }
        await #expect(throws: MQTTClientError.invalidTopic("a/+", "protocol error: wildcards in the topic name a/+")) {
            try await client.publish("a/+", [1])
        }
        try await client.connect()
        await client.close()
        await #expect(throws: MQTTClientError.closed) { try await client.publish("a", [1], qos: 1) }
        await #expect(throws: MQTTClientError.closed) { try await client.connect() }
    }
}
