import Foundation
import KramaaChain
import KramaaEVM
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

    enum FormatError: Error, CustomStringConvertible {
        case field(String, test: String)
        var description: String {
            switch self {
            case .field(let name, let test): return "malformed test \(test): missing or bad field \(name)"
            }
        }
    }

    func run(file url: URL) throws -> [CaseOutcome] {
        let data = try Data(contentsOf: url)
        guard let tests = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] else {
            throw FormatError.field("top level", test: url.lastPathComponent)
        }
        var outcomes: [CaseOutcome] = []
        for (name, test) in tests.sorted(by: { $0.key < $1.key }) {
            guard let post = test["post"] as? [String: Any], let entries = post[fork] as? [[String: Any]] else { continue }
            let pre = try Self.preState(test["pre"], test: name)
            let block = try Self.blockContext(test["env"], test: name)
            let hashes = Self.blockHashes(below: block.number)
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
    func runCase(_ entry: [String: Any], pre: [(Address, UInt64, UInt256, [UInt8], [UInt256: UInt256])],
                 block: BlockContext, blockHashes: [UInt64: Bytes32]) -> String? {
        let expectedException = entry["expectException"] as? String
        guard let txHex = entry["txbytes"] as? String, let raw = try? Hex.decode(txHex) else {
            return "missing txbytes"
        }
        let state = InMemoryState()
        for (address, nonce, balance, code, storage) in pre {
            state.set(address, nonce: nonce, balance: balance, code: code, storage: storage)
        }
        state.blockHashes = blockHashes
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

    /// The hashes BLOCKHASH can see below block `number`; the state tests (like geth's runner)
    /// take keccak256 of the decimal block number.
    static func blockHashes(below number: UInt64) -> [UInt64: Bytes32] {
        var hashes: [UInt64: Bytes32] = [:]
        for n in (number > 256 ? number - 256 : 0)..<number {
            hashes[n] = Keccak256.hash(Array(String(n).utf8))
        }
        return hashes
    }

    static func preState(_ json: Any?, test: String) throws -> [(Address, UInt64, UInt256, [UInt8], [UInt256: UInt256])] {
        guard let pre = json as? [String: [String: Any]] else { throw FormatError.field("pre", test: test) }
        return try pre.map { key, value in
            guard let address = try? Address(hex: key.lowercased()),
                  let nonce = (try? UInt256(parsing: value["nonce"] as? String ?? "0x0"))?.uint64Value,
                  let balance = try? UInt256(parsing: value["balance"] as? String ?? "0x0"),
                  let code = try? Hex.decode(value["code"] as? String ?? "0x")
            else { throw FormatError.field("pre[\(key)]", test: test) }
            var storage: [UInt256: UInt256] = [:]
            for (slot, v) in value["storage"] as? [String: String] ?? [:] {
                guard let s = try? UInt256(parsing: slot), let x = try? UInt256(parsing: v) else {
                    throw FormatError.field("pre[\(key)].storage", test: test)
                }
                storage[s] = x
            }
            return (address, nonce, balance, code, storage)
        }
    }

    static func blockContext(_ json: Any?, test: String) throws -> BlockContext {
        guard let env = json as? [String: String] else { throw FormatError.field("env", test: test) }
        func number(_ key: String) throws -> UInt256 {
            guard let s = env[key], let v = try? UInt256(parsing: s) else { throw FormatError.field("env.\(key)", test: test) }
            return v
        }
        let random: UInt256
        if let r = env["currentRandom"].flatMap({ try? UInt256(parsing: $0) }) { random = r } else { random = try number("currentDifficulty") }
        let excess = env["currentExcessBlobGas"].flatMap { try? UInt256(parsing: $0) }?.uint64Value ?? 0
        guard let coinbase = env["currentCoinbase"].flatMap({ try? Address(hex: $0.lowercased()) }) else {
            throw FormatError.field("env.currentCoinbase", test: test)
        }
        return BlockContext(
            coinbase: coinbase,
            number: try number("currentNumber").clampedUInt64,
            timestamp: try number("currentTimestamp").clampedUInt64,
            gasLimit: try number("currentGasLimit").clampedUInt64,
            baseFee: env["currentBaseFee"].flatMap { try? UInt256(parsing: $0) } ?? .zero,
            prevRandao: random.bytes32,
            chainId: 1,
            blobBaseFee: BlobRules.blobBaseFee(excessBlobGas: excess))
    }
}

extension UInt256 {
    /// The value as UInt64, saturating.
    var clampedUInt64: UInt64 { uint64Value ?? .max }
}
