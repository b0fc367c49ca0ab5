import KramaaJSON
import KramaaAuth
import Foundation
import KramaaChain
import KramaaEVM
import KramaaNode
import KramaaPrimitives
import KramaaRPC
import KramaaState

/// Ethereum's JSON-RPC API (eth_*, net_*, web3_*, debug_*) over one node, as geth answers it:
/// same methods, shapes, tags and error texts, so wallets, web3 libraries and tools work
/// unchanged. `router()` gives the handler to serve.
public final class EthAPI: Sendable {
    public let node: Node
    /// The chain's reads (the node, behind `ChainProvider`).
    public let chain: any ChainProvider
    /// Keys the node signs with for eth_sendTransaction and eth_sign (devnet only; empty on a
    /// real node, where those methods answer `unknown account`).
    public let devAccounts: DevAccounts
    /// Who may use the write interfaces (signing methods here; REST, EPCIS and tags through
    /// the same policy).
    public let access: AccessPolicy
    let filters: FilterManager
    /// The most gas a simulated call may use (geth's --rpc.gascap).
    public let gasCap: UInt64 = 50_000_000
    public static let clientVersion = "kramaa/v0.1.0/linux/swift6"
    /// Storage keys one eth_getProof may ask for (each proof is a few kilobytes).
    static let maxProofSlots = 1024
    /// Bounds on debug_trace* answers (see ``TraceLimits``).
    public let traceLimits: TraceLimits
    /// The clock of waits and deadlines (tests pass a `ManualTime`).
    public let clock: TimeSource
    /// Whether debug_* methods are served (`kramaa node --debug-api`; always on the devnet).
    public let debugAPI: Bool
    /// kramaa_anchorStatus's answer: the node's relayers (nil: it runs none).
    public let anchorStatus: (@Sendable () -> JSON)?
    /// The validator's consensus state (peers, catching up), for net_peerCount and eth_syncing;
    /// nil or answering nil: a node without peers.
    public let consensus: (@Sendable () -> ConsensusReport?)?

    /// - Parameter access: closed by default (only calls in this process may sign); a node
    ///   passes its token store, the devnet opens loopback.
    /// - Parameter debugAPI: whether debug_* methods are served (`kramaa node --debug-api`).
    public init(node: Node, devAccounts: DevAccounts = DevAccounts(keys: []), access: AccessPolicy = .closed,
                debugAPI: Bool = true, traceLimits: TraceLimits = TraceLimits(), clock: TimeSource = SystemTime.shared,
                anchorStatus: (@Sendable () -> JSON)? = nil, consensus: (@Sendable () -> ConsensusReport?)? = nil) {
        self.clock = clock
        self.anchorStatus = anchorStatus
        self.consensus = consensus
        self.node = node
        self.chain = node
        self.devAccounts = devAccounts
        self.access = access
        self.debugAPI = debugAPI
        self.traceLimits = traceLimits
        self.filters = FilterManager(node: node)
    }

    /// Every method, registered on a router ready to serve.
    public func router() -> RPCRouter {
        var router = RPCRouter()
        registerChain(&router)
        registerBlocks(&router)
        registerCalls(&router)
        registerFees(&router)
        if debugAPI { registerTracing(&router) }
        registerConsensus(&router)
        registerAnchoring(&router)
        filters.register(&router, api: self)
        return router
    }

    // MARK: Block selection

    /// The block number a selector names for reading state; `pending`, `safe` and `finalized`
    /// are the head (a single node's blocks are final when stored).
    func number(_ selector: BlockSelector) throws -> UInt64 {
        switch selector {
        case .latest, .pending, .safe, .finalized: return node.latest.number
        case .earliest: return 0
        case .number(let n): return n
        case .hash(let hash, _):
            guard let n = try chain.number(ofHash: hash) else { throw RPCError.server("header for hash not found") }
            return n
        }
    }

    /// The block number for a state read (`latest` when the argument is absent); refuses a
    /// block beyond the head with geth's `header not found`.
    func stateBlock(_ params: RPCParams, _ index: Int) throws -> UInt64 {
        let n = try number(params.decodeIfPresent(index, as: BlockSelector.self) ?? .latest)
        guard n <= node.latest.number else { throw RPCError.server("header not found") }
        return n
    }

    // MARK: Chain and state

    private func registerChain(_ r: inout RPCRouter) {
        let node = self.node, chain = self.chain
        r.register("web3_clientVersion") { _, _ in .string(EthAPI.clientVersion) }
        r.register("web3_sha3") { p, _ in try p.expect(atMost: 1); return .hash(Keccak256.hash(try p.data(0))) }
        r.register("net_version") { _, _ in .string(String(node.chainId)) }
        r.register("net_listening") { _, _ in .bool(true) }
        let consensus = self.consensus
        r.register("net_peerCount") { _, _ in .quantity(UInt64(consensus?()?.peers ?? 0)) }
        r.register("eth_chainId") { _, _ in .quantity(node.chainId) }
        r.register("eth_syncing") { _, _ in
            // geth's shape while catching up: the head and the best head a peer announced.
            guard let report = consensus?(), report.syncing else { return .bool(false) }
            return .object(["startingBlock": .quantity(node.latest.number), "currentBlock": .quantity(node.latest.number),
                            "highestBlock": .quantity(max(report.bestPeerHead, node.latest.number))])
        }
        r.register("eth_mining") { _, _ in .bool(true) }
        r.register("eth_blockNumber") { _, _ in .quantity(node.latest.number) }
        r.register("eth_coinbase") { _, _ in .address(node.config.validators.first ?? node.genesis.coinbase) }
        r.register("eth_accounts") { [devAccounts] _, _ in .array(devAccounts.addresses.map { .address($0) }) }
        r.register("eth_getBalance") { [self] p, _ in
            try p.expect(atMost: 2)
            let address = try p.decode(0, as: Address.self)
            return .quantity(try chain.withState(at: stateBlock(p, 1)) { s, _ in s.account(address)?.balance ?? .zero })
        }
        r.register("eth_getTransactionCount") { [self] p, _ in
            try p.expect(atMost: 2)
            let address = try p.decode(0, as: Address.self)
            if try p.decodeIfPresent(1, as: BlockSelector.self) == .pending { return .quantity(node.pendingNonce(address)) }
            return .quantity(try chain.withState(at: stateBlock(p, 1)) { s, _ in s.account(address)?.nonce ?? 0 })
        }
        r.register("eth_getCode") { [self] p, _ in
            try p.expect(atMost: 2)
            let address = try p.decode(0, as: Address.self)
            return .data(try chain.withState(at: stateBlock(p, 1)) { s, _ in
                s.account(address).map { s.code(hash: $0.codeHash) } ?? []
            })
        }
        r.register("eth_getStorageAt") { [self] p, _ in
            try p.expect(atMost: 3)
            let address = try p.decode(0, as: Address.self)
            let slot = try p.decode(1, as: StorageSlot.self).value
            return .hash(try chain.withState(at: stateBlock(p, 2)) { s, _ in s.storage(address, slot: slot) }.bytes32)
        }
        r.register("eth_getProof") { [self] p, _ in
            try p.expect(atMost: 3)
            let address = try p.decode(0, as: Address.self)
            let slots = try p.decode(1, as: [StorageSlot].self)
            guard slots.count <= Self.maxProofSlots else {
                throw RPCError.invalidParams("invalid argument 1: at most \(Self.maxProofSlots) storage keys per proof (got \(slots.count)); split the request")
            }
            let n = try stateBlock(p, 2)
            let (proof, _) = try node.proof(address, slots: slots.map(\.value), at: n)
            return .object([
                "address": .address(address), "balance": .quantity(proof.info.balance), "nonce": .quantity(proof.info.nonce),
                "codeHash": .hash(proof.info.codeHash), "storageHash": .hash(proof.storageRoot),
                "accountProof": .array(proof.accountProof.map { .data($0) }),
                "storageProof": .array(proof.storageProofs.map { sp in
                    .object(["key": .quantity(sp.slot), "value": .quantity(sp.value), "proof": .array(sp.proof.map { .data($0) })])
                }),
            ])
        }
        // A batch's transactions have their senders recovered before its calls run, outside the
        // node's lock; each call then only pools its transaction (one turn of the lock, not two:
        // a call recovering its own sender first asks the pool whether it holds it already).
        r.registerBatchPreparation("eth_sendRawTransaction") { params, _ in
            node.prepare(raws: params.compactMap { try? $0.data(0) })
        }
        r.register("eth_sendRawTransaction") { p, c in
            try p.expect(atMost: 1)
            // The hash is answered only once the transaction is in the journal on disk; the calls
            // of a batch share that wait (docs/DATA.md).
            let accepted = try node.accept(raw: p.data(0))
            try await c.holdAnswer { try await node.waitUntilDurable(accepted.ticket) }
            return .hash(accepted.hash)
        }
    }
}

extension NodeError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .reverted(let output): RPCError.executionReverted(reason: Opcodes.revertReason(output), data: output)
        default: RPCError.server(description)
        }
    }
}

extension ChainReadError: RPCErrorConvertible {
    public var rpcError: RPCError { RPCError.server(description) }
}
