import Foundation
import Testing
import KramaaChain
import KramaaPrimitives
import KramaaTestSupport

/// Runs every file of `ethereum/TransactionTests` for the Cancun fork: valid transactions give
/// the listed sender, hash and intrinsic gas; invalid ones are rejected (with a reason).
@Suite struct TransactionVectorTests {
    static let fork = "Cancun"

    /// The outcome of decoding and validating one wire transaction on chain 1.
    static func check(_ raw: [UInt8]) -> Result<(Transaction, Address), TransactionError> {
        Result { () throws(TransactionError) -> (Transaction, Address) in
            let tx = try Transaction.decode(raw)
            return (tx, try tx.validatedSender(chainId: 1))
        }
    }

    @Test func everyTransactionTestPassesForCancun() throws {
        var valid = 0, invalid = 0
        var reasons: [String: Int] = [:]
        for url in try Vectors.files(in: "ethereum/TransactionTests") {
            let file = try #require(try Vectors.json(url) as? [String: [String: Any]])
            for (name, test) in file {
                let label = "\(Vectors.name(url)) \(name)"
                let rawHex = try #require(test["txbytes"] as? String, "\(label): no txbytes")
                let results = try #require(test["result"] as? [String: [String: String]], "\(label): no result")
                // Tests without a Cancun entry are invalid at every fork they list (see the README).
                let expected = results[Self.fork]
                let raw: [UInt8]
                do { raw = try Hex.decode(rawHex) } catch {
                    // Not even hex: counts as rejected bytes.
                    #expect(expected?["exception"] != nil || expected == nil, "\(label): undecodable hex but valid")
                    invalid += 1
                    continue
                }
                let outcome = Self.check(raw)
                if let expected, expected["exception"] == nil {
                    valid += 1
                    guard case .success(let (tx, sender)) = outcome else {
                        Issue.record("\(label): valid transaction rejected: \(outcome)")
                        continue
                    }
                    #expect(sender.lowercased == expected["sender"], "\(label): sender")
                    #expect(tx.hash.description == expected["hash"], "\(label): hash")
                    let gas = try UInt256(hex: try #require(expected["intrinsicGas"]))
                    #expect(UInt256(tx.intrinsicGas) == gas, "\(label): intrinsic gas")
                    #expect(tx.encoded == raw, "\(label): re-encodes to the same bytes")
                } else {
                    invalid += 1
                    switch outcome {
                    case .success:
                        Issue.record("\(label): invalid transaction (\(expected?["exception"] ?? "no \(Self.fork) entry")) accepted")
                    case .failure(let error):
                        reasons["\(error)".prefix(while: { $0 != ":" }).description, default: 0] += 1
                    }
                }
            }
        }
        #expect(valid > 0 && invalid > 0, "valid \(valid), invalid \(invalid)")
        print("TransactionTests (\(Self.fork)): \(valid) valid accepted, \(invalid) invalid rejected; reasons \(reasons)")
    }
}
