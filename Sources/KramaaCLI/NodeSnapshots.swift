import Foundation
import KramaaNode

/// A node's own state snapshots (`--snapshot-interval`): written in the background after every
/// Nth block into DATADIR/snapshots, where the peer network serves them; the two newest are kept.
enum NodeSnapshots {
    static func folder(_ dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("snapshots") }

    static let keep = 2

    static func produce(node: Node, every interval: UInt64) {
        let queue = DispatchQueue(label: "kramaa.snapshot-writer", qos: .utility)
        let folder = folder(node.dataDirectory)
        node.addObserver { event in
            guard case .newBlock(let executed) = event, executed.block.number % interval == 0 else { return }
            let height = executed.block.number
            queue.async {
                do {
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    let file = folder.appendingPathComponent(String(format: "%012llu.snapshot", height))
                    try Node.exportSnapshot(dataDirectory: node.dataDirectory, at: height, to: file)
                    let all = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".snapshot") }.sorted()
                    for old in all.dropLast(keep) { try? FileManager.default.removeItem(at: folder.appendingPathComponent(old)) }
                    Console.line("snapshot of block \(height) written to \(file.path)")
                } catch {
                    KeysCommand.printError("snapshot of block \(height) failed: \(error)")
                }
            }
        }
    }
}
