import Crypto
import Foundation
@testable import KramaaNetwork
import KramaaPrimitives
import NIOCore
import NIOPosix
import Testing
import X509

/// Loopback networks of real nodes (and test-driven raw peers). Every wait is bounded.
@Suite(.timeLimit(.minutes(1))) struct ConnectionTests {
    @Test func twoNodesConnectAndLearnEachOthersAddress() async throws {
        let a = try await startNode(0, testConfiguration())
        let b = try await startNode(1, testConfiguration(bootnodes: [Bootnode(host: "127.0.0.1", port: a.port)]))
        #expect(await eventually { a.network.isConnected(b.address) && b.network.isConnected(a.address) })
        #expect(a.network.connectedPeers.map(\.address) == [b.address])
        #expect(b.network.connectedPeers.map(\.address) == [a.address])
        #expect(b.network.connectedPeers.first?.outbound == true && a.network.connectedPeers.first?.outbound == false)
        #expect(a.network.connectedPeers.first?.listenPort == b.port)
        #expect(a.log.connections.map(\.address) == [b.address] && b.log.connections.map(\.address) == [a.address])
        // Messages both ways, by address and by broadcast.
        #expect(b.network.send(to: a.address, type: MessageType.transaction, payload: [1, 2, 3]))
        #expect(a.network.broadcast(type: MessageType.status, payload: Array("hi".utf8)) == 1)
        #expect(await eventually { a.log.messages.count == 1 && b.log.messages.count == 1 })
        #expect(a.log.messages.first.map { $0.from == b.address && $0.type == 1 && $0.payload == [1, 2, 3] } == true)
        #expect(b.log.messages.first.map { $0.from == a.address && $0.type == 6 && $0.payload == Array("hi".utf8) } == true)
        #expect(!a.network.send(to: nodeKey(9).publicKey.address, type: 1, payload: []))
        await b.network.stop()
        #expect(await eventually { a.log.disconnections.map(\.peer) == [b.address] })
        await a.network.stop()
    }

    @Test func aNodeOutsideTheAllowedSetIsRefusedOnBothSides() async throws {
        let validators: Set = [nodeKey(0).publicKey.address, nodeKey(1).publicKey.address]
        let a = try await startNode(0, testConfiguration(allowed: validators))
        let outsider = nodeKey(2).publicKey.address
        // The outsider dials a validator: the validator (server) refuses its certificate.
        let c = try await startNode(2, testConfiguration(bootnodes: [a.bootnode]))
        #expect(await eventually {
            a.log.failures.contains { $0.reason == .identityRejected(.notAllowed(outsider)) } && !c.log.failures.isEmpty
        })
        await c.network.stop()
        // A validator dials the outsider: the validator (client) refuses the server's certificate.
        let c2 = try await startNode(2, testConfiguration())
        let a2 = try await startNode(1, testConfiguration(bootnodes: [c2.bootnode], allowed: validators))
        #expect(await eventually {
            a2.log.failures.contains { $0.reason == .identityRejected(.notAllowed(outsider)) } && !c2.log.failures.isEmpty
        })
        try await Task.sleep(for: .milliseconds(200))
        for node in [a, c, a2, c2] {
            #expect(node.network.connectedPeers.isEmpty)
            #expect(node.log.connections.isEmpty)
        }
        for node in [a, a2, c2] { await node.network.stop() }
    }

    @Test func aBootnodeWithAnotherAddressIsRefused() async throws {
        let b = try await startNode(1, testConfiguration())
        let expected = nodeKey(7).publicKey.address
        let a = try await startNode(0, testConfiguration(bootnodes: [Bootnode(host: "127.0.0.1", port: b.port, address: expected)]))
        #expect(await eventually {
            a.log.failures.contains { $0.reason == .identityRejected(.unexpectedPeer(expected: expected, got: b.address)) }
        })
        #expect(a.network.connectedPeers.isEmpty && b.network.connectedPeers.isEmpty)
        await a.network.stop()
        await b.network.stop()
    }

    @Test func aForgedIdentityCertificateIsRefused() async throws {
        let node = try await startNode(0, testConfiguration())
        // A certificate claiming node 1's identity with node 1's genuine extension, for a TLS key
        // the attacker made: the extension does not sign this key.
        let genuine = try NodeIdentity(nodeKey: nodeKey(1))
        let stolen = try genuineExtension(genuine.certificateDER)
        let tlsKey = P256.Signing.PrivateKey()
        let forgedDER = try IdentityCertificate.make(nodeKey: nodeKey(1), tlsKey: tlsKey, notValidBefore: Date() - 60,
                                                     notValidAfter: Date() + 3600, extensionValueOverride: stolen)
        let forged = NodeIdentity(nodeKey: nodeKey(1), tlsKey: tlsKey, certificateDER: forgedDER)
        let raw = try await RawPeer.connect(port: node.port, identity: forged)
        try? await raw.write(Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded)
        #expect(await eventually { node.log.failures.contains { $0.reason == .identityRejected(.bindingSignatureInvalid) } })
        #expect(await eventually { !raw.isOpen })
        #expect(node.network.connectedPeers.isEmpty && raw.frames.isEmpty)
        // The same peer with its genuine certificate gets in (so the refusal was the forgery's).
        let honest = try await RawPeer.connect(port: node.port, identity: genuine)
        try await honest.write(Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded)
        #expect(await eventually { node.network.isConnected(genuine.address) })
        await raw.close()
        await honest.close()
        await node.network.stop()
    }

    @Test func plainTCPIsRefused() async throws {
        let node = try await startNode(0, testConfiguration())
        let raw = try await RawPeer.connect(port: node.port, identity: nil)
        try? await raw.write(Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded)
        #expect(await eventually { !raw.isOpen })
        #expect(await eventually {
            node.log.failures.contains { if $0.peer == nil, case .tlsFailed = $0.reason { true } else { false } }
        })
        #expect(node.network.connectedPeers.isEmpty)
        #expect(!raw.received.contains(0xF0))   // no handshake message (plaintext) came back
        await raw.close()
        await node.network.stop()
    }

    @Test func chainIdMismatchIsRefused() async throws {
        let a = try await startNode(0, testConfiguration(chainId: 1))
        let b = try await startNode(1, testConfiguration(chainId: 2, bootnodes: [a.bootnode]))
        #expect(await eventually {
            a.log.failures.contains { $0.peer == b.address && $0.reason == .handshakeFailed("chain id 2, expected 1") }
                && b.log.failures.contains { $0.peer == a.address && $0.reason == .handshakeFailed("chain id 1, expected 2") }
        })
        #expect(a.log.connections.isEmpty && b.log.connections.isEmpty)
        #expect(a.network.isBanned(b.address) && b.network.isBanned(a.address))
        await a.network.stop()
        await b.network.stop()
    }

    @Test func nodesDialingEachOtherKeepOneConnection() async throws {
        // Both list the other as a bootnode: both dial at once.
        let pa = try await startNode(0, testConfiguration())
        let pb = try await startNode(1, testConfiguration())
        let (portA, portB) = (pa.port, pb.port)
        await pa.network.stop()
        await pb.network.stop()
        let a = try await startNode(0, testConfiguration(port: portA, bootnodes: [Bootnode(host: "127.0.0.1", port: portB)]))
        let b = try await startNode(1, testConfiguration(port: portB, bootnodes: [Bootnode(host: "127.0.0.1", port: portA)]))
        #expect(await eventually {
            a.network.isConnected(b.address) && b.network.isConnected(a.address)
                && a.network.openConnectionCount == 1 && b.network.openConnectionCount == 1
        })
        try await Task.sleep(for: .milliseconds(500))
        #expect(a.network.openConnectionCount == 1 && b.network.openConnectionCount == 1)
        #expect(a.network.connectedPeers.count == 1 && b.network.connectedPeers.count == 1)
        // Both kept the connection dialed by the lower address.
        let (low, high) = a.address < b.address ? (a, b) : (b, a)
        #expect(low.network.connectedPeers.first?.outbound == true)
        #expect(high.network.connectedPeers.first?.outbound == false)
        await a.network.stop()
        await b.network.stop()
    }

    @Test(arguments: [false, true])
    func aSecondConnectionReplacesTheFirstOnlyIfTheLowerAddressDialedIt(lowDialsFirst: Bool) async throws {
        let n0 = try await startNode(0, testConfiguration())
        let n1 = try await startNode(1, testConfiguration())
        let (low, high) = n0.address < n1.address ? (n0, n1) : (n1, n0)
        let (first, second) = lowDialsFirst ? (low, high) : (high, low)
        let target = { (node: TestNode) in node.address == low.address ? high : low }
        first.network.addBootnode(target(first).bootnode)
        #expect(await eventually { low.network.isConnected(high.address) && high.network.isConnected(low.address) })
        #expect(low.network.connectedPeers.first?.outbound == (first.address == low.address))
        // Without an expected address the second dials although the first is connected.
        second.network.addBootnode(Bootnode(host: "127.0.0.1", port: target(second).port))
        #expect(await eventually { second.log.failures.contains { $0.reason == .duplicate || $0.reason == .remoteRequested(DisconnectCode.duplicate) }
            || (low.network.connectedPeers.first?.outbound == true && high.network.connectedPeers.first?.outbound == false
                && low.network.openConnectionCount == 1 && high.network.openConnectionCount == 1) })
        try await Task.sleep(for: .milliseconds(300))
        #expect(low.network.openConnectionCount == 1 && high.network.openConnectionCount == 1)
        #expect(low.network.connectedPeers.first?.outbound == true)
        #expect(high.network.connectedPeers.first?.outbound == false)
        // The replacement was invisible to the application: one connected event, no disconnection.
        #expect(low.log.connections.count == 1 && high.log.connections.count == 1)
        #expect(low.log.disconnections.isEmpty && high.log.disconnections.isEmpty)
        await n0.network.stop()
        await n1.network.stop()
    }

    @Test func peersReconnectAfterARestart() async throws {
        var a = try await startNode(0, testConfiguration())
        let port = a.port
        let b = try await startNode(1, testConfiguration(bootnodes: [a.bootnode]))
        #expect(await eventually { b.network.isConnected(a.address) })
        await a.network.stop()
        #expect(await eventually { b.log.disconnections.map(\.peer) == [a.address] && !b.network.isConnected(a.address) })
        // Down for a while: b keeps redialling (with back-off) and fails.
        try await Task.sleep(for: .milliseconds(400))
        #expect(!b.network.isConnected(a.address))
        a = try await startNode(0, testConfiguration(port: port))
        #expect(await eventually { b.network.isConnected(a.address) && a.network.isConnected(b.address) })
        #expect(b.log.connections.map(\.address) == [a.address, a.address])
        await a.network.stop()
        await b.network.stop()
    }

    @Test func keepaliveTimeoutDropsASilentPeer() async throws {
        var configuration = testConfiguration()
        configuration.pingInterval = .milliseconds(100)
        configuration.pingTimeout = .milliseconds(500)
        let node = try await startNode(0, configuration)
        let identity = try NodeIdentity(nodeKey: nodeKey(1))
        let raw = try await RawPeer.connect(port: node.port, identity: identity)
        try await raw.write(Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded)
        // Connected once (the log, not the live state: under load the poll can miss the half
        // second the connection lasts).
        #expect(await eventually { node.log.connections.contains { $0.address == identity.address } })
        // It never answers the pings.
        #expect(await eventually(timeout: .seconds(5)) { node.log.disconnections.contains { $0 == (identity.address, .keepaliveTimeout) } })
        #expect(raw.frames.contains { $0.type == MessageType.ping })
        #expect(!node.network.isBanned(identity.address))
        await raw.close()
        await node.network.stop()
    }
}

@Suite(.timeLimit(.minutes(1))) struct SlowPeerTests {
    /// A peer that stops reading is disconnected once its unsent data passes the bound; one
    /// that reads is not, for the same traffic.
    @Test(arguments: [false, true])
    func aPeerThatStopsReadingIsDisconnected(reads: Bool) async throws {
        var configuration = testConfiguration()
        configuration.maxPendingBytes = 512 * 1024
        configuration.pingTimeout = .seconds(30)
        let node = try await startNode(0, configuration)
        let identity = try NodeIdentity(nodeKey: nodeKey(1))
        let raw = try await RawPeer.connect(port: node.port, identity: identity)
        try await raw.write(Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded)
        #expect(await eventually { node.network.isConnected(identity.address) })
        if !reads { try await raw.channel.setOption(ChannelOptions.autoRead, value: false).get() }
        let payload = [UInt8](repeating: 0xAB, count: 64 * 1024)
        // Far more than the socket buffers hold for a peer that does not read (~37 MiB); at a
        // pace any reader keeps up with (~6 MiB at 12 MiB/s) for one that does.
        let count = reads ? 100 : 600
        var sent = 0
        while sent < count && node.network.isConnected(identity.address) {
            node.network.send(to: identity.address, type: MessageType.blockResponse, payload: payload)
            sent += 1
            try await Task.sleep(for: .milliseconds(reads ? 5 : 1))
        }
        if reads {
            #expect(sent == count && node.network.isConnected(identity.address))
            #expect(await eventually { raw.frames.filter { $0.type == MessageType.blockResponse }.count == count })
            #expect(node.log.disconnections.isEmpty)
        } else {
            #expect(await eventually { node.log.disconnections.contains { $0 == (identity.address, .slowPeer) } })
            #expect(sent < 600)
        }
        await raw.close()
        await node.network.stop()
    }
}

@Suite(.timeLimit(.minutes(1))) struct MisbehaviourTests {
    /// Connects a raw peer with a valid identity, completes the handshake message, then sends `bytes`.
    func misbehave(_ bytes: [UInt8], configuration: PeerNetwork.Configuration = testConfiguration(),
                   expect reason: (DisconnectReason) -> Bool) async throws {
        let node = try await startNode(0, configuration)
        let identity = try NodeIdentity(nodeKey: nodeKey(1))
        let raw = try await RawPeer.connect(port: node.port, identity: identity)
        try await raw.write(Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded)
        #expect(await eventually { node.network.isConnected(identity.address) })
        try? await raw.write(bytes)
        #expect(await eventually { node.log.disconnections.contains { $0.peer == identity.address && reason($0.reason) } })
        #expect(await eventually { !raw.isOpen })
        #expect(raw.frames.contains { $0.type == MessageType.disconnect && $0.payload == [DisconnectCode.protocolViolation] })
        // Dropped, not followed: banned, so it is refused when it comes back.
        #expect(node.network.isBanned(identity.address))
        let again = try await RawPeer.connect(port: node.port, identity: identity)
        try? await again.write(Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded)
        #expect(await eventually { node.log.failures.contains { $0.reason == .identityRejected(.banned(identity.address)) } })
        #expect(!node.network.isConnected(identity.address))
        await raw.close()
        await again.close()
        await node.network.stop()
    }

    @Test func unknownMessageTypeDropsThePeer() async throws {
        try await misbehave(Frame(type: 0x77, payload: [1]).encoded) {
            $0 == .protocolViolation("unknown message type 119")
        }
    }

    @Test func oversizedFrameDropsThePeer() async throws {
        var configuration = testConfiguration()
        configuration.maxFrameBytes = 1024
        try await misbehave(Frame(type: 1, payload: [UInt8](repeating: 0, count: 1024)).encoded, configuration: configuration) {
            $0 == .protocolViolation("frame of 1025 bytes exceeds the limit of 1024")
        }
    }

    @Test func emptyFrameDropsThePeer() async throws {
        try await misbehave([0, 0, 0, 0, 1, 2, 3]) { $0 == .protocolViolation("frame of length 0 (no type byte)") }
    }

    @Test func aSecondHandshakeMessageDropsThePeer() async throws {
        try await misbehave(Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded) {
            $0 == .protocolViolation("a second handshake message")
        }
    }

    @Test func aBootnodeThatSendsGarbageIsNotRedialled() async throws {
        let identity = try NodeIdentity(nodeKey: nodeKey(1))
        let script = Hello(protocolVersion: 1, chainId: 4242, listenPort: 1).frame.encoded + Frame(type: 0x99, payload: []).encoded
        let server = try await RawServer(identity: identity, script: script)
        var configuration = testConfiguration(bootnodes: [Bootnode(host: "127.0.0.1", port: server.port)])
        configuration.reconnect = Backoff(initial: .milliseconds(20), maximum: .milliseconds(40))
        let node = try await startNode(0, configuration)
        #expect(await eventually { node.log.disconnections.contains { $0.peer == identity.address && $0.reason.isMisbehaviour } })
        // With a 20–40 ms back-off it would have been redialled ~20 times by now.
        try await Task.sleep(for: .milliseconds(800))
        #expect(server.accepted.withLockedValue { $0 } == 1)
        #expect(node.network.isBanned(identity.address))
        await node.network.stop()
        await server.close()
    }

    @Test func aBootnodeThatFailsTheHandshakeIsNotRedialled() async throws {
        // Something other than hello first: refused before it ever was a peer, and banned.
        let identity = try NodeIdentity(nodeKey: nodeKey(1))
        let server = try await RawServer(identity: identity, script: Frame(type: 0x01, payload: [9]).encoded)
        var configuration = testConfiguration(bootnodes: [Bootnode(host: "127.0.0.1", port: server.port)])
        configuration.reconnect = Backoff(initial: .milliseconds(20), maximum: .milliseconds(40))
        let node = try await startNode(0, configuration)
        #expect(await eventually { node.log.failures.contains { $0.peer == identity.address && $0.reason.isMisbehaviour } })
        try await Task.sleep(for: .milliseconds(800))
        #expect(server.accepted.withLockedValue { $0 } == 1)
        #expect(node.log.connections.isEmpty && node.network.isBanned(identity.address))
        await node.network.stop()
        await server.close()
    }

    @Test func aBootnodeThatClosesIsRedialledWithBackoff() async throws {
        // Control for the two tests above: a server that closes each connection after TLS (no
        // misbehaviour) is redialled, the delay growing to the cap (20, 40, 40, … ms, jittered).
        let identity = try NodeIdentity(nodeKey: nodeKey(1))
        let server = try await RawServer(identity: identity, script: [], closeAfter: true)
        var configuration = testConfiguration(bootnodes: [Bootnode(host: "127.0.0.1", port: server.port)])
        configuration.reconnect = Backoff(initial: .milliseconds(20), maximum: .milliseconds(40))
        let node = try await startNode(0, configuration)
        #expect(await eventually { server.accepted.withLockedValue { $0 } >= 5 })
        #expect(node.log.failures.allSatisfy { !$0.reason.isMisbehaviour } && !node.network.isBanned(identity.address))
        await node.network.stop()
        await server.close()
    }
}

@Suite(.timeLimit(.minutes(1))) struct GossipTests {
    struct GossipNode {
        let network: PeerNetwork
        let gossip: Gossip
        let log: EventLog
        var address: Address { network.address }
        var delivered: [[UInt8]] { log.messages.map(\.payload) }
    }

    func startGossipNode(_ index: Int, port: Int = 0, bootnodes: [Bootnode]) async throws -> GossipNode {
        let log = EventLog()
        let gossip = Gossip(types: [MessageType.transaction, MessageType.vote], next: log)
        let network = try await PeerNetwork.start(configuration: testConfiguration(port: port, bootnodes: bootnodes),
                                                  nodeKey: nodeKey(index), handler: gossip)
        return GossipNode(network: network, gossip: gossip, log: log)
    }

    func bootnode(_ node: GossipNode) -> Bootnode { Bootnode(host: "127.0.0.1", port: node.network.port, address: node.address) }

    @Test func aMessageReachesEveryNodeOfALineExactlyOnce() async throws {
        // A – B – C – D
        let a = try await startGossipNode(0, bootnodes: [])
        let b = try await startGossipNode(1, bootnodes: [bootnode(a)])
        let c = try await startGossipNode(2, bootnodes: [bootnode(b)])
        let d = try await startGossipNode(3, bootnodes: [bootnode(c)])
        let nodes = [a, b, c, d]
        #expect(await eventually { nodes.map { $0.network.connectedPeers.count } == [1, 2, 2, 1] })
        let vote = Array("vote 1".utf8)
        #expect(a.gossip.publish(type: MessageType.vote, payload: vote, on: a.network))
        #expect(await eventually { [b, c, d].allSatisfy { $0.delivered == [vote] } })
        // The same message again, from either end: everyone has seen it.
        #expect(!a.gossip.publish(type: MessageType.vote, payload: vote, on: a.network))
        #expect(!d.gossip.publish(type: MessageType.vote, payload: vote, on: d.network))
        // d relays a copy made by another node (not its own publish): c drops it as a duplicate.
        d.network.broadcast(type: MessageType.vote, payload: vote)
        #expect(await eventually { c.gossip.statistics.duplicates == 1 })
        // A different type with the same payload is a different message.
        #expect(d.gossip.publish(type: MessageType.transaction, payload: vote, on: d.network))
        #expect(await eventually { [a, b, c].allSatisfy { $0.log.messages.count == 1 + ($0.address == a.address ? 0 : 1) } })
        try await Task.sleep(for: .milliseconds(300))
        #expect(a.delivered == [vote])
        #expect([b, c].allSatisfy { $0.delivered == [vote, vote] })
        #expect(d.delivered == [vote])
        #expect(nodes.map { $0.log.messages.filter { $0.type == MessageType.vote }.count } == [0, 1, 1, 1])
        for node in nodes { await node.network.stop() }
    }

    @Test func aFullMeshDeliversOnceDespiteDuplicates() async throws {
        let first = try await startGossipNode(0, bootnodes: [])
        var nodes = [first]
        for index in 1..<4 {
            nodes.append(try await startGossipNode(index, bootnodes: nodes.map(bootnode)))
        }
        let all = nodes
        #expect(await eventually { all.allSatisfy { $0.network.connectedPeers.count == 3 } })
        for (index, node) in all.enumerated() {
            #expect(node.gossip.publish(type: MessageType.transaction, payload: [UInt8(index)], on: node.network))
        }
        #expect(await eventually { all.allSatisfy { $0.delivered.count == 3 } })
        try await Task.sleep(for: .milliseconds(300))
        for (index, node) in all.enumerated() {
            #expect(Set(node.delivered) == Set((0..<4).filter { $0 != index }.map { [UInt8($0)] }))
            #expect(node.delivered.count == 3)
        }
        // Each message reached each node from its origin and was relayed by the others: copies were dropped.
        #expect(all.map { $0.gossip.statistics.duplicates }.reduce(0, +) > 0)
        for node in all { await node.network.stop() }
    }

    @Test func invalidMessagesAreNeitherDeliveredNorRelayed() async throws {
        let logs = (0..<3).map { _ in EventLog() }
        var networks: [PeerNetwork] = []
        var gossips: [Gossip] = []
        for index in 0..<3 {
            let gossip = Gossip(types: [MessageType.transaction], next: logs[index]) { _, payload in payload.first != 0xBA }
            let bootnodes = networks.last.map { [Bootnode(host: "127.0.0.1", port: $0.port)] } ?? []
            networks.append(try await PeerNetwork.start(configuration: testConfiguration(bootnodes: bootnodes),
                                                        nodeKey: nodeKey(index), handler: gossip))
            gossips.append(gossip)
        }
        let all = networks
        #expect(await eventually { all.map { $0.connectedPeers.count } == [1, 2, 1] })
        networks[0].broadcast(type: MessageType.transaction, payload: [0xBA, 0xD0])
        #expect(gossips[0].publish(type: MessageType.transaction, payload: [0x00D], on: networks[0]))
        #expect(await eventually { logs[2].messages.count == 1 })
        #expect(gossips[1].statistics.invalid == 1 && logs[1].messages.map(\.payload) == [[0x0D]])
        #expect(logs[2].messages.map(\.payload) == [[0x0D]] && gossips[2].statistics.invalid == 0)
        for network in networks { await network.stop() }
    }
}

func genuineExtension(_ der: [UInt8]) throws -> [UInt8] {
    Array(try Certificate(derEncoded: der).extensions[oid: IdentityCertificate.extensionOID]!.value)
}
