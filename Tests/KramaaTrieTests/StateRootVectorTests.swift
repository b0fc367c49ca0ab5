import Foundation
import Testing
import KramaaPrimitives
import KramaaTestSupport
import KramaaTrie

/// Real world-state roots: in `ethereum/GeneralStateTests`, a Cancun case with
/// `expectException` leaves the state as `pre`, so its `hash` is the root of the `pre` state:
/// a secure account trie of `rlp([nonce, balance, storageRoot, keccak(code)])` with a secure
/// storage trie per account of `rlp(value)` under the 32-byte slot. This checks the trie (and
/// the sorted builder) on the shapes world state produces, before the state layer exists.
@Suite struct StateRootVectorTests {
    /// The root of a `pre` object, built with tries and, independently, with the sorted builder.
    static func stateRoots(_ pre: [String: [String: Any]], label: String) throws -> (trie: Bytes32, builder: Bytes32) {
        var accounts = SecureTrie()
        var accountEntries: [MerklePatriciaTrie.Entry] = []
        for (address, account) in pre {
            var storage = SecureTrie()
            var slots: [MerklePatriciaTrie.Entry] = []
            for (slot, value) in account["storage"] as? [String: String] ?? [:] {
                let v = try UInt256(parsing: value)
                if v == .zero { continue }
                let key = try UInt256(parsing: slot).bigEndianBytes
                let encoded = RLPItem.uint(v).encoded
                storage[key] = encoded
                slots.append((key, encoded))
            }
            let code = try Hex.decode(try #require(account["code"] as? String, "\(label): \(address) has no code"))
            func encode(storageRoot: Bytes32) throws -> [UInt8] {
                var w = RLPWriter()
                try w.appendList { l in
                    l.append(uint: try UInt256(parsing: account["nonce"] as? String ?? "0x0"))
                    l.append(uint: try UInt256(parsing: account["balance"] as? String ?? "0x0"))
                    l.append(bytes32: storageRoot)
                    l.append(bytes32: Keccak256.hash(code))
                }
                return w.bytes
            }
            let key = try Hex.decode(address, length: 20)
            accounts[key] = try encode(storageRoot: storage.rootHash)
            accountEntries.append((key, try encode(storageRoot: SecureTrie.root(of: slots))))
        }
        return (accounts.rootHash, SecureTrie.root(of: accountEntries))
    }

    @Test func preStateRootsOfRejectedTransactions() throws {
        var tests = 0, cases = 0
        for url in try Vectors.files(in: "ethereum/GeneralStateTests") {
            // Most files have no rejected transaction; skip them before parsing.
            let raw = try Data(contentsOf: url)
            guard raw.range(of: Data("expectException".utf8)) != nil else { continue }
            let file = try #require(try Vectors.json(url) as? [String: [String: Any]], "\(Vectors.name(url))")
            for (name, test) in file {
                let label = "\(Vectors.name(url)) \(name)"
                let post = (test["post"] as? [String: [[String: Any]]])?["Cancun"] ?? []
                let rejected = post.filter { $0["expectException"] != nil }
                guard !rejected.isEmpty else { continue }
                let pre = try #require(test["pre"] as? [String: [String: Any]], "\(label): no pre")
                let roots = try Self.stateRoots(pre, label: label)
                #expect(roots.trie == roots.builder, "\(label): trie and sorted builder disagree")
                for entry in rejected {
                    let expected = try Bytes32(hex: try #require(entry["hash"] as? String, "\(label): no hash"))
                    #expect(roots.trie == expected, "\(label): state root of pre")
                    cases += 1
                }
                tests += 1
            }
        }
        print("GeneralStateTests: \(cases) pre-state roots (\(tests) tests) checked")
        #expect(cases > 0)
    }
}
