import Foundation
import KramaaChain
import KramaaNode
import KramaaPrimitives
import KramaaStorage

/// State sync at a million accounts (docs/OPERATIONS.md, "State sync"): the time to write a
/// snapshot, and a new node's join time (every chunk checked, the state rebuilt and its root
/// checked against the header, the data directory written, the node opened), against building the
/// same state from nothing (`kramaa init` of a genesis that allocates the same accounts) in the
/// same run.
enum SnapshotBench {
    static func run(accounts: Int, into section: inout Section) {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kramaa-snapshot-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [7])
        var alloc = "\"\(key.publicKey.address)\":{\"balance\":\"0x3635c9adc5dea00000\"}"
        alloc.reserveCapacity(accounts * 80)
        for i in 0..<accounts { alloc += String(format: ",\"0x%040x\":{\"balance\":\"0x%x\"}", 0x1000_0000 + i, i + 1) }
        let genesis = Data("{\"config\":{\"chainId\":4242,\"kramaa\":{\"blockPeriodSeconds\":0}},\"gasLimit\":\"0x1c9c380\",\"alloc\":{\(alloc)}}".utf8)
        alloc = ""
        let source = root.appendingPathComponent("source")
        let initSeconds = Harness.time { try! Node.initialize(dataDirectory: source, genesisDocument: genesis) }
        do {
            let node = try! Node(dataDirectory: source)
            let tx = Transaction(type: .dynamicFee, chainId: 4242, nonce: 0, maxPriorityFeePerGas: .one, maxFeePerGas: UInt256(5_000_000_000),
                                 gasLimit: 21_000, to: try! Address(hex: "0x00000000000000000000000000000000000000aa"), value: .one)
            _ = try! node.accept(raw: tx.signed(with: key).encoded)
            try! node.produceBlock(timestamp: 1, allowEmpty: false)
            node.close()
        }
        let file = root.appendingPathComponent("state.snapshot")
        var manifest: SnapshotManifest!
        let exportSeconds = Harness.time { manifest = try! Node.exportSnapshot(dataDirectory: source, at: nil, to: file) }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let joined = root.appendingPathComponent("joined")
        var head: BlockHeader!
        let joinSeconds = Harness.time {
            let snapshot = try! SnapshotFile(url: file)
            let verified = try! Node.verifySnapshot(snapshot.manifest, genesisDocument: genesis) { index throws(SnapshotError) in try snapshot.chunk(index) }
            try! Node.restore(verified, genesisDocument: genesis, dataDirectory: joined)
            let node = try! Node(dataDirectory: joined)
            head = node.latest
            node.close()
        }
        precondition(head.number == manifest.height, "the joined node opens at block \(head.number), not the snapshot's \(manifest.height)")
        let millions = Double(accounts + 1) / 1e6
        section.rows.append(Row(name: "State snapshot written at \(accounts + 1) accounts (\(manifest.chunkHashes.count) chunks, \(bytes / 1_048_576) MiB): per million accounts",
                                ours: exportSeconds / millions, unit: "s", reference: initSeconds / millions,
                                referenceName: "kramaa init of a genesis allocating the same accounts"))
        section.rows.append(Row(name: "New node joined from it (chunks checked, state root, data directory, node opened): per million accounts",
                                ours: joinSeconds / millions, unit: "s", reference: initSeconds / millions,
                                referenceName: "kramaa init of a genesis allocating the same accounts", goal: "minutes, not a replay"))
    }
}
