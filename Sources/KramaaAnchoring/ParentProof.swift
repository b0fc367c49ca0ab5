import Foundation
import KramaaChain
import KramaaEVM
import KramaaJSON
import KramaaPrimitives
import KramaaTrie

/// What proves a checkpoint on the parent chain without its RPC (docs/ANCHORING.md, offline
/// verification): the parent block's header (RLP) and the Merkle proof of the submitting
/// transaction's receipt against that header's receipts root.
public struct ParentProof: Sendable {
    public var header: [UInt8]
    public var transactionIndex: UInt64
    public var receiptProof: [[UInt8]]

    public init(header: [UInt8], transactionIndex: UInt64, receiptProof: [[UInt8]]) {
        self.header = header
        self.transactionIndex = transactionIndex
        self.receiptProof = receiptProof
    }

    /// Fetches the proof of `transaction`'s receipt in its parent block: the header from
    /// debug_getRawHeader, or rebuilt from eth_getBlockByNumber (its hash checked); the receipts
    /// from eth_getTransactionReceipt, their trie checked against the header's receipts root.
    public static func fetch(transaction: JSON, from parent: NodeClient) throws -> ParentProof {
        let receipt = try parent.call("eth_getTransactionReceipt", [transaction])
        guard !receipt.isNull else { throw ClientError("the parent chain does not know the checkpoint's transaction \(transaction)") }
        let number = receipt["blockNumber"] ?? .null
        let block = try parent.call("eth_getBlockByNumber", [number, false])
        let header = try (try? Hex.decode(parent.call("debug_getRawHeader", [number]).stringValue ?? "")) ?? rebuiltHeader(block)
        guard Keccak256.hash(header).description == block["hash"]?.stringValue else {
            throw ClientError("the parent block \(number)'s header cannot be rebuilt from its JSON (its hash differs): a header field this relayer does not know")
        }
        var receipts: [[UInt8]] = []
        for hash in block["transactions"]?.arrayValue ?? [] {
            receipts.append(try encodedReceipt(try parent.call("eth_getTransactionReceipt", [hash])))
        }
        let index = Relayer.quantity(receipt["transactionIndex"])
        var trie = MerklePatriciaTrie(receipts.enumerated().map { (key(UInt64($0.offset)), $0.element) })
        guard trie.rootHash == (try fields(header)).receiptsRoot else {
            throw ClientError("the parent block \(number)'s receipts do not make its receipts root: cannot prove the checkpoint's receipt")
        }
        return ParentProof(header: header, transactionIndex: index, receiptProof: trie.proof(forKey: key(index)))
    }

    /// The receipt-trie key of transaction `index`: rlp(index).
    static func key(_ index: UInt64) -> [UInt8] { RLPItem.uint(UInt256(index)).encoded }

    /// A header's number, hash and receipts root (field 5 and 8 of the RLP list).
    public static func fields(_ header: [UInt8]) throws -> (number: UInt64, hash: Bytes32, receiptsRoot: Bytes32) {
        guard case .list(let items) = try RLPItem.decode(header), items.count >= 15,
              case .bytes(let root) = items[5], case .bytes(let number) = items[8], root.count == 32, number.count <= 8 else {
            throw ClientError("the parent header is not an Ethereum block header (RLP list of at least 15 fields)")
        }
        return (number.reduce(0) { $0 << 8 | UInt64($1) }, Keccak256.hash(header), try Bytes32(root))
    }

    /// The header RLP from eth_getBlockByNumber's fields, in the order of the forks that added them.
    static func rebuiltHeader(_ block: JSON) throws -> [UInt8] {
        let data = ["parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot", "logsBloom"]
        let quantities = ["difficulty", "number", "gasLimit", "gasUsed", "timestamp"]
        let optional = ["baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "requestsHash"]
        func bytes(_ name: String) throws -> [UInt8] { try Hex.decode(block[name]?.stringValue ?? "") }
        func quantity(_ name: String) throws -> RLPItem { .uint(try UInt256(hex: block[name]?.stringValue ?? "0x0")) }
        var items = try data.map { RLPItem.bytes(try bytes($0)) } + quantities.map(quantity)
        items += [.bytes(try bytes("extraData")), .bytes(try bytes("mixHash")), .bytes(try bytes("nonce"))]
        for name in optional where block[name] != nil {
            items.append(name.hasSuffix("Root") || name.hasSuffix("Hash") ? .bytes(try bytes(name)) : try quantity(name))
        }
        return RLPItem.list(items).encoded
    }

    /// A receipt's consensus encoding from eth_getTransactionReceipt's JSON.
    static func encodedReceipt(_ json: JSON) throws -> [UInt8] {
        let logs = try (json["logs"]?.arrayValue ?? []).map { log in
            Log(address: try Address(hex: log["address"]?.stringValue ?? ""),
                topics: try (log["topics"]?.arrayValue ?? []).map { try Bytes32(hex: $0.stringValue ?? "") },
                data: try Hex.decode(log["data"]?.stringValue ?? "0x"))
        }
        guard let type = TransactionType(rawValue: UInt8(Relayer.quantity(json["type"]))) else { throw ClientError("a parent receipt has an unknown type \(json["type"] ?? .null)") }
        return KramaaChain.Receipt(type: type, success: Relayer.quantity(json["status"]) == 1, cumulativeGasUsed: Relayer.quantity(json["cumulativeGasUsed"]),
                                   logs: logs).encoded
    }

    /// Checks that the trusted parent block `trusted` holds a successful transaction whose
    /// receipt logs `contract`'s CheckpointAnchored of checkpoint `number` with header hash
    /// `checkpoint`; returns the parent block's number. Throws naming what does not hold.
    public func verify(trusted: TrustedParentHeaders, contract: Address, number: UInt64, checkpoint: Bytes32, historyRoot: Bytes32?) throws -> UInt64 {
        let (parentNumber, hash, receiptsRoot) = try Self.fields(header)
        guard trusted.hashes[parentNumber] == hash else {
            throw ClientError("parent block \(parentNumber) (\(hash)) is not among the trusted parent headers")
        }
        let value: [UInt8]?
        do { value = try MerklePatriciaTrie.verifyProof(root: receiptsRoot, key: Self.key(transactionIndex), proof: receiptProof) } catch {
            throw ClientError("the receipt proof does not match parent block \(parentNumber)'s receipts root: \(error)")
        }
        guard let value, let receipt = try? KramaaChain.Receipt.decode(value) else {
            throw ClientError("the receipt proof does not match parent block \(parentNumber)'s receipts root: it proves no receipt at index \(transactionIndex)")
        }
        let names = receipt.logs.contains { log in
            log.address == contract && log.topics.count == 3 && log.topics[0] == Relayer.anchoredTopic
                && log.topics[1] == Bytes32(UInt256(number)) && log.topics[2] == checkpoint
                && (historyRoot.map { log.data.count >= 32 && Array(log.data[0..<32]) == $0.bytes } ?? true)
        }
        guard receipt.success, names else {
            throw ClientError("the parent receipt has no CheckpointAnchored log of checkpoint \(number) (\(checkpoint)) from \(contract.checksummed)")
        }
        return parentNumber
    }
}

/// The parent blocks a verifier trusts (`--parent-headers FILE`): `{"blocks": [{"number", "hash"}, …]}`;
/// confirmations count from the highest one listed.
public struct TrustedParentHeaders: Sendable {
    public var hashes: [UInt64: Bytes32]
    public var head: UInt64 { hashes.keys.max() ?? 0 }

    public static func load(_ path: String) throws -> TrustedParentHeaders {
        guard let data = FileManager.default.contents(atPath: path), let document = try? JSON.parse(Array(data)), let blocks = document["blocks"]?.arrayValue else {
            throw ClientError("cannot read \(path) as trusted parent headers: expected JSON {\"blocks\": [{\"number\": N, \"hash\": \"0x…\"}, …]} (docs/ANCHORING.md)")
        }
        var hashes: [UInt64: Bytes32] = [:]
        for block in blocks {
            guard let hash = block["hash"]?.stringValue.flatMap({ try? Bytes32(hex: $0) }), block["number"] != nil else {
                throw ClientError("\(path): each block needs a number and a 32-byte hash, not \(block)")
            }
            hashes[Relayer.quantity(block["number"])] = hash
        }
        return TrustedParentHeaders(hashes: hashes)
    }
}
