import KramaaJSON
import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaRPC
import KramaaTestSupport

/// Signed transactions for the node and validator benchmarks, and the JSON-RPC batch that
/// carries them.
enum BenchTransactions {
    static let chainId: UInt64 = 1337

    /// `count` sender keys, the same in every run.
    static func senders(_ count: Int) -> [Secp256k1.PrivateKey] {
        (0..<count).map { i in try! Secp256k1.PrivateKey(Keccak256.hash(Array("bench sender \(i)".utf8))) }
    }

    /// An EIP-1559 transaction; without data it sends 1 wei.
    static func signed(_ key: Secp256k1.PrivateKey, nonce: UInt64, to: Address?, data: [UInt8] = [], gas: UInt64) -> [UInt8] {
        Transaction(type: .dynamicFee, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: UInt256(1),
                    maxFeePerGas: UInt256(1_000_000_000_000), gasLimit: gas, to: to, value: data.isEmpty && to != nil ? .one : .zero,
                    data: data).signed(with: key).encoded
    }

    /// One batch of eth_sendRawTransaction calls as the HTTP request that carries it. Benches
    /// make their requests before timing, as they sign before timing: the client shares the
    /// machine's cores with the node, and its hex encoding is not the node's work.
    static func batchRequest(_ raws: some Collection<[UInt8]>) -> [UInt8] {
        let body = "[" + raws.enumerated().map { i, raw in
            #"{"jsonrpc":"2.0","id":\#(i),"method":"eth_sendRawTransaction","params":[""# + RPCHex.encodeData(raw) + #""]}"#
        }.joined(separator: ",") + "]"
        return Array(LoopbackSocket.requestText(body: body).utf8)
    }

    /// Sends a request of ``batchRequest(_:)`` and requires every call of it accepted.
    static func send(batchRequest request: [UInt8], on socket: LoopbackSocket) {
        try! socket.send(request)
        let reply = try! socket.readResponse()
        // fatalError, not precondition: its message is printed in release builds too.
        if reply.status != 200 || Harness.contains(reply.body, errorKey) {
            let text = reply.text
            let first = text.range(of: "\"error\"").map { String(text[$0.lowerBound...].prefix(300)) } ?? String(text.prefix(300))
            fatalError("HTTP \(reply.status), refused: \(first)")
        }
    }

    private static let errorKey = Array(#""error""#.utf8)
}

/// The Vyper ERC-20 of contracts/ (compiled by scripts/bench.sh) as a workload: deployed by the
/// first sender, every other sender funded, then transfers of 1 token to ever-new recipients.
struct TokenWorkload {
    let senders: [Secp256k1.PrivateKey]
    let initCode: [UInt8]
    var nonces: [UInt64]
    private var recipient: UInt64 = 1

    /// The compiled init code at `path` (hex), or nil when the bench script did not provide it.
    static func initCode(at path: String?) -> [UInt8]? {
        guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return try? Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    init(senders: [Secp256k1.PrivateKey], initCode: [UInt8]) {
        self.senders = senders
        self.initCode = initCode
        nonces = Array(repeating: 0, count: senders.count)
    }

    var token: Address { EVM.createAddress(sender: senders[0].publicKey.address, nonce: 0) }

    /// The deployment and one funding transfer per other sender, all from the first sender.
    mutating func setup() -> [[UInt8]] {
        let args = ABI.encode([.string("Kramaa Token"), .string("KRM"), .uint(UInt256(1) << 128)])
        var raws = [BenchTransactions.signed(senders[0], nonce: 0, to: nil, data: initCode + args, gas: 5_000_000)]
        for key in senders.dropFirst() {
            raws.append(transfer(from: 0, to: key.publicKey.address, amount: UInt256(1) << 100, nonce: UInt64(raws.count)))
        }
        nonces[0] = UInt64(raws.count)
        return raws
    }

    /// `perSender` transfers from every sender, each sender's list in nonce order, to ever-new
    /// recipients, or with `existing` to the first `existing` recipients again (the state's size
    /// stays as it is: only balances change).
    mutating func transfers(perSender: Int, existing: Int? = nil) -> [[[UInt8]]] {
        senders.indices.map { s in
            (0..<perSender).map { _ in
                let number = existing.map { UInt64(1) + (recipient - 1) % UInt64($0) } ?? recipient
                let to = Address(word: UInt256(number) &+ (UInt256(0xbeef) << 100))
                recipient += 1
                defer { nonces[s] += 1 }
                return transfer(from: s, to: to, amount: .one, nonce: nonces[s])
            }
        }
    }

    private func transfer(from s: Int, to: Address, amount: UInt256, nonce: UInt64) -> [UInt8] {
        BenchTransactions.signed(senders[s], nonce: nonce, to: token,
                                 data: ABI.call("transfer(address,uint256)", [.address(to), .uint(amount)]), gas: 100_000)
    }
}

/// The machine's ecrecover rate, the reference of the transaction benchmarks: on one core, and
/// on every core at once. The rows' ceiling is the first times the cores; the second says what
/// the cores give together at that moment (on this kind of machine, two threads recovering at
/// once did between 1.5 and 2 times one, changing from hour to hour with the host's load).
struct RecoveryCeiling {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let oneCore: Double
    let together: Double

    init(probe: Transaction, quick: Bool) {
        let seconds = quick ? 0.3 : 1
        oneCore = Harness.rate(batch: 1, seconds: seconds) { blackHole(try! probe.sender()) }
        together = Harness.rate(threads: cores, seconds: seconds) { _ in { blackHole(try! probe.sender()) } }
    }

    /// One core's rate times the cores: the rows' reference.
    var allCores: Double { oneCore * Double(cores) }

    /// What the rows' reference is, and the rate on every core at once, with `rate` against it
    /// (`recoveriesPerTransaction`: how many times the machine recovers each transaction's sender).
    func note(rate: Double, named name: String, recoveriesPerTransaction: Int = 1) -> String {
        let ratio = rate * Double(recoveriesPerTransaction) / together
        return "The ecrecover ceiling is \(Row.format(oneCore)) recoveries/s on one core × \(cores). Measured on \(cores) threads at once, recovery gives \(Row.format(together))/s in this run (since 2026-12-07; the rows keep the ceiling above): against that, the \(name) is \(String(format: "%.2f", ratio))."
    }
}
