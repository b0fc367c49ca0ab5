@testable import KramaaAPI
@testable import KramaaAnchoring
import KramaaChain
import KramaaEVM
import KramaaJSON
import KramaaPrimitives
import KramaaTrie
import Testing

/// The offline proof of a checkpoint on its parent chain: a header rebuilt from its JSON, and
/// a receipt-trie proof checked against trusted parent block hashes.
@Suite struct ParentProofTests {
    static let contract = Address(word: UInt256(0xC0FFEE))
    static let checkpoint = Keccak256.hash(Array("checkpoint header".utf8))

    static func header(receiptsRoot: Bytes32, number: UInt64 = 1200) -> BlockHeader {
        var h = BlockHeader(parentHash: Keccak256.hash([1]), coinbase: Address(word: UInt256(7)), stateRoot: Keccak256.hash([2]), number: number,
                            gasLimit: 30_000_000, timestamp: 1_765_000_000, baseFeePerGas: UInt256(875_000_000))
        h.receiptsRoot = receiptsRoot
        h.extraData = Array(repeating: 0xab, count: 32)
        h.gasUsed = 190_029
        return h
    }

    @Test func aHeaderRebuiltFromItsJSONHasItsHash() throws {
        let h = Self.header(receiptsRoot: Keccak256.hash([3]))
        #expect(try ParentProof.rebuiltHeader(.object(EthJSON.header(h))) == h.encoded)
    }

    /// Three receipts; the second logs CheckpointAnchored(42, checkpoint).
    static func proof() -> (ParentProof, BlockHeader) {
        let anchored = Log(address: contract, topics: [Relayer.anchoredTopic, Bytes32(UInt256(42)), checkpoint],
                           data: Keccak256.hash([9]).bytes + UInt256(3).bigEndianBytes)
        let receipts = [Receipt(type: .dynamicFee, success: true, cumulativeGasUsed: 21_000, logs: []),
                        Receipt(type: .dynamicFee, success: true, cumulativeGasUsed: 211_029, logs: [anchored]),
                        Receipt(type: .legacy, success: true, cumulativeGasUsed: 232_029, logs: [])]
        let h = header(receiptsRoot: Receipt.root(receipts))
        var trie = MerklePatriciaTrie(receipts.enumerated().map { (ParentProof.key(UInt64($0.offset)), $0.element.encoded) })
        return (ParentProof(header: h.encoded, transactionIndex: 1, receiptProof: trie.proof(forKey: ParentProof.key(1))), h)
    }

    @Test func aReceiptProofAgainstATrustedHeaderVerifies() throws {
        let (proof, h) = Self.proof()
        let trusted = TrustedParentHeaders(hashes: [h.number: h.hash, h.number + 5: Keccak256.hash([5])])
        #expect(trusted.head == h.number + 5)
        #expect(try proof.verify(trusted: trusted, contract: Self.contract, number: 42, checkpoint: Self.checkpoint, historyRoot: Keccak256.hash([9])) == h.number)
    }

    @Test func refusalsNameWhatDoesNotHold() {
        let (proof, h) = Self.proof()
        let trusted = TrustedParentHeaders(hashes: [h.number: h.hash])
        func reason(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        #expect(reason { _ = try proof.verify(trusted: TrustedParentHeaders(hashes: [:]), contract: Self.contract, number: 42, checkpoint: Self.checkpoint, historyRoot: nil) }
            .contains("is not among the trusted parent headers"))
        #expect(reason { _ = try proof.verify(trusted: trusted, contract: Address(word: UInt256(1)), number: 42, checkpoint: Self.checkpoint, historyRoot: nil) }
            .contains("no CheckpointAnchored log of checkpoint 42"))
        #expect(reason { _ = try proof.verify(trusted: trusted, contract: Self.contract, number: 43, checkpoint: Self.checkpoint, historyRoot: nil) }
            .contains("no CheckpointAnchored log of checkpoint 43"))
        #expect(reason { _ = try proof.verify(trusted: trusted, contract: Self.contract, number: 42, checkpoint: Self.checkpoint, historyRoot: Keccak256.hash([8])) }
            .contains("no CheckpointAnchored log"))
        var other = proof
        other.transactionIndex = 2
        #expect(reason { _ = try other.verify(trusted: trusted, contract: Self.contract, number: 42, checkpoint: Self.checkpoint, historyRoot: nil) }
            .contains("receipt proof does not match"))
    }
}
