import KramaaMQTT
@testable import KramaaMQTTClient
import NIOCore
import NIOPosix
import Testing

/// A server the test scripts packet by packet: each accepted connection's frames arrive in
/// order, and the test answers with the frames it chooses (what a real broker would not do on
/// demand: drop a connection with a publication unacknowledged).
final class ScriptedServer: @unchecked Sendable {
    final class Connection: @unchecked Sendable {
        let channel: Channel
        var frames: AsyncStream<MQTTFrame>.AsyncIterator
        init(channel: Channel, frames: AsyncStream<MQTTFrame>) {
            self.channel = channel
            self.frames = frames.makeAsyncIterator()
        }
        func next() async -> MQTTFrame? { await frames.next() }
        func send(_ frame: MQTTFrame) async throws { try await channel.writeAndFlush(ByteBuffer(bytes: frame.encoded)) }
        func close() async { try? await channel.close() }
    }

    final class FrameReader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let sink: AsyncStream<MQTTFrame>.Continuation
        var buffer: [UInt8] = []
        init(_ sink: AsyncStream<MQTTFrame>.Continuation) { self.sink = sink }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            buffer += Self.unwrapInboundIn(data).readableBytesView
            while let (frame, size) = try? MQTTFrame.next(in: buffer) {
                buffer.removeFirst(size)
                sink.yield(frame)
            }
        }
        func channelInactive(context: ChannelHandlerContext) { sink.finish() }
    }

    let listener: Channel
    var accepted: AsyncStream<Connection>.AsyncIterator

    init() async throws {
        let (stream, sink) = AsyncStream.makeStream(of: Connection.self)
        accepted = stream.makeAsyncIterator()
        listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (frames, frameSink) = AsyncStream.makeStream(of: MQTTFrame.self)
                    try channel.pipeline.syncOperations.addHandler(FrameReader(frameSink))
                    sink.yield(Connection(channel: channel, frames: frames))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var port: Int { listener.localAddress!.port! }
    func nextConnection() async -> Connection { await accepted.next()! }
    func stop() async { try? await listener.close() }

    /// Reads CONNECT and answers CONNACK with the given session flag and Receive Maximum.
    static func accept(_ c: Connection, sessionPresent: Bool, receiveMaximum: UInt16 = 65_535) async throws -> MQTTConnect {
        let frame = try #require(await c.next())
        let connect = try MQTTConnect(body: frame.body)
        var p = MQTTProperties()
        p.append(.receiveMaximum, .uint16(receiveMaximum))
        try await c.send(MQTTConnAck(sessionPresent: sessionPresent, properties: p).frame(version: .v5))
        return connect
    }
}

@Suite struct ClientResumeTests {
    func resumingClient(_ server: ScriptedServer) -> MQTTClient {
        var c = MQTTClientConfiguration(endpoint: MQTTEndpoint(host: "127.0.0.1", port: server.port))
        c.clientIdentifier = "resumer"
        c.cleanStart = false
        c.sessionExpiry = 600
        c.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(20))
        return MQTTClient(configuration: c)
    }

    @Test func anUnacknowledgedPublicationIsResentWithDUPAndItsIdentifierWhenTheSessionResumes() async throws {
        let server = try await ScriptedServer()
        let client = resumingClient(server)
        async let connected = client.connect()
        let first = await server.nextConnection()
        _ = try await ScriptedServer.accept(first, sessionPresent: false, receiveMaximum: 1)
        _ = try await connected
        let one = Task { try await client.publish("r/1", [1], qos: 1) }
        let sent = try MQTTPublish(frame: try #require(await first.next()), version: .v5)
        #expect(sent.duplicate == false)
        let two = Task { try await client.publish("r/2", [2], qos: 1) }
        await first.close()  // before acknowledging; the second waits for a free slot (Receive Maximum 1)

        let second = await server.nextConnection()
        let again = try await ScriptedServer.accept(second, sessionPresent: true, receiveMaximum: 1)
        #expect(again.cleanStart == false && again.clientIdentifier == "resumer")
        let resent = try MQTTPublish(frame: try #require(await second.next()), version: .v5)
        #expect(resent.duplicate && resent.packetIdentifier == sent.packetIdentifier && resent.payload == [1])
        try await second.send(MQTTAck(.puback, packetIdentifier: resent.packetIdentifier!).frame(version: .v5))
        let next = try MQTTPublish(frame: try #require(await second.next()), version: .v5)
        #expect(next.payload == [2] && !next.duplicate)
        try await second.send(MQTTAck(.puback, packetIdentifier: next.packetIdentifier!, reasonCode: 0x10).frame(version: .v5))
        #expect(try await one.value.reasonCode == 0)
        #expect(try await two.value.reasonCode == 0x10)
        await client.close()
        await server.stop()
    }

    @Test func aReleasedQoS2MessageResendsPUBRELAndAnUnreleasedOneIsResentAsNewWithoutASession() async throws {
        let server = try await ScriptedServer()
        let client = resumingClient(server)
        async let connected = client.connect()
        let first = await server.nextConnection()
        _ = try await ScriptedServer.accept(first, sessionPresent: false)
        _ = try await connected
        let released = Task { try await client.publish("q/1", [1], qos: 2) }
        let p1 = try MQTTPublish(frame: try #require(await first.next()), version: .v5)
        try await first.send(MQTTAck(.pubrec, packetIdentifier: p1.packetIdentifier!).frame(version: .v5))
        #expect(try #require(await first.next()).type == .pubrel)
        await first.close()

        // Session resumed: PUBREL again, not the message.
        let second = await server.nextConnection()
        _ = try await ScriptedServer.accept(second, sessionPresent: true)
        let rel = try MQTTAck(frame: try #require(await second.next()), version: .v5)
        #expect(rel.type == .pubrel && rel.packetIdentifier == p1.packetIdentifier)
        try await second.send(MQTTAck(.pubcomp, packetIdentifier: rel.packetIdentifier).frame(version: .v5))
        #expect(try await released.value.reasonCode == 0)

        // Session lost: an unreleased message is sent again as a new one.
        let lost = Task { try await client.publish("q/2", [2], qos: 2) }
        let p2 = try MQTTPublish(frame: try #require(await second.next()), version: .v5)
        await second.close()
        let third = await server.nextConnection()
        _ = try await ScriptedServer.accept(third, sessionPresent: false)
        let fresh = try MQTTPublish(frame: try #require(await third.next()), version: .v5)
        #expect(fresh.payload == p2.payload && !fresh.duplicate)
        try await third.send(MQTTAck(.pubrec, packetIdentifier: fresh.packetIdentifier!).frame(version: .v5))
        _ = await third.next()
        try await third.send(MQTTAck(.pubcomp, packetIdentifier: fresh.packetIdentifier!).frame(version: .v5))
        #expect(try await lost.value.reasonCode == 0)
        await client.close()
        await server.stop()
    }

    @Test func aQoS2MessageResentByTheServerIsDeliveredOnce() async throws {
        let server = try await ScriptedServer()
        let client = resumingClient(server)
        async let connected = client.connect()
        let c = await server.nextConnection()
        _ = try await ScriptedServer.accept(c, sessionPresent: false)
        _ = try await connected
        let message = MQTTPublish(topic: "in/x", payload: [9], qos: 2, packetIdentifier: 5)
        try await c.send(message.frame(version: .v5))
        #expect(try #require(await c.next()).type == .pubrec)
        var dup = message
        dup.duplicate = true
        try await c.send(dup.frame(version: .v5))
        #expect(try #require(await c.next()).type == .pubrec)
        try await c.send(MQTTAck(.pubrel, packetIdentifier: 5).frame(version: .v5))
        #expect(try MQTTAck(frame: try #require(await c.next()), version: .v5) == MQTTAck(.pubcomp, packetIdentifier: 5))
        #expect(await receive(client, 2, within: 0.5).map(\.payload) == [[9]])
        await client.close()
        await server.stop()
    }

    @Test func endpointsParseAndBadOnesSayWhy() throws {
        #expect(try MQTTEndpoint(parsing: "mqtt://127.0.0.1:1884") == MQTTEndpoint(host: "127.0.0.1", port: 1884))
        #expect(try MQTTEndpoint(parsing: "mqtts://broker.example") == MQTTEndpoint(host: "broker.example", port: 8883, tls: true))
        #expect(try MQTTEndpoint(parsing: "mqtt://[::1]:1883").host == "::1")
        #expect(throws: MQTTClientError.self) { try MQTTEndpoint(parsing: "http://x:1") }
        #expect(throws: MQTTClientError.self) { try MQTTEndpoint(parsing: "mqtt://x:99999") }
        #expect(throws: MQTTClientError.self) { try MQTTEndpoint(parsing: "broker:1883") }
    }
}
