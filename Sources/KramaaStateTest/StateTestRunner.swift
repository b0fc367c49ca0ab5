import Foundation
import KramaaChain
import KramaaEVM
import KramaaEVMHarness
import KramaaPrimitives
import KramaaState

/// One checked case of a GeneralStateTest: a (data, gas, value) index of the post list.
struct CaseOutcome {
    var test: String
    var index: String
    var failure: String?
}

/// Runs the GeneralStateTests of one fork: builds the pre-state, applies each post entry's
/// transaction, and compares the state root, the logs hash and the expected exception.
struct StateTestRunner {
    let fork: String
    let precompiles: [Address: PrecompileFunction]

    func run(file url: URL) throws -> [CaseOutcome] {
        let data = try Data(contentsOf: url)
        guard let tests = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] else {
            throw FixtureError("top level", in: "file \(url.lastPathComponent)")
        }
        var outcomes: [CaseOutcome] = []
        for (name, test) in tests.sorted(by: { $0.key < $1.key }) {
            guard let post = test["post"] as? [String: Any], let entries = post[fork] as? [[String: Any]] else { continue }
            let pre = try FixtureJSON.preState(test["pre"], context: "test \(name)")
            let block = try FixtureJSON.blockContext(test["env"], context: "test \(name)")
            let hashes = FixtureJSON.blockHashes(below: block.number)
            for entry in entries {
                let idx = entry["indexes"] as? [String: Int] ?? [:]
                let index = "d\(idx["data"] ?? 0) g\(idx["gas"] ?? 0) v\(idx["value"] ?? 0)"
                var outcome = CaseOutcome(test: name, index: index, failure: nil)
                outcome.failure = runCase(entry, pre: pre, block: block, blockHashes: hashes)
                outcomes.append(outcome)
            }
        }
        return outcomes
    }

    /// nil when the case passes, else why it failed.
    func runCase(_ entry: [String: Any], pre: [PreAccount], block: BlockContext, blockHashes: [UInt64: Bytes32]) -> String? {
        let expectedException = entry["expectException"] as? String
        guard let txHex = entry["txbytes"] as? String, let raw = try? Hex.decode(txHex) else {
            return "missing txbytes"
        }
        let state = InMemoryState(pre: pre, blockHashes: blockHashes)
        let journaled = JournaledState(backend: state)
        let transition = StateTransition(block: block, precompiles: precompiles)
        do {
            let tx: Transaction
            let sender: Address
            do {
                tx = try Transaction.decode(raw)
                sender = try tx.sender()
            } catch {
                throw InvalidTransactionError.transaction(error)
            }
            let receipt = try transition.apply(tx, sender: sender, to: journaled)
            if let expectedException { return "accepted a transaction expected to fail with \(expectedException)" }
            state.commit(journaled)
            let root = state.stateRoot.description
            let logs = Log.hash(receipt.logs).description
            var problems: [String] = []
            if root != entry["hash"] as? String { problems.append("state root \(root), expected \(entry["hash"] ?? "?")") }
            if logs != entry["logs"] as? String { problems.append("logs hash \(logs), expected \(entry["logs"] ?? "?")") }
            return problems.isEmpty ? nil : problems.joined(separator: "; ")
        } catch {
            return expectedException == nil ? "rejected a valid transaction: \(error)" : nil
        }
    }
}
