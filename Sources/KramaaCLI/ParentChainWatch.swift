import Foundation
import KramaaAPI
import KramaaJSON
import KramaaNode
import KramaaPrimitives

/// The node's view of its checkpoints on parent chains (`--anchor-watch LABEL=URL@CONTRACT`;
/// docs/ANCHORING.md): every few seconds it reads each parent's new `CheckpointAnchored` logs
/// of the contract and the parent's head, and keeps the checkpoints whose block hash is this
/// chain's block at that number (a checkpoint of another chain, or a forged one, is ignored).
/// Asset histories then say, per event, on which parent block its block is anchored.
final class ParentChainWatch: AnchorDirectory, @unchecked Sendable {
    struct Parent {
        let label: String
        let client: NodeClient
        let contract: Address
    }

    struct Checkpoint {
        let number: UInt64
        let parentBlock: UInt64
        let transaction: Bytes32
    }

    let parents: [Parent]
    let node: Node
    private let lock = NSLock()
    private var checkpoints: [String: [Checkpoint]] = [:]
    private var scanned: [String: UInt64] = [:]
    private var parentHeads: [String: UInt64] = [:]
    private var stopped = false
    var interval: TimeInterval = 2

    /// `LABEL=URL@CONTRACT` each.
    init(specs: [String], node: Node) throws {
        parents = try specs.map { spec in
            guard let eq = spec.firstIndex(of: "="), let at = spec.lastIndex(of: "@"), eq < at else {
                throw CLIFailure("--anchor-watch \(spec): give LABEL=URL@CONTRACT, e.g. xdc=https://rpc.xinfin.network@0x…")
            }
            let label = String(spec[..<eq]), url = String(spec[spec.index(after: eq)..<at]), contract = String(spec[spec.index(after: at)...])
            guard !label.isEmpty else { throw CLIFailure("--anchor-watch \(spec): the label is empty") }
            var client = try NodeClient(url)
            client.timeout = 10
            do { return Parent(label: label, client: client, contract: try Address(hex: contract)) } catch {
                throw CLIFailure("--anchor-watch \(spec): \(contract) is not an address")
            }
        }
        self.node = node
    }

    func start() {
        let thread = Thread { [weak self] in
            while let self, !self.lock.withLock({ self.stopped }) {
                for parent in self.parents { self.scan(parent) }
                Thread.sleep(forTimeInterval: self.interval)
            }
        }
        thread.name = "kramaa.anchor-watch"
        thread.start()
    }

    func stop() { lock.withLock { stopped = true } }

    /// The first checkpoint at or after block `number` this watch has read from `parent`.
    func checkpoint(of parent: Parent, atOrAfter number: UInt64) -> Checkpoint? {
        lock.withLock { checkpoints[parent.label]?.first { $0.number >= number } }
    }

    func anchors(of number: UInt64) -> [BlockAnchor] {
        lock.withLock {
            parents.compactMap { parent in
                guard let first = checkpoints[parent.label]?.first(where: { $0.number >= number }) else { return nil }
                let head = parentHeads[parent.label] ?? first.parentBlock
                return BlockAnchor(chain: parent.label, contract: parent.contract, checkpoint: first.number, parentBlock: first.parentBlock,
                                   parentTransaction: first.transaction, confirmations: head >= first.parentBlock ? head - first.parentBlock + 1 : 0)
            }
        }
    }

    static let anchoredEvent = AnchorReceiptBuilder.anchoredEvent

    /// Reads `parent`'s new checkpoint logs (a failure is tried again next time).
    private func scan(_ parent: Parent) {
        do {
            let head = try RPCHex.decodeQuantity(try parent.client.call("eth_blockNumber").stringValue ?? "")
            let from = lock.withLock { scanned[parent.label] ?? 0 }
            guard head >= from else { return }
            let logs = try parent.client.call("eth_getLogs", [["address": .string(parent.contract.description), "fromBlock": .string(RPCHex.encodeQuantity(from)),
                                                                "toBlock": .string(RPCHex.encodeQuantity(head)),
                                                                "topics": [.string(Self.anchoredEvent.description)]]])
            var found: [Checkpoint] = []
            for log in logs.arrayValue ?? [] {
                guard let topics = log["topics"]?.arrayValue, topics.count >= 3,
                      let number = topics[1].stringValue.flatMap({ try? UInt256(hex: $0) })?.uint64Value,
                      let hash = topics[2].stringValue.flatMap({ try? Bytes32(hex: $0) }),
                      let tx = log["transactionHash"]?.stringValue.flatMap({ try? Bytes32(hex: $0) }),
                      let block = log["blockNumber"]?.stringValue.flatMap({ try? RPCHex.decodeQuantity($0) }),
                      log["removed"]?.boolValue != true,
                      (try? node.header(number: number))??.hash == hash else { continue }
                found.append(Checkpoint(number: number, parentBlock: block, transaction: tx))
            }
            lock.withLock {
                var list = checkpoints[parent.label] ?? []
                for c in found where !list.contains(where: { $0.number == c.number }) { list.append(c) }
                list.sort { $0.number < $1.number }
                checkpoints[parent.label] = list
                // Re-read the last few parent blocks next time: a reorganisation there may move a checkpoint.
                scanned[parent.label] = head > 12 ? head - 12 : 0
                parentHeads[parent.label] = head
            }
        } catch {
            // The parent did not answer: its checkpoints so far stay; tried again at the next interval.
        }
    }
}
