import Foundation
import KramaaChain
import KramaaConsensus
import KramaaNetwork
import KramaaNode
import KramaaPrimitives

/// Transaction gossip, chain status, block sync and re-gossip of stuck heights.
extension ValidatorRuntime {
    static let maxBlocksPerResponse: UInt64 = 64
    static let transactionBatchDelay = 0.002

    // MARK: Transactions

    /// A transaction entered the local pool (RPC or a peer): batch it for the peers. The
    /// pool refuses what it already holds, so a transaction crosses each link at most twice.
    func transactionArrived(_ signed: SignedTransaction) {
        if started == nil { maybeStartHeight() }
        // Validators dial each other, so what came from a peer has reached them all already.
        if fromPeers.remove(signed.hash) != nil { return }
        outgoingTransactions.append(signed.transaction.encoded)
        if !flushScheduled {
            flushScheduled = true
            queue.asyncAfter(seconds: Self.transactionBatchDelay) { [weak self] in self?.flushTransactions() }
        }
    }

    func flushTransactions() {
        flushScheduled = false
        guard !outgoingTransactions.isEmpty else { return }
        var w = RLPWriter()
        w.appendList { w in for raw in outgoingTransactions { w.append(bytes: raw) } }
        outgoingTransactions.removeAll(keepingCapacity: true)
        network?.broadcast(type: MessageType.transaction, payload: w.bytes)
    }

    /// Sends every pooled transaction to a peer that just connected, in batches: what a
    /// restarted node replayed from its journal reaches the others (a sender's later nonces may
    /// wait on them there), and a restarted peer gets what it missed while down. Peers refuse
    /// what they already hold before recovering any signature.
    func sendPool(to peer: Address) {
        let node = self.node, network = self.network
        DispatchQueue.global().async {
            let raws = node.pooledTransactions()
            for start in stride(from: 0, to: raws.count, by: Self.poolBatch) {
                var w = RLPWriter()
                w.appendList { w in for raw in raws[start..<min(start + Self.poolBatch, raws.count)] { w.append(bytes: raw) } }
                network?.send(to: peer, type: MessageType.transaction, payload: w.bytes)
            }
        }
    }

    static let poolBatch = 1000

    func receiveTransactions(_ payload: [UInt8]) {
        var outer = RLPReader(payload)
        guard var list = try? outer.readList() else { return }
        let node = self.node
        var raws: [[UInt8]] = []
        while !list.isAtEnd, let raw = try? list.readBytes() { raws.append(Array(raw)) }
        // Senders are recovered off the consensus queue; the pool takes each once.
        for raw in raws { fromPeers.insert(Keccak256.hash(raw)) }
        if fromPeers.count > 200_000 { fromPeers.removeAll() }  // bounded; a stale entry only costs one re-broadcast
        let batch = raws
        DispatchQueue.global().async {
            // Journaled without waiting: nothing is acknowledged to a peer.
            for raw in batch { _ = try? node.accept(raw: raw) }
        }
    }

    // MARK: Status and sync

    func sendStatus(to peer: Address) {
        var w = RLPWriter()
        w.appendList { w in w.append(uint: node.latest.number) }
        network?.send(to: peer, type: MessageType.status, payload: w.bytes)
    }

    func receiveStatus(_ payload: [UInt8], from peer: Address) {
        var outer = RLPReader(payload)
        guard var list = try? outer.readList(), let head = try? list.readUInt64() else { return }
        if head > node.latest.number { requestBlocks(from: peer) }
    }

    /// Asks `peer` (or every peer) for the blocks after the head, with their certificates. One
    /// request is outstanding at a time; the answer is applied and the next one asked for at
    /// once (`receiveBlocks`), and a lost request is repeated after a second.
    func requestBlocks(from peer: Address? = nil, force: Bool = false) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || !syncing || now - lastSyncRequest > 1_000_000_000 else { return }
        syncing = true
        lastSyncRequest = now
        var w = RLPWriter()
        w.appendList { w in
            w.append(uint: node.latest.number + 1)
            w.append(uint: Self.maxBlocksPerResponse)
        }
        if let peer {
            network?.send(to: peer, type: MessageType.blockRequest, payload: w.bytes)
        } else {
            network?.broadcast(type: MessageType.blockRequest, payload: w.bytes)
        }
    }

    func answerBlockRequest(_ payload: [UInt8], from peer: Address) {
        var outer = RLPReader(payload)
        guard var list = try? outer.readList(), let first = try? list.readUInt64(), let count = try? list.readUInt64() else { return }
        let head = node.latest.number
        guard first <= head, first > 0 else { return }
        let last = min(head, first + min(count, Self.maxBlocksPerResponse) - 1)
        let node = self.node, network = self.network
        DispatchQueue.global().async {
            var w = RLPWriter()
            w.appendList { w in
                for n in first...last {
                    guard let block = try? node.block(number: n), let certificate = try? node.certificate(number: n) else { break }
                    w.appendList { w in
                        w.append(bytes: block.encoded)
                        w.append(bytes: certificate)
                    }
                }
            }
            network?.send(to: peer, type: MessageType.blockResponse, payload: w.bytes)
        }
    }

    /// Blocks with certificates from a peer: each goes to the core, which checks the
    /// certificate against the validator set and answers with a commit.
    func receiveBlocks(_ payload: [UInt8], from peer: Address) {
        var outer = RLPReader(payload)
        guard var list = try? outer.readList() else { return }
        var received = 0
        while !list.isAtEnd {
            guard var item = try? list.readList(), let raw = try? item.readBytes(), let cert = try? item.readBytes(),
                  let certificate = try? CommitCertificate(rlp: Array(cert)) else { break }
            let next = node.latest.number + 1
            guard certificate.height == next else { continue }
            if started != next { maybeStartHeight(force: true) }
            let before = node.latest.number
            perform(core.handle(.commitReceived(certificate, block: Array(raw))))
            if node.latest.number == before { break }  // refused: ask again later, maybe elsewhere
            received += 1
        }
        // A full answer means the peer may have more: ask it at once for the next ones.
        if received > 0 && received == Int(Self.maxBlocksPerResponse) {
            requestBlocks(from: peer, force: true)
        } else {
            syncing = false
        }
    }

    // MARK: Timers

    /// Re-sends the current height's messages while it has not committed, so validators that
    /// missed some (loss, restart, partition) catch up.
    func scheduleRegossip() {
        queue.asyncAfter(seconds: configuration.regossipInterval.inSeconds) { [weak self] in
            guard let self, !stopped else { return }
            if started != nil && elapsedSinceProgress() >= configuration.regossipInterval {
                for message in core.gossipMessages() {
                    switch message {
                    case .proposal: network?.broadcast(type: MessageType.proposal, payload: message.encoded)
                    case .vote: network?.broadcast(type: MessageType.vote, payload: message.encoded)
                    }
                }
                for peer in network?.connectedPeers ?? [] { sendStatus(to: peer.address) }
            }
            scheduleRegossip()
        }
    }

    /// Starts a height when transactions arrived while none was running, or when empty
    /// blocks are due.
    func scheduleIdleCheck() {
        queue.asyncAfter(seconds: 0.05) { [weak self] in
            guard let self, !stopped else { return }
            if started == nil || started! <= node.latest.number {
                maybeStartHeight()
                if Self.tracing && started == nil && elapsedSinceProgress() > .milliseconds(300) {
                    trace("idle: pool \(node.poolCounts) head \(node.latest.number)")
                }
            }
            scheduleIdleCheck()
        }
    }
}

/// The consensus safety state on disk: written to a temporary file, synced, renamed over
/// the previous one and the directory synced, so a crash leaves the old or the new state,
/// never a torn one.
struct SafetyStore {
    let path: URL

    func load() throws -> SafetyState? {
        guard let data = FileManager.default.contents(atPath: path.path) else { return nil }
        do { return try SafetyState(rlp: Array(data)) } catch {
            throw ValidatorError.corruptSafetyState(path: path.path, reason: "\(error)")
        }
    }

    /// Replaces the stored state; returns once it is on disk.
    func save(_ state: SafetyState) throws {
        let temporary = path.path + ".tmp"
        let bytes = state.encoded
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ValidatorError.io("open \(temporary): errno \(errno)") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else { throw ValidatorError.io("write \(temporary): errno \(errno)") }
        guard rename(temporary, path.path) == 0 else { throw ValidatorError.io("rename to \(path.path): errno \(errno)") }
        let dir = open(path.deletingLastPathComponent().path, O_RDONLY)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }
}

public enum ValidatorError: Error, CustomStringConvertible {
    case corruptSafetyState(path: String, reason: String)
    case io(String)

    public var description: String {
        switch self {
        case .corruptSafetyState(let path, let reason):
            "the consensus safety state \(path) cannot be read (\(reason)); a validator must not sign without it — restore it or stop validating with this key"
        case .io(let reason): "consensus safety state: \(reason)"
        }
    }
}
