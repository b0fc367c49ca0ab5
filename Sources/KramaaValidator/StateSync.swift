import Foundation
import KramaaNetwork
import KramaaNode
import KramaaPrimitives
import KramaaStorage
import Logging

extension MessageType {
    /// State sync (docs/OPERATIONS.md): which snapshots a node serves, and their chunks.
    public static let snapshotsRequest: UInt8 = 0x40
    public static let snapshotsOffer: UInt8 = 0x41
    public static let snapshotChunkRequest: UInt8 = 0x42
    public static let snapshotChunk: UInt8 = 0x43
}

/// Serves the snapshots in a node's `snapshots` folder to peers: their manifests on request, then
/// chunks one by one (the joining node checks each against the manifest's hash).
public final class SnapshotService: PeerService, @unchecked Sendable {
    public let messageTypes: Set<UInt8> = [MessageType.snapshotsRequest, MessageType.snapshotChunkRequest]
    public let folder: URL
    private let lock = NSLock()
    private var sender: PeerSender?
    private var files: [Bytes32: SnapshotFile] = [:]
    private let queue = DispatchQueue(label: "kramaa.snapshots")

    public init(folder: URL) { self.folder = folder }

    public func attach(_ sender: PeerSender) { lock.withLock { self.sender = sender } }
    public func peerConnected(_ peer: Address) {}
    public func peerDisconnected(_ peer: Address) {}

    public func received(type: UInt8, payload: [UInt8], from peer: Address) {
        queue.async { [self] in
            guard let sender = lock.withLock({ self.sender }) else { return }
            switch type {
            case MessageType.snapshotsRequest:
                var w = RLPWriter()
                w.appendList { w in for file in rescan() { w.append(bytes: file.manifest.encoded) } }
                sender.send(to: peer, type: MessageType.snapshotsOffer, payload: w.bytes)
            case MessageType.snapshotChunkRequest:
                var r = RLPReader(payload)
                guard var list = try? r.readList(), let id = try? list.readBytes32(), let index = try? list.readUInt64() else { return }
                let file = lock.withLock { files[id] }
                let bytes = (try? file?.chunk(Int(index))) ?? nil
                var w = RLPWriter()
                w.appendList { w in
                    w.append(bytes32: id)
                    w.append(uint: index)
                    w.append(bytes: bytes ?? [])
                }
                sender.send(to: peer, type: MessageType.snapshotChunk, payload: w.bytes)
            default:
                break
            }
        }
    }

    /// The snapshots in the folder now (newest first), opened once each.
    private func rescan() -> [SnapshotFile] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var found: [SnapshotFile] = []
        lock.withLock {
            let byPath = Dictionary(files.values.map { ($0.url.path, $0) }, uniquingKeysWith: { a, _ in a })
            for name in names where name.hasSuffix(".snapshot") {
                let url = folder.appendingPathComponent(name)
                if let known = byPath[url.path] ?? (try? SnapshotFile(url: url)) { found.append(known) }
            }
            files = Dictionary(found.map { ($0.manifest.id, $0) }, uniquingKeysWith: { a, _ in a })
        }
        return found.sorted { $0.manifest.height > $1.manifest.height }
    }
}

/// Fetches the newest snapshot its peers offer, chunk by chunk, each checked against the
/// manifest before it is kept; a peer that sends a wrong chunk is dropped and another asked.
public enum StateSyncClient {
    public struct Settings: Sendable {
        public var bootnodes: [Bootnode]
        public var listenHost = "127.0.0.1"
        public var listenPort = 0
        /// How long to wait for offers once the first peer answered, and for any answer at all.
        public var offerWindow: Duration = .seconds(2)
        public var timeout: Duration = .seconds(60)

        public init(bootnodes: [Bootnode]) { self.bootnodes = bootnodes }
    }

    /// The snapshot's manifest and chunks, every chunk matching the manifest.
    public static func fetch(chainId: UInt64, key: Secp256k1.PrivateKey, settings: Settings,
                             logger: Logger) async throws(SnapshotError) -> (SnapshotManifest, [[UInt8]]) {
        let inbox = Inbox()
        var configuration = PeerNetwork.Configuration(chainId: chainId, listenHost: settings.listenHost, listenPort: settings.listenPort,
                                                      bootnodes: settings.bootnodes)
        // Peers gossip consensus, transactions and their services' messages to every connection:
        // accept all application types (an unknown one would end the connection) and read two.
        configuration.messageTypes = Set(MessageType.applicationRange)
        let network: PeerNetwork
        do {
            network = try await PeerNetwork.start(configuration: configuration, nodeKey: key, logger: logger) { network, event in
                inbox.take(event, network: network)
            }
        } catch {
            throw .unavailable("the peer network does not start: \(error)")
        }
        defer { Task { await network.stop() } }
        let deadline = ContinuousClock.now + settings.timeout
        // Offers: wait for the first, then a little longer for the others.
        while inbox.offers.isEmpty {
            guard ContinuousClock.now < deadline else { throw .unavailable("no peer offered a snapshot within \(settings.timeout)") }
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? await Task.sleep(for: settings.offerWindow)
        let offers = inbox.offers.filter { $0.manifest.chainId == chainId }
        guard let best = offers.max(by: { $0.manifest.height < $1.manifest.height }) else {
            throw .unavailable("the snapshots offered are of other chains")
        }
        let manifest = best.manifest
        let id = manifest.id
        var holders = offers.filter { $0.manifest.id == id }.map(\.peer)
        logger.info("state sync: snapshot of block \(manifest.height) (\(manifest.chunkHashes.count) chunks, \(manifest.accountCount) accounts) from \(holders.count) peer(s)")
        var chunks: [[UInt8]] = []
        var next = 0
        for index in manifest.chunkHashes.indices {
            while true {
                guard !holders.isEmpty else { throw .unavailable("no peer left that serves chunk \(index) correctly") }
                let peer = holders[next % holders.count]
                next += 1
                var w = RLPWriter()
                w.appendList { w in
                    w.append(bytes32: id)
                    w.append(uint: UInt64(index))
                }
                inbox.expect(id: id, index: index, from: peer)  // before asking: an answer may come at once
                network.send(to: peer, type: MessageType.snapshotChunkRequest, payload: w.bytes)
                let answer = await inbox.expected(until: min(deadline, ContinuousClock.now + .seconds(10)))
                guard let answer, Keccak256.hash(answer) == manifest.chunkHashes[index] else {
                    logger.warning("state sync: \(peer) did not send chunk \(index) (or sent a wrong one); asking another peer")
                    holders.removeAll { $0 == peer }
                    if answer != nil { network.disconnect(peer) }
                    continue
                }
                chunks.append(answer)
                break
            }
            guard ContinuousClock.now < deadline else { throw .unavailable("state sync took longer than \(settings.timeout)") }
        }
        return (manifest, chunks)
    }

    /// What peers sent, collected on the network's threads, within bounds: each peer's first offer
    /// (at most ``maximumOffersPerPeer`` snapshots), and only the one chunk being waited for, so a
    /// peer that floods offers or unasked chunks fills nothing.
    private final class Inbox: @unchecked Sendable {
        static let maximumOffersPerPeer = 4
        private let lock = NSLock()
        private var offerList: [(peer: Address, manifest: SnapshotManifest)] = []
        private var offered: Set<Address> = []
        /// The chunk asked for (peer, snapshot, index) and its answer once it came.
        private var awaited: (peer: Address, id: Bytes32, index: UInt64)?
        private var answer: [UInt8]?

        var offers: [(peer: Address, manifest: SnapshotManifest)] { lock.withLock { offerList } }

        func take(_ event: PeerEvent, network: PeerNetwork) {
            switch event {
            case .connected(let info):
                network.send(to: info.address, type: MessageType.snapshotsRequest, payload: [])
            case .message(let from, MessageType.snapshotsOffer, let payload):
                guard lock.withLock({ offered.insert(from).inserted }) else { return }
                var r = RLPReader(payload)
                guard var list = try? r.readList() else { return }
                var manifests: [SnapshotManifest] = []
                while !list.isAtEnd, manifests.count < Self.maximumOffersPerPeer {
                    guard let raw = try? list.readBytes(), let manifest = try? SnapshotManifest(decoding: Array(raw)) else { return }
                    manifests.append(manifest)
                }
                lock.withLock { offerList += manifests.map { (from, $0) } }
            case .message(let from, MessageType.snapshotChunk, let payload):
                var r = RLPReader(payload)
                guard var list = try? r.readList(), let id = try? list.readBytes32(), let index = try? list.readUInt64(),
                      let bytes = try? list.readBytes() else { return }
                lock.withLock {
                    guard let awaited, awaited.peer == from, awaited.id == id, awaited.index == index, answer == nil else { return }
                    answer = Array(bytes)
                }
            default:
                break
            }
        }

        /// Names the one chunk to keep when it arrives (any earlier answer is dropped).
        func expect(id: Bytes32, index: Int, from peer: Address) {
            lock.withLock {
                awaited = (peer, id, UInt64(index))
                answer = nil
            }
        }

        /// The expected chunk, waiting until `deadline`; nil if none came (an empty answer: the peer
        /// has none).
        func expected(until deadline: ContinuousClock.Instant) async -> [UInt8]? {
            defer { lock.withLock { awaited = nil; answer = nil } }
            while ContinuousClock.now < deadline {
                if let bytes = lock.withLock({ answer }) { return bytes.isEmpty ? nil : bytes }
                try? await Task.sleep(for: .milliseconds(2))
            }
            return nil
        }
    }
}
