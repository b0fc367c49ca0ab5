import KramaaPrimitives
import KramaaTrie

/// An Ethereum block header with the Cancun fields, so that Ethereum tooling reads and
/// hashes it as it would a mainnet header. The hash is keccak256 of its RLP encoding.
/// Consensus data (the commit certificate) travels beside the header, not inside it.
public struct BlockHeader: Equatable, Hashable, Sendable {
    public var parentHash: Bytes32
    public var ommersHash: Bytes32 = BlockHeader.emptyOmmersHash
    public var coinbase: Address
    public var stateRoot: Bytes32
    public var transactionsRoot: Bytes32 = MerklePatriciaTrie.emptyRootHash
    public var receiptsRoot: Bytes32 = MerklePatriciaTrie.emptyRootHash
    public var logsBloom: Bloom = .empty
    public var difficulty: UInt256 = .zero
    public var number: UInt64
    public var gasLimit: UInt64
    public var gasUsed: UInt64 = 0
    public var timestamp: UInt64
    public var extraData: [UInt8] = []
    /// `prevRandao` since the merge.
    public var mixHash: Bytes32 = .zero
    public var nonce: UInt64 = 0
    public var baseFeePerGas: UInt256
    public var withdrawalsRoot: Bytes32 = MerklePatriciaTrie.emptyRootHash
    public var blobGasUsed: UInt64 = 0
    public var excessBlobGas: UInt64 = 0
    public var parentBeaconBlockRoot: Bytes32 = .zero

    /// keccak256(rlp([])): the ommers hash of every post-merge block.
    public static let emptyOmmersHash = Keccak256.hash([UInt8]([0xc0]))
    /// Most bytes of extra data a header may carry (as Ethereum allows).
    public static let maxExtraDataSize = 32

    /// This header with `extraData` replaced (its hash changes with it).
    public func with(extraData: [UInt8]) -> BlockHeader {
        var copy = self
        copy.extraData = extraData
        return copy
    }

    public init(parentHash: Bytes32, coinbase: Address, stateRoot: Bytes32, number: UInt64, gasLimit: UInt64,
                timestamp: UInt64, baseFeePerGas: UInt256) {
        self.parentHash = parentHash
        self.coinbase = coinbase
        self.stateRoot = stateRoot
        self.number = number
        self.gasLimit = gasLimit
        self.timestamp = timestamp
        self.baseFeePerGas = baseFeePerGas
    }

    public var encoded: [UInt8] {
        var w = RLPWriter(reservingCapacity: 640)
        w.appendList { w in
            w.append(bytes32: parentHash)
            w.append(bytes32: ommersHash)
            w.append(address: coinbase)
            w.append(bytes32: stateRoot)
            w.append(bytes32: transactionsRoot)
            w.append(bytes32: receiptsRoot)
            w.append(bytes: logsBloom.bytes)
            w.append(uint: difficulty)
            w.append(uint: number)
            w.append(uint: gasLimit)
            w.append(uint: gasUsed)
            w.append(uint: timestamp)
            w.append(bytes: extraData)
            w.append(bytes32: mixHash)
            w.append(bytes: nonce.bigEndianBytes)  // the 8-byte nonce is a fixed-size string, not an integer
            w.append(uint: baseFeePerGas)
            w.append(bytes32: withdrawalsRoot)
            w.append(uint: blobGasUsed)
            w.append(uint: excessBlobGas)
            w.append(bytes32: parentBeaconBlockRoot)
        }
        return w.bytes
    }

    /// The block hash.
    public var hash: Bytes32 { Keccak256.hash(encoded) }

    /// Decodes a Cancun header; older shapes (fewer fields) are refused.
    public static func decode(_ raw: [UInt8]) throws(RLPError) -> BlockHeader {
        var outer = RLPReader(raw)
        var r = try outer.readList()
        try outer.finish()
        var h = BlockHeader(parentHash: try r.readBytes32(), coinbase: .zero, stateRoot: .zero, number: 0, gasLimit: 0,
                            timestamp: 0, baseFeePerGas: .zero)
        h.ommersHash = try r.readBytes32()
        h.coinbase = try r.readAddress()
        h.stateRoot = try r.readBytes32()
        h.transactionsRoot = try r.readBytes32()
        h.receiptsRoot = try r.readBytes32()
        h.logsBloom = try Bloom(bytes: try r.readBytes(length: Bloom.byteCount))
        h.difficulty = try r.readUInt256()
        h.number = try r.readUInt64()
        h.gasLimit = try r.readUInt64()
        h.gasUsed = try r.readUInt64()
        h.timestamp = try r.readUInt64()
        h.extraData = Array(try r.readBytes())
        h.mixHash = try r.readBytes32()
        let nonce = try r.readBytes(length: 8)
        h.nonce = nonce.reduce(0) { $0 << 8 | UInt64($1) }
        h.baseFeePerGas = try r.readUInt256()
        h.withdrawalsRoot = try r.readBytes32()
        h.blobGasUsed = try r.readUInt64()
        h.excessBlobGas = try r.readUInt64()
        h.parentBeaconBlockRoot = try r.readBytes32()
        try r.finish()
        return h
    }
}

extension UInt64 {
    /// The 8 bytes, most significant first.
    var bigEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * UInt64($0))) } }
}
