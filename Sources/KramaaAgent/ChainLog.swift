import KramaaJSON
import KramaaPrimitives

/// A contract's log (an event it emitted) as `eth_getLogs` reports it.
public struct ChainLog: Hashable, Sendable {
    public var address: Address
    public var topics: [Bytes32]
    public var data: [UInt8]
    public var blockNumber: UInt64
    public var logIndex: UInt64
    public var transactionHash: Bytes32

    public init(address: Address, topics: [Bytes32], data: [UInt8], blockNumber: UInt64, logIndex: UInt64, transactionHash: Bytes32) {
        (self.address, self.topics, self.data) = (address, topics, data)
        (self.blockNumber, self.logIndex, self.transactionHash) = (blockNumber, logIndex, transactionHash)
    }

    /// A log object of an `eth_getLogs` answer.
    public init(rpc log: JSON) throws(AgentError) {
        func field<T>(_ name: String, _ decode: (String) throws -> T) throws(AgentError) -> T {
            guard let text = log[name]?.stringValue, let value = try? decode(text) else { throw AgentError("log.\(name)", "missing or malformed in \(log)") }
            return value
        }
        guard let topics = log["topics"]?.arrayValue?.compactMap({ $0.stringValue.flatMap { try? Bytes32(hex: $0) } }),
              topics.count == log["topics"]?.arrayValue?.count else { throw AgentError("log.topics", "not a list of 32-byte words in \(log)") }
        self.init(address: try field("address") { try Address(hex: $0) }, topics: topics, data: try field("data") { try RPCHex.decodeData($0) },
                  blockNumber: try field("blockNumber") { try RPCHex.decodeQuantity($0) }, logIndex: try field("logIndex") { try RPCHex.decodeQuantity($0) },
                  transactionHash: try field("transactionHash") { try Bytes32(hex: $0) })
    }

    /// Where the log sits on chain: each is acted on once.
    public struct Position: Hashable, Sendable {
        public var block: UInt64
        public var index: UInt64
    }

    public var position: Position { Position(block: blockNumber, index: logIndex) }

    /// A rule's values: `${topic1}`…`${topic3}` and `${data0}`, `${data1}`… (32-byte words as
    /// 0x-hex, which calls take as uint256, address or bytes32), `${block}`,
    /// `${transactionHash}` and `${contract}`.
    public var values: [String: JSON] {
        var out: [String: JSON] = ["block": .number(JSONNumber(blockNumber)), "transactionHash": .string(transactionHash.description),
                                   "contract": .string(address.checksummed)]
        for (i, topic) in topics.enumerated().dropFirst() { out["topic\(i)"] = .string(topic.description) }
        for i in 0..<(data.count / 32) { out["data\(i)"] = .string(Hex.encode(data[(i * 32)..<(i * 32 + 32)])) }
        return out
    }
}

/// The logs an event condition waits for: `contract`'s events of `signature` (topic 0 is its
/// keccak256), with indexed words at positions 1 to 3 equal to `topics` where given.
public struct EventFilter: Hashable, Sendable {
    public var contract: Address
    public var signature: String
    public var topics: [Int: Bytes32]

    public init(contract: Address, signature: String, topics: [Int: Bytes32] = [:]) {
        (self.contract, self.signature, self.topics) = (contract, signature, topics)
    }

    public var topic0: Bytes32 { Keccak256.hash(Array(signature.utf8)) }

    public func matches(_ log: ChainLog) -> Bool {
        log.address == contract && log.topics.first == topic0
            && topics.allSatisfy { position, word in position < log.topics.count && log.topics[position] == word }
    }

    /// The `eth_getLogs` filter of blocks `from`…`to` (topic 0 only: the rest is matched here).
    public func query(from: UInt64, to: UInt64) -> JSON {
        ["fromBlock": .quantity(from), "toBlock": .quantity(to), "address": .string(contract.checksummed), "topics": [.string(topic0.description)]]
    }

    /// A topic as configured: an address (left-padded), a 32-byte word, or an unsigned integer.
    static func word(_ value: JSON, path: String) throws(AgentError) -> Bytes32 {
        if let text = value.stringValue, text.hasPrefix("0x"), let bytes = try? Hex.decode(text), bytes.count == 20 || bytes.count == 32 {
            return try! Bytes32([UInt8](repeating: 0, count: 32 - bytes.count) + bytes)
        }
        if let text = value.numberValue?.description ?? value.stringValue, let n = try? UInt256(decimal: text) { return n.bytes32 }
        throw AgentError(path, "\(value) is not an address, a 32-byte 0x-hex word or an unsigned integer")
    }
}
