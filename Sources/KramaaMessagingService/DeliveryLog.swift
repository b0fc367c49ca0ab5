import Foundation
import KramaaBroker
import KramaaChain
import KramaaEVM
import KramaaMessaging
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import Logging

/// Proof of delivery (docs/MESSAGING.md): every envelope a device acknowledges on its inbox
/// is a leaf (``DeliveryRegistry/leaf(chainId:envelopeHash:recipient:)``); every two seconds the
/// leaves so far become one Merkle tree, kept in `DIR/deliveries.log` (before anything is sent)
/// and its root committed on chain by the node's key (`commitDeliveries`). A proof is the leaf's
/// path to a root the registry holds: anyone can check it against the chain without the message.
public final class DeliveryLog: @unchecked Sendable {
    static let magic = Array("kramaa-deliveries-v1\n".utf8)
    public static let fileName = "deliveries.log"

    /// One committed (or to-be-committed) batch.
    struct Batch {
        var root: Bytes32
        var deliveries: [(envelope: Bytes32, recipient: Address)]
    }

    private let node: Node
    private let key: Secp256k1.PrivateKey?
    private let logger: Logger
    private let path: String
    private let lock = NSLock()
    private var fd: Int32
    private var pending: [(envelope: Bytes32, recipient: Address)] = []
    private var batches: [Bytes32: Batch] = [:]
    /// Roots oldest first, and the deliveries they hold together: proofs are kept for the most
    /// recent `retention` deliveries (memory and file), the oldest batches dropped beyond.
    private var order: [Bytes32] = []
    private var retained = 0
    /// Deliveries in the file (dropped ones included until it is rewritten).
    private var inFile = 0
    public let retention: Int
    private var byEnvelope: [Bytes32: [(root: Bytes32, index: Int)]] = [:]
    /// Roots not yet seen on chain, with when their transaction was last sent (nil: not yet).
    private var uncommitted: [Bytes32: Duration?] = [:]
    /// How long a sent commitment may take to be included before it is sent again.
    let resendAfter: Duration = .seconds(30)
    private var timer: DispatchSourceTimer?

    /// Opens the log in the node's data directory; `key` signs the commitments (a node without
    /// one records deliveries but cannot commit them).
    public init(node: Node, key: Secp256k1.PrivateKey?, logger: Logger, retention: Int = 1_000_000) throws {
        self.node = node
        self.key = key
        self.logger = logger
        self.retention = retention
        path = node.dataDirectory.appendingPathComponent(Self.fileName).path
        let records = try RecordLog.read(path: path, magic: Self.magic)
        fd = -1
        for record in records { if let batch = Self.decode(record) { add(batch) } }
        try rewrite()
        for root in order where !isCommitted(root) { uncommitted[root] = .some(nil) }
    }

    /// Replaces the file with the batches kept.
    private func rewrite() throws {
        let (newFD, _) = try RecordLog.replace(path: path, magic: Self.magic, records: order.compactMap { batches[$0].map(Self.encode) })
        if fd >= 0 { close(fd) }
        fd = newFD
        inFile = retained
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Starts committing every `interval`.
    public func start(every interval: Duration = .seconds(2)) {
        let t = DispatchSource.makeTimerSource(queue: .global())
        t.schedule(deadline: .now() + interval.inSeconds, repeating: interval.inSeconds)
        t.setEventHandler { [weak self] in self?.commitPending() }
        t.resume()
        timer = t
    }

    public func stop() { timer?.cancel() }

    /// A message a client acknowledged: a leaf when it is an envelope on that device's own inbox.
    func delivered(_ message: BrokerMessage, to principal: Principal) {
        // Only admitted envelopes reach an inbox (EnvelopeInspector), and an envelope's hash is
        // keccak256 of its wire bytes, the payload itself: no second parse.
        guard let recipient = DeviceTopicPolicy.inboxRecipient(message.topic),
              recipient.lowercased == principal.name else { return }
        let hash = Keccak256.hash(message.payload)
        lock.withLock { pending.append((hash, recipient)) }
    }

    /// Makes a batch of what is pending, keeps it, and commits its root (and any root not yet on chain).
    func commitPending() {
        let batch: Batch? = lock.withLock {
            guard !pending.isEmpty else { return nil }
            let deliveries = pending
            pending.removeAll()
            let tree = DeliveryMerkleTree(leaves: deliveries.map { leaf($0.envelope, $0.recipient) })
            return Batch(root: tree.root, deliveries: deliveries)
        }
        if let batch {
            var framed: [UInt8] = []
            RecordLog.frame(Self.encode(batch), into: &framed)
            if let code = PrivateFile.writeAll(framed, to: fd) {
                logger.error("cannot write \(path): errno \(code); \(batch.deliveries.count) deliveries not kept")
                return
            }
            let compact: Bool = lock.withLock {
                add(batch)
                inFile += batch.deliveries.count
                uncommitted[batch.root] = .some(nil)
                return inFile > 2 * retention
            }
            if compact {
                do { try lock.withLock { try rewrite() } } catch { logger.error("cannot rewrite \(path): \(error)") }
            }
        }
        submitUncommitted()
    }

    private func leaf(_ envelope: Bytes32, _ recipient: Address) -> Bytes32 {
        DeliveryRegistry.leaf(chainId: node.chainId, envelopeHash: envelope, recipient: recipient)
    }

    private func add(_ batch: Batch) {
        batches[batch.root] = batch
        order.append(batch.root)
        retained += batch.deliveries.count
        for (i, d) in batch.deliveries.enumerated() { byEnvelope[d.envelope, default: []].append((batch.root, i)) }
        while retained > retention && order.count > 1 { drop(order.removeFirst()) }
    }

    /// Forgets the oldest batch: its proofs are no longer served.
    private func drop(_ root: Bytes32) {
        guard let batch = batches.removeValue(forKey: root) else { return }
        retained -= batch.deliveries.count
        uncommitted[root] = nil
        for d in batch.deliveries {
            byEnvelope[d.envelope]?.removeAll { $0.root == root }
            if byEnvelope[d.envelope]?.isEmpty == true { byEnvelope[d.envelope] = nil }
        }
    }

    private func isCommitted(_ root: Bytes32) -> Bool { committed(root) != nil }

    /// Who committed `root`, in which block, per the registry; nil while it is not committed.
    func committed(_ root: Bytes32) -> DeliveryRegistry.Commitment? {
        let reader = NodeContractReader(node: node)
        guard let output = try? reader.call(DeliveryRegistry.address, DeliveryRegistry.Method.root.callData([.fixedBytes(root)])) else { return nil }
        return DeliveryRegistry.Commitment(rootAnswer: output)
    }

    /// Sends a transaction committing each root not yet on chain and not sent in the last
    /// `resendAfter` (pool nonces in order); forgets the ones the chain holds.
    private func submitUncommitted() {
        guard let key else { return }
        let now = SystemTime.shared.uptime
        let due: [Bytes32] = lock.withLock {
            uncommitted.filter { _, sent in sent.map { now - $0 >= resendAfter } ?? true }.map(\.key)
        }
        var nonce = node.pendingNonce(key.publicKey.address)
        for root in due {
            if isCommitted(root) {
                lock.withLock { uncommitted[root] = nil }
                continue
            }
            guard let count = lock.withLock({ batches[root]?.deliveries.count }) else { continue }
            do {
                _ = try node.submit(DeliveryRegistry.Method.commit.callData([.fixedBytes(root), .uint(UInt256(count))]),
                                    to: DeliveryRegistry.address, gasLimit: 200_000, key: key, nonce: nonce)
                nonce += 1
                lock.withLock { if uncommitted[root] != nil { uncommitted[root] = .some(now) } }
            } catch {
                logger.warning("delivery root \(root) not submitted: \(error); retried in the next round")
            }
        }
    }

    /// The proofs that `envelope` was delivered (one per recipient that acknowledged it).
    public func proofs(of envelope: Bytes32) -> [DeliveryProof] {
        let found: [(Batch, Int)] = lock.withLock { (byEnvelope[envelope] ?? []).compactMap { e in batches[e.root].map { ($0, e.index) } } }
        return found.map { batch, index in
            let tree = DeliveryMerkleTree(leaves: batch.deliveries.map { leaf($0.envelope, $0.recipient) })
            let recipient = batch.deliveries[index].recipient
            return DeliveryProof(chainId: node.chainId, envelopeHash: envelope, recipient: recipient, index: index,
                                 steps: tree.proof(of: index), root: tree.root, committed: committed(batch.root))
        }
    }

    // Batch records: root (32), count (4), then count × (envelope hash (32), recipient (20)).
    static func encode(_ batch: Batch) -> [UInt8] {
        var out = batch.root.bytes
        let n = UInt32(batch.deliveries.count)
        out += [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        for d in batch.deliveries { out += d.envelope.bytes + d.recipient.bytes }
        return out
    }

    static func decode(_ record: [UInt8]) -> Batch? {
        guard record.count >= 36 else { return nil }
        let n = record[32..<36].reduce(0) { $0 << 8 | Int($1) }
        guard record.count == 36 + 52 * n, let root = try? Bytes32(record[0..<32]) else { return nil }
        let deliveries = (0..<n).compactMap { i -> (Bytes32, Address)? in
            let at = 36 + 52 * i
            guard let h = try? Bytes32(record[at..<at + 32]), let a = try? Address(record[at + 32..<at + 52]) else { return nil }
            return (h, a)
        }
        return Batch(root: root, deliveries: deliveries.map { (envelope: $0.0, recipient: $0.1) })
    }
}

/// A proof that an envelope reached a device: the leaf's path to a root, and where the chain
/// says the root was committed (nil while it is not yet).
public struct DeliveryProof: Sendable {
    public var chainId: UInt64
    public var envelopeHash: Bytes32
    public var recipient: Address
    public var index: Int
    public var steps: [DeliveryMerkleTree.Step]
    public var root: Bytes32
    public var committed: DeliveryRegistry.Commitment?

    public var leaf: Bytes32 { DeliveryRegistry.leaf(chainId: chainId, envelopeHash: envelopeHash, recipient: recipient) }
}
