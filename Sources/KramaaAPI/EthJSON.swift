import KramaaJSON
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaRPC

// The JSON shapes of geth's API (internal/ethapi: RPCMarshalBlock, newRPCTransaction,
// MarshalReceipt), so clients decode them as they decode geth's.

extension JSON {
    /// A 256-bit quantity (`hexutil.Big`).
    public static func quantity(_ value: UInt256) -> JSON { .string(RPCHex.encodeQuantity(bigEndian: value.bigEndianBytes)) }
    public static func quantity(_ value: Int) -> JSON { .quantity(UInt64(value)) }
    /// An address in lower case, as geth writes it.
    public static func address(_ value: Address) -> JSON { .string(value.lowercased) }
    public static func hash(_ value: Bytes32) -> JSON { .data(value.bytes) }
}

enum EthJSON {
    static func header(_ h: BlockHeader, size: Int? = nil) -> JSONObject {
        var o: JSONObject = [
            "number": .quantity(h.number), "hash": .hash(h.hash), "parentHash": .hash(h.parentHash),
            "nonce": .data(withUnsafeBytes(of: h.nonce.bigEndian) { Array($0) }), "mixHash": .hash(h.mixHash), "sha3Uncles": .hash(h.ommersHash),
            "logsBloom": .data(h.logsBloom.bytes), "stateRoot": .hash(h.stateRoot), "miner": .address(h.coinbase),
            "difficulty": .quantity(h.difficulty), "extraData": .data(h.extraData), "gasLimit": .quantity(h.gasLimit),
            "gasUsed": .quantity(h.gasUsed), "timestamp": .quantity(h.timestamp), "transactionsRoot": .hash(h.transactionsRoot),
            "receiptsRoot": .hash(h.receiptsRoot), "baseFeePerGas": .quantity(h.baseFeePerGas),
            "withdrawalsRoot": .hash(h.withdrawalsRoot), "blobGasUsed": .quantity(h.blobGasUsed),
            "excessBlobGas": .quantity(h.excessBlobGas), "parentBeaconBlockRoot": .hash(h.parentBeaconBlockRoot),
            "totalDifficulty": .quantity(UInt64(0)),
        ]
        if let size { o["size"] = .quantity(size) }
        return o
    }

    /// A block with its transactions as hashes or (`full`) as objects.
    static func block(_ block: Block, senders: [Address], full: Bool) -> JSON {
        var o = header(block.header, size: block.encoded.count)
        let hash = block.hash
        if full {
            o["transactions"] = .array(block.transactions.enumerated().map { i, tx in
                transaction(tx, sender: senders[i], location: (hash, block.number, i), baseFee: block.header.baseFeePerGas)
            })
        } else {
            o["transactions"] = .array(block.transactions.map { .hash($0.hash) })
        }
        o["uncles"] = .array([])
        o["withdrawals"] = .array([])
        return .object(o)
    }

    /// A transaction; `location` (block hash, number, index) is nil while it is pending.
    static func transaction(_ tx: Transaction, sender: Address, location: (Bytes32, UInt64, Int)?, baseFee: UInt256?) -> JSON {
        var o: JSONObject = [
            "blockHash": location.map { .hash($0.0) } ?? .null,
            "blockNumber": location.map { .quantity($0.1) } ?? .null,
            "transactionIndex": location.map { .quantity($0.2) } ?? .null,
            "from": .address(sender), "gas": .quantity(tx.gasLimit), "hash": .hash(tx.hash), "input": .data(tx.data),
            "nonce": .quantity(tx.nonce), "to": tx.to.map { .address($0) } ?? .null, "value": .quantity(tx.value),
            "type": .quantity(UInt64(tx.type.rawValue)),
        ]
        if let sig = tx.signature {
            o["v"] = .quantity(sig.v)
            o["r"] = .quantity(sig.r)
            o["s"] = .quantity(sig.s)
        }
        if let chainId = tx.chainId { o["chainId"] = .quantity(chainId) }
        if tx.type == .legacy {
            o["gasPrice"] = .quantity(tx.maxFeePerGas)
        } else {
            o["accessList"] = accessList(tx.accessList)
            if let parity = tx.yParity { o["yParity"] = .quantity(UInt64(parity)) }
            if tx.type == .accessList {
                o["gasPrice"] = .quantity(tx.maxFeePerGas)
            } else {
                o["maxFeePerGas"] = .quantity(tx.maxFeePerGas)
                o["maxPriorityFeePerGas"] = .quantity(tx.maxPriorityFeePerGas)
                // In a block the price paid; pending, the cap (as geth reports them).
                let paid = location != nil ? baseFee.flatMap { tx.effectiveGasPrice(baseFee: $0) } : nil
                o["gasPrice"] = .quantity(paid ?? tx.maxFeePerGas)
            }
        }
        if tx.type == .device, let device = tx.device { addDeviceFields(device, to: &o) }
        return .object(o)
    }

    /// A device transaction's fields (docs/DEVICE-TRANSACTIONS.md): key type by name, public key
    /// and signature as sent, sponsor and its signature (null when the device pays). Named
    /// `device…` because clients give `publicKey` another meaning (web3.py reads it as the
    /// 64-byte secp256k1 key of Parity's transactions).
    static func addDeviceFields(_ device: DeviceAuthorization, to o: inout JSONObject) {
        o["deviceKeyType"] = .string(device.keyType.description)
        o["devicePublicKey"] = .data(device.publicKey)
        o["deviceSignature"] = .data(device.signature)
        o["sponsor"] = device.sponsor.map { .address($0) } ?? .null
        o["sponsorSignature"] = device.sponsorSignature.map { sig in
            .object(["yParity": .quantity(sig.v), "r": .quantity(sig.r), "s": .quantity(sig.s)])
        } ?? .null
    }

    static func accessList(_ list: [AccessListEntry]) -> JSON {
        .array(list.map { .object(["address": .address($0.address), "storageKeys": .array($0.storageKeys.map { .hash($0) })]) })
    }

    static func log(_ l: LocatedLog, removed: Bool = false) -> JSON {
        .object([
            "address": .address(l.log.address), "topics": .array(l.log.topics.map { .hash($0) }), "data": .data(l.log.data),
            "blockNumber": .quantity(l.blockNumber), "transactionHash": .hash(l.transactionHash),
            "transactionIndex": .quantity(l.transactionIndex), "blockHash": .hash(l.blockHash),
            "logIndex": .quantity(l.logIndex), "removed": .bool(removed),
        ])
    }

    /// `logs` as a JSON array of ``log(_:removed:)``'s objects (the same members in the same
    /// order), written straight into `w`: an eth_getLogs answer of thousands of logs builds no
    /// tree of small strings (each log would be ten allocations and its hex encoded twice).
    static func writeLogs(_ logs: [LocatedLog], removed: Bool = false, into w: inout JSONWriter) {
        w.writeRaw("[")
        for i in logs.indices {
            if i > 0 { w.writeRaw(",") }
            writeLog(logs[i], removed: removed, into: &w)
        }
        w.writeRaw("]")
    }

    private static func writeLog(_ l: borrowing LocatedLog, removed: Bool, into w: inout JSONWriter) {
        w.writeRaw(#"{"address":"#)
        l.log.address.withUnsafeBytes { w.writeHexData($0) }
        w.writeRaw(#","topics":["#)
        for k in l.log.topics.indices {
            if k > 0 { w.writeRaw(",") }
            l.log.topics[k].withUnsafeBytes { w.writeHexData($0) }
        }
        w.writeRaw(#"],"data":"#)
        w.writeHexData(l.log.data)
        w.writeRaw(#","blockNumber":"#)
        w.writeQuantity(l.blockNumber)
        w.writeRaw(#","transactionHash":"#)
        l.transactionHash.withUnsafeBytes { w.writeHexData($0) }
        w.writeRaw(#","transactionIndex":"#)
        w.writeQuantity(UInt64(l.transactionIndex))
        w.writeRaw(#","blockHash":"#)
        l.blockHash.withUnsafeBytes { w.writeHexData($0) }
        w.writeRaw(#","logIndex":"#)
        w.writeQuantity(UInt64(l.logIndex))
        w.writeRaw(removed ? #","removed":true}"# : #","removed":false}"#)
    }

    /// `logs` to be written by ``writeLogs(_:removed:into:)`` into the response, with room
    /// reserved for all of them (a log's members and punctuation take under 380 bytes besides
    /// its topics and data).
    static func writtenLogs(_ logs: [LocatedLog]) -> WrittenJSON {
        let size = logs.reduce(2) { $0 + 380 + 69 * $1.log.topics.count + 2 * $1.log.data.count }
        return WrittenJSON(size: size) { writeLogs(logs, into: &$0) }
    }

    /// Every receipt of a block, in order.
    static func receipts(_ block: Block, _ stored: StoredReceipts) -> [JSON] {
        let hash = block.hash
        var firstLog = 0
        return block.transactions.indices.map { i in
            defer { firstLog += stored.receipts[i].logs.count }
            return receipt(block, stored, index: i, blockHash: hash, firstLog: firstLog)
        }
    }

    /// The receipt of transaction `index` of a block; the logs before it are counted, not
    /// encoded, so one receipt costs one receipt.
    static func receipt(_ block: Block, _ stored: StoredReceipts, index i: Int) -> JSON {
        receipt(block, stored, index: i, blockHash: block.hash, firstLog: stored.receipts[..<i].reduce(0) { $0 + $1.logs.count })
    }

    private static func receipt(_ block: Block, _ stored: StoredReceipts, index i: Int, blockHash: Bytes32, firstLog: Int) -> JSON {
        let tx = block.transactions[i], r = stored.receipts[i], outcome = stored.outcomes[i]
        let previousGas = i > 0 ? stored.receipts[i - 1].cumulativeGasUsed : 0
        let txHash = tx.hash
        let logs = r.logs.enumerated().map { k, log in
            EthJSON.log(LocatedLog(log: log, blockNumber: block.number, blockHash: blockHash, transactionHash: txHash,
                                   transactionIndex: i, logIndex: firstLog + k))
        }
        var o: JSONObject = [
            "blockHash": .hash(blockHash), "blockNumber": .quantity(block.number), "transactionHash": .hash(txHash),
            "transactionIndex": .quantity(i), "from": .address(stored.senders[i]),
            "to": tx.to.map { .address($0) } ?? .null,
            "cumulativeGasUsed": .quantity(r.cumulativeGasUsed), "gasUsed": .quantity(r.cumulativeGasUsed - previousGas),
            "effectiveGasPrice": .quantity(outcome.effectiveGasPrice),
            "contractAddress": outcome.createdAddress.map { .address($0) } ?? .null,
            "logs": .array(logs), "logsBloom": .data(r.bloom.bytes),
            "status": .quantity(r.success ? UInt64(1) : 0), "type": .quantity(UInt64(tx.type.rawValue)),
        ]
        // Who paid the gas of a device transaction: its sponsor, or null when the device (`from`) paid.
        if tx.type == .device { o["sponsor"] = tx.sponsor.map { .address($0) } ?? .null }
        return .object(o)
    }
}
