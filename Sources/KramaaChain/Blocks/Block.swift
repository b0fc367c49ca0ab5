import KramaaPrimitives
import KramaaTrie

/// A block: its header and transactions (no ommers or withdrawals on this chain; both lists
/// are encoded empty so the block has Ethereum's shape).
public struct Block: Equatable, Sendable {
    public var header: BlockHeader
    public var transactions: [Transaction]

    public init(header: BlockHeader, transactions: [Transaction]) {
        self.header = header
        self.transactions = transactions
    }

    public var hash: Bytes32 { header.hash }
    public var number: UInt64 { header.number }

    /// The body: `rlp([transactions, ommers, withdrawals])`, transactions in their block form.
    public var encodedBody: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            w.appendList { w in
                for tx in transactions { Block.append(tx, to: &w) }
            }
            w.appendList { _ in }
            w.appendList { _ in }
        }
        return w.bytes
    }

    /// The whole block: `rlp([header, transactions, ommers, withdrawals])`.
    public var encoded: [UInt8] {
        let header = self.header.encoded
        let body = encodedBody
        var reader = RLPReader(body)
        let inner = try! reader.readHeader().payload  // the body is a list we just wrote
        var w = RLPWriter(reservingCapacity: header.count + body.count + 8)
        w.appendListHeader(payloadLength: header.count + inner.count)
        w.append(encoded: header)
        w.append(encoded: body[inner])
        return w.bytes
    }

    /// A typed transaction is an RLP string holding its envelope; a legacy one is its list.
    static func append(_ tx: Transaction, to w: inout RLPWriter) {
        if tx.type == .legacy { w.append(encoded: tx.encoded) } else { w.append(bytes: tx.encoded) }
    }

    /// Decodes a body written by `encodedBody`.
    public static func decodeBody(_ raw: [UInt8]) throws(TransactionError) -> [Transaction] {
        var hashes: [Bytes32]? = nil
        return try decodeBody(raw, hashes: &hashes)
    }

    /// ``decodeBody(_:)`` that also appends each transaction's hash to `hashes` when it is not
    /// nil, taken from the bytes the transaction came in: the same as hashing its encoding again,
    /// since decoding accepts canonical RLP only, without encoding it again.
    static func decodeBody(_ raw: [UInt8], hashes: inout [Bytes32]?) throws(TransactionError) -> [Transaction] {
        var transactions: [Transaction] = []
        do {
            var outer = RLPReader(raw)
            var body = try outer.readList()
            var list = try body.readList()
            while !list.isAtEnd {
                let h = try list.readHeader()
                let bytes = h.isList ? Array(raw[h.start..<h.payload.upperBound]) : Array(raw[h.payload])
                transactions.append(try Transaction.decode(bytes))
                hashes?.append(Keccak256.hash(bytes))
            }
        } catch let error as TransactionError {
            throw error
        } catch {
            throw .malformed(field: "block body", error as! RLPError)
        }
        return transactions
    }

    /// The hashes of a body's transactions (keccak256 of each one's encoding as the body holds
    /// it), read without decoding them: what a block's logs need from its body.
    public static func transactionHashes(ofBody raw: [UInt8]) throws(TransactionError) -> [Bytes32] {
        var hashes: [Bytes32] = []
        do {
            var outer = RLPReader(raw)
            var body = try outer.readList()
            var list = try body.readList()
            try raw.withUnsafeBytes { bytes in
                while !list.isAtEnd {
                    let h = try list.readHeader()
                    let range = h.isList ? h.start..<h.payload.upperBound : h.payload
                    hashes.append(Keccak256.hash(UnsafeRawBufferPointer(rebasing: bytes[range])))
                }
            }
        } catch {
            throw .malformed(field: "block body", error as! RLPError)
        }
        return hashes
    }

    /// The hash of an encoded block (keccak256 of its header's RLP), read without decoding
    /// its transactions; nil when the bytes are not a block's outer shape.
    public static func hash(ofEncoded raw: [UInt8]) -> Bytes32? {
        guard let range = try? headerRange(ofEncoded: raw) else { return nil }
        return raw.withUnsafeBytes { Keccak256.hash(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Decodes a block written by `encoded`.
    public static func decode(_ raw: [UInt8]) throws(TransactionError) -> Block {
        var hashes: [Bytes32]? = nil
        return try decode(raw, hashes: &hashes)
    }

    /// Decodes a block written by `encoded` with its transactions' hashes (each read off the
    /// bytes it came in, see ``decodeBody(_:hashes:)``): what executing a proposed block needs,
    /// without encoding every transaction again to hash it.
    public static func decodeHashingTransactions(_ raw: [UInt8]) throws(TransactionError) -> (block: Block, transactionHashes: [Bytes32]) {
        var hashes: [Bytes32]? = []
        let block = try decode(raw, hashes: &hashes)
        return (block, hashes!)
    }

    private static func decode(_ raw: [UInt8], hashes: inout [Bytes32]?) throws(TransactionError) -> Block {
        let header: BlockHeader
        let range: Range<Int>
        do {
            range = try headerRange(ofEncoded: raw)
            header = try BlockHeader.decode(Array(raw[range]))
        } catch {
            throw .malformed(field: "block", error)
        }
        let rest = range.upperBound..<raw.count
        var body = RLPWriter(reservingCapacity: rest.count + 8)
        body.appendListHeader(payloadLength: rest.count)
        body.append(encoded: raw[rest])
        return Block(header: header, transactions: try decodeBody(body.bytes, hashes: &hashes))
    }

    /// Where the header item lies in an encoded block: the first item of the one outer list,
    /// itself a list.
    static func headerRange(ofEncoded raw: [UInt8]) throws(RLPError) -> Range<Int> {
        var outer = RLPReader(raw)
        let whole = try outer.readHeader()
        guard whole.isList else { throw .expectedList(at: 0) }
        guard whole.payload.upperBound == raw.count else { throw .trailingBytes(at: whole.payload.upperBound) }
        var items = RLPReader(Array(raw[whole.payload]))
        let first = try items.readHeader()
        guard first.isList else { throw .expectedList(at: whole.payload.lowerBound) }
        let offset = whole.payload.lowerBound
        return (offset + first.start)..<(offset + first.payload.upperBound)
    }

    /// The transactions root of a header.
    public static func transactionsRoot(_ transactions: [Transaction]) -> Bytes32 {
        MerklePatriciaTrie.orderedRoot(transactions.map(\.encoded))
    }
}
