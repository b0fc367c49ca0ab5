import KramaaJSON
import Foundation
import KramaaChain
import KramaaEVM
import KramaaNode
import KramaaPrimitives
import KramaaRPC

/// What eth_getLogs, eth_newFilter and the `logs` subscription select: a block range or one
/// block by hash, addresses (any of), topics by position.
struct LogCriteria {
    var from: BlockSelector = .latest
    var to: BlockSelector = .latest
    var blockHash: Bytes32?
    var addresses: [Address] = []
    var topics: [[Bytes32]?] = []

    init(json: JSON?) throws {
        guard let json, !json.isNull else { return }
        guard let o = json.objectValue else { throw RPCParamTypeError(found: json.kindName, expected: "filters.FilterCriteria") }
        if let v = o["blockHash"], !v.isNull {
            blockHash = try Bytes32(rpcParam: v)
            if o["fromBlock"].map({ !$0.isNull }) == true || o["toBlock"].map({ !$0.isNull }) == true {
                throw APIError.invalidArgument("cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other")
            }
        }
        if let v = o["fromBlock"], !v.isNull { from = try BlockSelector(rpcParam: v) }
        if let v = o["toBlock"], !v.isNull { to = try BlockSelector(rpcParam: v) }
        switch o["address"] {
        case nil, .null?: break
        case .array(let list)?:
            guard list.count <= Self.maxAddresses else {
                throw APIError.invalidArgument("exceed max addresses: at most \(Self.maxAddresses), got \(list.count); split the query")
            }
            addresses = try list.map { try Address(rpcParam: $0) }
        case let v?: addresses = [try Address(rpcParam: v)]
        }
        if let v = o["topics"], !v.isNull {
            guard let list = v.arrayValue else { throw RPCParamTypeError(found: v.kindName, expected: "[]interface {}") }
            guard list.count <= 4 else { throw APIError.invalidArgument("exceed max topics") }
            topics = try list.map { position in
                switch position {
                case .null: return nil
                case .array(let any):
                    guard any.count <= Self.maxTopicsPerPosition else {
                        throw APIError.invalidArgument("exceed max topics per search position: at most \(Self.maxTopicsPerPosition), got \(any.count)")
                    }
                    // As geth reads it: a null among the alternatives makes the position a
                    // wildcard (the alternatives after it are not read).
                    var values: [Bytes32] = []
                    for value in any {
                        if value.isNull { return nil }
                        values.append(try Bytes32(rpcParam: value))
                    }
                    return values
                default: return [try Bytes32(rpcParam: position)]
                }
            }
        }
    }

    /// geth's bounds on a filter (`maxAddresses`, `maxSubTopics`).
    static let maxAddresses = 1000, maxTopicsPerPosition = 1000
    /// Logs one eth_getLogs answer may hold; a query matching more is refused.
    static let maxResults = 10_000
    /// Blocks one log query may cover. The log index reads only the blocks that can match, but
    /// its lists of blocks per address or topic still grow with the range, so the bound stays.
    static let maxBlockRange: UInt64 = 100_000

    func matches(_ log: Log) -> Bool { LogFilter(fromBlock: 0, toBlock: 0, addresses: addresses, topics: topics).matches(log) }
}

/// Installed filters (polled with eth_getFilterChanges) and WebSocket subscriptions, fed by
/// the node's events. A filter nobody polls for five minutes is removed, as in geth.
final class FilterManager: @unchecked Sendable {
    enum Kind {
        case blocks([Bytes32])
        case pendingTransactions([Bytes32])
        case logs(LogCriteria, [LocatedLog])
    }

    struct Installed {
        var kind: Kind
        var lastPoll: Date
    }

    static let timeout: TimeInterval = 300
    static let maxQueued = 10_000
    /// The pool's events (pending transactions) and new blocks come from the node itself.
    private let node: Node
    /// Reads go through the provider.
    private let chain: any ChainProvider
    private let lock = NSLock()
    private var filters: [String: Installed] = [:]
    private var headSubscriptions: [String: RPCSubscription] = [:]
    private var logSubscriptions: [String: (RPCSubscription, LogCriteria)] = [:]
    private var pendingSubscriptions: [String: (RPCSubscription, full: Bool)] = [:]

    init(node: Node) {
        self.node = node
        self.chain = node
        node.addObserver { [weak self] event in self?.handle(event) }
    }

    private static func newID() -> String {
        "0x" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    // MARK: Events

    private func handle(_ event: NodeEvent) {
        switch event {
        case .newBlock(let executed):
            let block = executed.block
            lock.lock()
            // Locating logs hashes every transaction: only when a filter or subscription wants them.
            let wantsLogs = !logSubscriptions.isEmpty || filters.values.contains { if case .logs = $0.kind { true } else { false } }
            let logs = wantsLogs ? LocatedLog.locate(block: block, receipts: executed.receipts) : []
            let now = Date()
            filters = filters.filter { now.timeIntervalSince($0.value.lastPoll) < Self.timeout }
            for (id, var installed) in filters {
                switch installed.kind {
                case .blocks(var hashes): hashes.append(block.hash); installed.kind = .blocks(Array(hashes.suffix(Self.maxQueued)))
                case .logs(let criteria, var queued):
                    if let to = try? bound(criteria.to), block.number > to { continue }
                    queued += logs.filter { criteria.blockHash == nil && criteria.matches($0.log) }
                    installed.kind = .logs(criteria, Array(queued.suffix(Self.maxQueued)))
                case .pendingTransactions: continue
                }
                filters[id] = installed
            }
            let heads = Array(headSubscriptions.values), logSubs = Array(logSubscriptions.values)
            lock.unlock()
            if !heads.isEmpty {
                let header = JSON.object(EthJSON.header(block.header))
                for s in heads { s.send(header) }
            }
            for (s, criteria) in logSubs {
                for log in logs where criteria.matches(log.log) { s.send(EthJSON.log(log)) }
            }
        case .newTransaction(let signed, _):
            lock.lock()
            for (id, installed) in filters {
                if case .pendingTransactions(let hashes) = installed.kind {
                    filters[id]?.kind = .pendingTransactions(Array((hashes + [signed.hash]).suffix(Self.maxQueued)))
                }
            }
            let subs = Array(pendingSubscriptions.values)
            lock.unlock()
            for (s, full) in subs {
                s.send(full ? EthJSON.transaction(signed.transaction, sender: signed.sender, location: nil, baseFee: nil) : .hash(signed.hash))
            }
        }
    }

    /// A range bound: a number, or nil for "the head, whatever it is then".
    private func bound(_ selector: BlockSelector) throws -> UInt64? {
        switch selector {
        case .latest, .pending, .safe, .finalized: return nil
        case .earliest: return 0
        case .number(let n): return n
        case .hash: throw RPCError.invalidParams("invalid argument 0: block hash is not a valid range bound")
        }
    }

    /// The logs `criteria` selects from stored blocks.
    func logs(_ criteria: LogCriteria) throws -> [LocatedLog] {
        let head = node.latest.number
        var from: UInt64, to: UInt64
        if let hash = criteria.blockHash {
            guard let n = try chain.number(ofHash: hash) else { throw RPCError.server("unknown block") }
            (from, to) = (n, n)
        } else {
            from = try bound(criteria.from) ?? head
            to = try bound(criteria.to) ?? head
            guard from <= to else { throw RPCError.server("invalid block range params") }
            if from > head { return [] }
            to = min(to, head)
            guard to - from < LogCriteria.maxBlockRange else {
                throw RPCError.server("block range too large: \(to - from + 1) blocks (\(from) to \(to)); query at most \(LogCriteria.maxBlockRange) blocks at a time")
            }
        }
        do {
            return try chain.logs(LogFilter(fromBlock: from, toBlock: to, addresses: criteria.addresses, topics: criteria.topics),
                                       limit: LogCriteria.maxResults)
        } catch ChainReadError.tooManyResults(let limit) {
            throw RPCError.server("query returned more than \(limit) results: narrow the block range (fromBlock \(from), toBlock \(to)) or add address and topic filters")
        } catch {
            throw RPCError.server("\(error)")
        }
    }

    // MARK: Methods

    func register(_ r: inout RPCRouter, api: EthAPI) {
        r.registerWriting("eth_getLogs") { [self] p, _ in
            try p.expect(atMost: 1)
            return EthJSON.writtenLogs(try logs(LogCriteria(json: p.decode(0, as: JSON.self))))
        }
        r.register("eth_newFilter") { [self] p, _ in
            try p.expect(atMost: 1)
            return .string(install(.logs(try LogCriteria(json: p.decode(0, as: JSON.self)), [])))
        }
        r.register("eth_newBlockFilter") { [self] _, _ in .string(install(.blocks([]))) }
        r.register("eth_newPendingTransactionFilter") { [self] _, _ in .string(install(.pendingTransactions([]))) }
        r.register("eth_uninstallFilter") { [self] p, _ in
            try p.expect(atMost: 1)
            let id = try p.string(0)
            return .bool(lock.withLock { filters.removeValue(forKey: id) != nil })
        }
        r.registerWriting("eth_getFilterChanges") { [self] p, _ in
            try p.expect(atMost: 1)
            let id = try p.string(0)
            let taken = try lock.withLock { () throws -> Kind in
                guard var installed = filters[id] else { throw RPCError.server("filter not found") }
                installed.lastPoll = Date()
                let taken = installed.kind
                switch installed.kind {
                case .blocks: installed.kind = .blocks([])
                case .pendingTransactions: installed.kind = .pendingTransactions([])
                case .logs(let criteria, _): installed.kind = .logs(criteria, [])
                }
                filters[id] = installed
                return taken
            }
            switch taken {
            case .blocks(let hashes), .pendingTransactions(let hashes): return WrittenJSON(.array(hashes.map { .hash($0) }))
            case .logs(_, let queued): return EthJSON.writtenLogs(queued)
            }
        }
        r.registerWriting("eth_getFilterLogs") { [self] p, _ in
            try p.expect(atMost: 1)
            let id = try p.string(0)
            let criteria = try lock.withLock { () throws -> LogCriteria in
                guard case .logs(let criteria, _)? = filters[id]?.kind else { throw RPCError.server("filter not found") }
                filters[id]?.lastPoll = Date()
                return criteria
            }
            return EthJSON.writtenLogs(try logs(criteria))
        }
        r.register("eth_subscribe") { [self] p, context in
            try p.expect(atMost: 2)
            let kind = try p.string(0)
            let subscription: RPCSubscription
            switch kind {
            case "newHeads":
                subscription = try context.subscribe()
                lock.withLock { headSubscriptions[subscription.id] = subscription }
            case "logs":
                let criteria = try LogCriteria(json: p[1])
                if criteria.blockHash != nil || criteria.from != .latest || criteria.to != .latest {
                    throw RPCError.invalidParams("logs subscription takes only address and topics")
                }
                subscription = try context.subscribe()
                lock.withLock { logSubscriptions[subscription.id] = (subscription, criteria) }
            case "newPendingTransactions":
                let full = try p.decodeIfPresent(1, as: Bool.self) ?? false
                subscription = try context.subscribe()
                lock.withLock { pendingSubscriptions[subscription.id] = (subscription, full) }
            case "syncing":
                subscription = try context.subscribe()
            default:
                throw RPCError.invalidParams("no \"\(kind)\" subscription in eth namespace")
            }
            let id = subscription.id
            subscription.onCancel { [weak self] in
                guard let self else { return }
                lock.withLock {
                    headSubscriptions[id] = nil
                    logSubscriptions[id] = nil
                    pendingSubscriptions[id] = nil
                }
            }
            return .string(id)
        }
        r.register("eth_unsubscribe") { p, context in
            try p.expect(atMost: 1)
            return .bool(try context.unsubscribe(p.string(0)))
        }
    }

    private func install(_ kind: Kind) -> String {
        let id = Self.newID()
        lock.withLock { filters[id] = Installed(kind: kind, lastPoll: Date()) }
        return id
    }
}
