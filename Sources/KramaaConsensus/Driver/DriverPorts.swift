import KramaaPrimitives

/// The chain a `ConsensusDriver` decides for: the node in the process, an in-memory chain in
/// the simulator. Answers to `buildBlock` and `validateBlock` may come later (the simulator
/// delays them); the driver queues them as events either way.
public protocol ConsensusApplication: AnyObject {
    /// The height of the last committed block.
    var committedHeight: UInt64 { get }
    func validatorSet(forHeight height: UInt64) -> ValidatorSet
    /// Something waits to be decided (transactions in the pool).
    var hasPendingWork: Bool { get }
    /// Whether heights start every `emptyBlockInterval` even with nothing pending.
    var producesEmptyBlocks: Bool { get }
    /// Builds a block for `height` on the head and answers with its bytes and hash.
    func buildBlock(height: UInt64, round: Int, answer: @escaping (_ block: [UInt8], _ hash: Bytes32) -> Void)
    /// Checks that `block` (claimed hash `hash`) executes at `height`, and answers.
    func validateBlock(height: UInt64, hash: Bytes32, block: [UInt8], answer: @escaping (_ valid: Bool) -> Void)
    /// Applies and stores a final block with its certificate. A throw stops the driver.
    func commit(height: UInt64, block: [UInt8], hash: Bytes32, certificate: CommitCertificate) throws
    /// Committed blocks from `first` on (at most `limit`) with their certificates, for a peer
    /// that is behind; `answer` may be called on another thread (it only sends).
    func committedBlocks(from first: UInt64, limit: UInt64, answer: @escaping @Sendable ([SyncedBlock]) -> Void)
}

/// Where a driver keeps its `SafetyState`.
public protocol SafetyStorage: AnyObject {
    /// The stored state; nil before the first save.
    func load() throws -> SafetyState?
    /// Replaces the stored state; it is durable (survives a crash) when this returns.
    func save(_ state: SafetyState) throws
}

/// How a driver reaches the other validators. Sending is fire-and-forget and may be called
/// from any thread.
public protocol ConsensusTransport: AnyObject, Sendable {
    func broadcast(_ message: DriverMessage)
    func send(_ message: DriverMessage, to peer: Address)
    /// Peers connected now (status goes to each while a height is stuck).
    var connectedPeers: [Address] { get }
}

/// A committed block with the certificate that made it final, as block sync carries it.
public struct SyncedBlock: Sendable, Hashable {
    public var block: [UInt8]
    public var certificate: [UInt8]

    public init(block: [UInt8], certificate: [UInt8]) {
        self.block = block
        self.certificate = certificate
    }
}

/// What validators send each other about consensus, with its wire form (type byte and RLP
/// payload; the peer network frames it).
public enum DriverMessage: Sendable, Hashable {
    case consensus(ConsensusMessage)
    /// The sender's head.
    case status(head: UInt64)
    /// Blocks from `first`, at most `count`.
    case blockRequest(first: UInt64, count: UInt64)
    case blockResponse([SyncedBlock])

    /// The type bytes on the wire (the peer network's frame types 2–6; 1 is transactions).
    public enum WireType {
        public static let proposal: UInt8 = 2, vote: UInt8 = 3, blockRequest: UInt8 = 4, blockResponse: UInt8 = 5, status: UInt8 = 6
        public static let all: ClosedRange<UInt8> = 2...6
    }

    public var wire: (type: UInt8, payload: [UInt8]) {
        var w = RLPWriter()
        switch self {
        case .consensus(let message):
            if case .proposal = message { return (WireType.proposal, message.encoded) }
            return (WireType.vote, message.encoded)
        case .status(let head):
            w.appendList { w in w.append(uint: head) }
            return (WireType.status, w.bytes)
        case .blockRequest(let first, let count):
            w.appendList { w in
                w.append(uint: first)
                w.append(uint: count)
            }
            return (WireType.blockRequest, w.bytes)
        case .blockResponse(let blocks):
            w.appendList { w in
                for b in blocks {
                    w.appendList { w in
                        w.append(bytes: b.block)
                        w.append(bytes: b.certificate)
                    }
                }
            }
            return (WireType.blockResponse, w.bytes)
        }
    }

    /// The message of a frame; nil when the payload does not decode (a peer to disconnect).
    public init?(type: UInt8, payload: [UInt8]) {
        switch type {
        case WireType.proposal, WireType.vote:
            guard let message = try? ConsensusMessage(rlp: payload) else { return nil }
            self = .consensus(message)
        case WireType.status:
            var outer = RLPReader(payload)
            guard var list = try? outer.readList(), let head = try? list.readUInt64() else { return nil }
            self = .status(head: head)
        case WireType.blockRequest:
            var outer = RLPReader(payload)
            guard var list = try? outer.readList(), let first = try? list.readUInt64(), let count = try? list.readUInt64() else { return nil }
            self = .blockRequest(first: first, count: count)
        case WireType.blockResponse:
            var outer = RLPReader(payload)
            guard var list = try? outer.readList() else { return nil }
            var blocks: [SyncedBlock] = []
            while !list.isAtEnd {
                guard var item = try? list.readList(), let block = try? item.readBytes(), let certificate = try? item.readBytes() else { return nil }
                blocks.append(SyncedBlock(block: Array(block), certificate: Array(certificate)))
            }
            self = .blockResponse(blocks)
        default:
            return nil
        }
    }
}
