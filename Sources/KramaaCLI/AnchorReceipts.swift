import ArgumentParser
import Foundation
import KramaaAnchoring
import KramaaChain
import KramaaJSON
import KramaaPrimitives

/// Anchor receipts (docs/ANCHORING.md): a self-contained bundle proving that a transaction (and
/// one of its logs) is in a block of this chain that an anchored checkpoint commits to, and its
/// verification trusting only the parent chain.
extension AnchorCommand {
    static let receiptFormat = AnchorReceiptBuilder.format

    struct Receipt: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the anchor receipt of a transaction (and one of its logs) as JSON.")
        @Argument(help: "The transaction's hash.") var transaction: String
        @Option(help: "The index of the log (in the transaction's receipt) the receipt is about.") var log: Int?
        @Option(help: "The checkpoint contract on the parent chain.") var contract: String
        @Option(name: .customLong("parent-rpc"), help: "The parent chain's JSON-RPC URL.") var parentURL: String
        @Option(help: "Where to write the bundle (default: standard output).") var out: String?
        @OptionGroup var node: NodeConnection

        func run() throws {
            let bundle = try CLIFailure.wrap {
                try AnchorReceiptBuilder(kramaa: try node.client(), parent: try NodeClient(parentURL), contract: try Address(hex: contract))
                    .bundle(transaction: try Bytes32(hex: transaction), log: log)
            }
            let text = String(decoding: JSON.object(bundle).serialized(), as: UTF8.self)
            if let out { try (text + "\n").write(toFile: out, atomically: true, encoding: .utf8) } else { print(text) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify an anchor receipt trusting only the parent chain; exit 0 when it holds.",
            discussion: "Checks the transaction and receipt against the block's roots, the block's place in the history the checkpoint commits to, and the checkpoint in the contract on the parent chain.")
        @Argument(help: "The bundle (JSON) to verify.") var bundle: String
        @Option(name: .customLong("parent-rpc"), help: "The parent chain's JSON-RPC URL.") var parentURL: String?
        @Option(name: .customLong("parent-headers"), help: "Verify offline against these trusted parent block hashes instead (JSON, docs/ANCHORING.md).")
        var parentHeaders: String?
        @Option(help: "Parent blocks (the including one counted) the checkpoint must have.") var confirmations: UInt64 = 1

        func run() throws {
            guard let data = FileManager.default.contents(atPath: bundle), let json = try? JSON.parse(Array(data)), let object = json.objectValue else {
                throw ValidationError("\(bundle) is not a JSON object")
            }
            let parent: AnchorReceipts.Parent
            switch (parentURL, parentHeaders) {
            case (let url?, nil): parent = .rpc(try NodeClient(url))
            case (nil, let path?): parent = .trusted(try TrustedParentHeaders.load(path))
            default: throw ValidationError("give one of --parent-rpc URL (online) or --parent-headers FILE (offline)")
            }
            for line in try AnchorReceipts.verify(object, parent: parent, confirmations: confirmations) { print(line) }
        }
    }
}

/// Checking anchor receipts (AnchorReceiptBuilder in KramaaAnchoring makes them).
struct AnchorReceipts {
    /// What a verifier trusts of the parent chain: its RPC, or a list of its block hashes.
    enum Parent {
        case rpc(NodeClient)
        case trusted(TrustedParentHeaders)
    }

    /// Checks `bundle`; returns what it proves, line by line, or throws naming the first step that fails.
    static func verify(_ bundle: JSONObject, parent trust: Parent, confirmations: UInt64) throws -> [String] {
        func fail(_ why: String) -> CLIFailure { CLIFailure("the anchor receipt does not verify: \(why)") }
        func bytes(_ value: JSON?, _ what: String) throws -> [UInt8] {
            guard let text = value?.stringValue, let b = try? Hex.decode(text) else { throw fail("\(what) is missing or not hex") }
            return b
        }
        func hash(_ value: JSON?, _ what: String) throws -> Bytes32 { try Bytes32(try bytes(value, what)) }
        guard bundle["format"]?.stringValue == AnchorCommand.receiptFormat else { throw fail("its format is not \(AnchorCommand.receiptFormat)") }
        guard let block = bundle["block"], let tx = bundle["transaction"], let checkpoint = bundle["checkpoint"], let anchor = bundle["parent"] else {
            throw fail("block, transaction, checkpoint and parent are required")
        }
        // 1. The transaction and its receipt are in the block, by its roots.
        let headerBytes = try bytes(block["header"], "block.header")
        let header: BlockHeader
        do { header = try BlockHeader.decode(headerBytes) } catch { throw fail("block.header does not decode: \(error)") }
        let raws = try (block["transactions"]?.arrayValue ?? []).map { try bytes($0, "a transaction") }
        let receipts = try (block["receipts"]?.arrayValue ?? []).map { raw in
            do { return try KramaaChain.Receipt.decode(try bytes(raw, "a receipt")) } catch { throw fail("a receipt does not decode: \(error)") }
        }
        let transactions = try raws.map { raw in
            do { return try Transaction.decode(raw) } catch { throw fail("a transaction does not decode: \(error)") }
        }
        guard Block.transactionsRoot(transactions) == header.transactionsRoot else { throw fail("the transactions are not the block's (transactions root)") }
        guard KramaaChain.Receipt.root(receipts) == header.receiptsRoot else { throw fail("the receipts are not the block's (receipts root)") }
        let index = Int(Relayer.quantity(tx["index"]))
        guard index < raws.count, Keccak256.hash(raws[index]) == (try hash(tx["hash"], "transaction.hash")) else {
            throw fail("transaction \(tx["hash"]?.stringValue ?? "?") is not at index \(index) of block \(header.number)")
        }
        guard receipts[index].success else { throw fail("the transaction failed (its receipt's status is 0)") }
        var lines = ["transaction \(tx["hash"]?.stringValue ?? "") is transaction \(index) of block \(header.number) (\(header.hash)), which succeeded"]
        if let logIndex = bundle["log"]?.numberValue.flatMap({ Int($0.description) }) {
            guard logIndex < receipts[index].logs.count else { throw fail("its receipt has no log \(logIndex)") }
            let log = receipts[index].logs[logIndex]
            lines.append("log \(logIndex): contract \(log.address.checksummed), topics \(log.topics.map(\.description).joined(separator: " "))")
        }
        // 2. The block is in the history the checkpoint's header commits to.
        let checkpointHeader = try bytes(checkpoint["header"], "checkpoint.header")
        let checkpointHash = Keccak256.hash(checkpointHeader), number = Relayer.quantity(checkpoint["number"])
        var historyRoot: Bytes32?
        if header.number == number {
            guard header.hash == checkpointHash else { throw fail("the block is the checkpoint's number but not its header") }
        } else {
            guard let h = bundle["history"] else { throw fail("a block before the checkpoint needs its history proof") }
            let proof = HistoryAccumulator.Proof(index: Relayer.quantity(h["index"]), count: Relayer.quantity(h["count"]),
                                                 siblings: try (h["siblings"]?.arrayValue ?? []).map { try hash($0, "a sibling") },
                                                 peaks: try (h["peaks"]?.arrayValue ?? []).map { try hash($0, "a peak") })
            let root = try hash(h["root"], "history.root")
            guard proof.index == header.number, proof.count == number,
                  HistoryAccumulator.verify(header.hash, proof, root: root) else { throw fail("block \(header.number) is not in the history proof's root") }
            let decoded: BlockHeader
            do { decoded = try BlockHeader.decode(checkpointHeader) } catch { throw fail("checkpoint.header does not decode: \(error)") }
            let commitment = HeaderCommitment(historyRoot: root, validatorsHash: try hash(checkpoint["validatorsHash"], "checkpoint.validatorsHash"))
            guard decoded.number == number, decoded.extraData == commitment.extraData else { throw fail("the checkpoint's header does not commit to that history root") }
            historyRoot = root
            lines.append("block \(header.number) is in the history of block \(number) (\(proof.siblings.count) siblings, \(proof.peaks.count) peaks)")
        }
        // 3. The checkpoint is in the contract on the parent chain, confirmed.
        guard let contract = anchor["contract"]?.stringValue.flatMap({ try? Address(hex: $0) }) else { throw fail("parent.contract is missing") }
        let parent: NodeClient
        switch trust {
        case .rpc(let client): parent = client
        case .trusted(let trusted):
            let proof = ParentProof(header: try bytes(anchor["header"], "parent.header (offline verification needs a bundle from this version)"),
                                    transactionIndex: Relayer.quantity(anchor["transactionIndex"]),
                                    receiptProof: try (anchor["receiptProof"]?.arrayValue ?? []).map { try bytes($0, "a receipt proof node") })
            let at: UInt64
            do { at = try proof.verify(trusted: trusted, contract: contract, number: number, checkpoint: checkpointHash, historyRoot: historyRoot) } catch {
                throw fail("\(error)")
            }
            guard trusted.head + 1 >= at + confirmations else {
                throw fail("checkpoint \(number) has \(trusted.head + 1 - at) confirmation(s) in the trusted parent headers, fewer than \(confirmations)")
            }
            lines.append("checkpoint \(number) (\(checkpointHash)) is anchored by \(contract.checksummed) in trusted parent block \(at) (receipt proof), \(trusted.head + 1 - at) confirmation(s)")
            return lines
        }
        let chainId = try parent.call("eth_call", [["to": .string(contract.checksummed), "data": .data(ABI.selector("kramaaChainId()"))], "latest"])
        guard (try? UInt256(hex: chainId.stringValue ?? ""))?.uint64Value == Relayer.quantity(bundle["chainId"]) else {
            throw fail("the contract anchors another chain than \(bundle["chainId"]?.description ?? "?")")
        }
        let stored = try Hex.decode(try parent.call("eth_call", [["to": .string(contract.checksummed),
                                                                  "data": .data(ABI.selector("checkpoints(uint256)") + ABI.encode([.uint(UInt256(number))]))],
                                                                 "latest"]).stringValue ?? "")
        guard stored.count >= 128, try Bytes32(stored[0..<32]) == checkpointHash else { throw fail("the contract holds no checkpoint \(number) with that header") }
        if let historyRoot, try Bytes32(stored[32..<64]) != historyRoot { throw fail("the contract's checkpoint \(number) has another history root") }
        let anchoredAt = try UInt256(bigEndianBytes: stored[96..<128]).uint64Value ?? 0
        let parentHead = Relayer.quantity(try parent.call("eth_blockNumber"))
        guard parentHead + 1 >= anchoredAt + confirmations else {
            throw fail("checkpoint \(number) has \(parentHead + 1 - anchoredAt) confirmation(s), fewer than \(confirmations)")
        }
        lines.append("checkpoint \(number) (\(checkpointHash)) is anchored in \(contract.checksummed) on chain \(Relayer.quantity(try parent.call("eth_chainId"))) at block \(anchoredAt), \(parentHead + 1 - anchoredAt) confirmation(s)")
        return lines
    }
}
