import ArgumentParser
import Foundation
import KramaaChain
import KramaaEVM
import KramaaJSON
import KramaaMessaging
import KramaaPlatform
import KramaaPrimitives

/// `kramaa msg prove HASH`: asks the node that delivered an envelope for its proofs of
/// delivery and checks each against the chain.
struct ProveDelivery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print the proofs that an envelope was delivered (from the node that delivered it), each checked against the chain.")

    @Argument(help: "The envelope hash (keccak256 of its wire bytes, as `kramaa msg send` prints it).") var envelopeHash: String
    @OptionGroup var node: NodeConnection

    func run() throws {
        guard (try? Bytes32(hex: envelopeHash)) != nil else { throw ValidationError("\(envelopeHash) is not an envelope hash (32 bytes in hex)") }
        let (status, body) = try node.client().request("GET", path: "/api/v1/messages/\(envelopeHash)/delivery")
        guard let answer = try? JSON.parse(body) else { throw ClientError("the node answered HTTP \(status) without JSON") }
        guard status == 200, let deliveries = answer["deliveries"]?.arrayValue else {
            throw ClientError(answer["detail"]?.stringValue ?? "the node answered HTTP \(status)")
        }
        let reader = try node.caller()
        var out: [JSON] = []
        for delivery in deliveries {
            var object = delivery.objectValue ?? JSONObject()
            let verdict = DeliveryVerdict.check(delivery, reader: reader)
            object["verified"] = verdict.json
            // The node read the registry before this check did: a root included in between is
            // reported as the check found it, so `committed` and `verified` never disagree.
            if verdict.valid, let commitment = verdict.commitment { object["committed"] = commitment.json }
            out.append(.object(object))
        }
        print(String(decoding: JSON.object(["envelopeHash": .string(envelopeHash), "deliveries": .array(out)]).serialized(), as: UTF8.self))
    }
}

/// `kramaa msg verify PROOF.json`: checks a proof of delivery against a node's chain, trusting
/// nothing in the file but the hashes it can recompute.
struct VerifyDelivery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a proof of delivery (one of `kramaa msg prove`'s deliveries) against the chain; exits 1 when it does not hold.")

    @Argument(help: "The proof's JSON file (a delivery object, or `prove`'s whole answer: every delivery is checked).") var file: String
    @OptionGroup var node: NodeConnection

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file), let json = try? JSON.parse(Array(data)) else {
            throw ValidationError("\(file) is not a JSON file")
        }
        let deliveries = json["deliveries"]?.arrayValue ?? [json]
        let reader = try node.caller()
        let verdicts = deliveries.map { DeliveryVerdict.check($0, reader: reader) }
        print(String(decoding: JSON.array(verdicts.map(\.json)).serialized(), as: UTF8.self))
        if verdicts.contains(where: { !$0.valid }) { throw ExitCode.failure }
    }
}

/// What checking one proof found.
struct DeliveryVerdict {
    var valid: Bool
    var reason: String
    /// What the registry holds for the proof's root, when it holds it.
    var commitment: DeliveryRegistry.Commitment?

    var json: JSON {
        var o: JSONObject = ["valid": .bool(valid), "reason": .string(reason)]
        if let commitment {
            o["blockNumber"] = .number(JSONNumber(commitment.blockNumber))
            o["committer"] = .string(commitment.committer.lowercased)
        }
        return .object(o)
    }

    /// Recomputes the leaf from the envelope hash and recipient, the root from the path, then
    /// asks the chain who committed that root and whether it was a validator at that block.
    static func check(_ proof: JSON, reader: some ContractReader) -> DeliveryVerdict {
        func bad(_ why: String) -> DeliveryVerdict { DeliveryVerdict(valid: false, reason: why) }
        guard let chainText = proof["chainId"], let chainId = UInt64(chainText.description),
              let hash = try? Bytes32(hex: proof["envelopeHash"]?.stringValue ?? ""),
              let recipient = try? Address(hex: proof["recipient"]?.stringValue ?? ""),
              let root = try? Bytes32(hex: proof["root"]?.stringValue ?? ""), let steps = proof["proof"]?.arrayValue else {
            return bad("not a proof of delivery: it needs chainId, envelopeHash, recipient, root and proof")
        }
        var path: [DeliveryMerkleTree.Step] = []
        for step in steps {
            guard let sibling = try? Bytes32(hex: step["sibling"]?.stringValue ?? ""), case .bool(let left)? = step["left"] else {
                return bad("a step of the proof is not {sibling, left}")
            }
            path.append(.init(sibling: sibling, siblingIsLeft: left))
        }
        let leaf = DeliveryRegistry.leaf(chainId: chainId, envelopeHash: hash, recipient: recipient)
        guard DeliveryMerkleTree.root(of: leaf, proof: path) == root else {
            return bad("the path does not lead from the delivery of \(hash) to \(recipient) to root \(root)")
        }
        let output: [UInt8]
        do { output = try reader.call(DeliveryRegistry.address, DeliveryRegistry.Method.root.callData([.fixedBytes(root)])) } catch {
            return bad("cannot read the delivery registry: \(error)")
        }
        guard let commitment = DeliveryRegistry.Commitment(rootAnswer: output) else {
            return bad("root \(root) is not committed on this chain (yet: the node commits every few seconds)")
        }
        let (block, committer) = (commitment.blockNumber, commitment.committer)
        guard let validators = try? ValidatorSetClient(reader).validators(atHeight: block), validators.contains(committer) else {
            return DeliveryVerdict(valid: false, reason: "root committed in block \(block) by \(committer), which was not a validator then",
                                   commitment: commitment)
        }
        return DeliveryVerdict(valid: true, reason: "envelope \(hash) was delivered to \(recipient): root committed in block \(block) by validator \(committer)",
                               commitment: commitment)
    }
}
