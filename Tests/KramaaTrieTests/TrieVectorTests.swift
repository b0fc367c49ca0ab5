import Foundation
import Testing
import KramaaPrimitives
import KramaaTestSupport
import KramaaTrie

/// Runs every file of `ethereum/TrieTests`, dispatching on each case's content (see the vectors
/// README): root tests with `in` as an object or as ordered `[key, value]` pairs (null deletes),
/// secure variants by file name, and key-order tests with `tests`.
@Suite struct TrieVectorTests {
    /// A key or value: hex when it starts with `0x` (or the case says `hexEncoded`), else ASCII.
    static func bytes(_ s: String, hex: Bool) throws -> [UInt8] {
        hex || s.hasPrefix("0x") ? try Hex.decode(s) : Array(s.utf8)
    }

    /// The operations a case's `in` describes, in order; a nil value deletes.
    static func operations(_ input: Any, hex: Bool, label: String) throws -> [(key: [UInt8], value: [UInt8]?)] {
        func value(_ v: Any) throws -> [UInt8]? {
            if v is NSNull { return nil }
            return try bytes(try #require(v as? String, "\(label): value \(v) is not a string"), hex: hex)
        }
        if let object = input as? [String: Any] {
            return try object.map { (try bytes($0.key, hex: hex), try value($0.value)) }
        }
        let pairs = try #require(input as? [[Any]], "\(label): `in` is neither an object nor a list of pairs")
        return try pairs.map { pair in
            try #require(pair.count == 2, "\(label): pair \(pair) does not have two elements")
            return (try bytes(try #require(pair[0] as? String, "\(label): key \(pair[0])"), hex: hex), try value(pair[1]))
        }
    }

    /// A trie keyed by raw or hashed keys, as the file asks.
    struct AnyTrie {
        var plain = MerklePatriciaTrie()
        var secure = SecureTrie()
        let isSecure: Bool

        mutating func apply(_ key: [UInt8], _ value: [UInt8]?) {
            if isSecure { secure[key] = value } else { plain[key] = value }
        }

        var rootHash: Bytes32 { mutating get { isSecure ? secure.rootHash : plain.rootHash } }
    }

    @Test func everyTrieVectorFilePasses() throws {
        var rootCases = 0, orderCases = 0
        for url in try Vectors.files(in: "ethereum/TrieTests") {
            let isSecure = url.lastPathComponent.lowercased().contains("securetrie")
            let file = try #require(try Vectors.json(url) as? [String: [String: Any]], "\(Vectors.name(url))")
            for (name, test) in file.sorted(by: { $0.key < $1.key }) {
                let label = "\(Vectors.name(url)) \(name)"
                if let probes = test["tests"] {
                    try Self.checkOrder(test["in"] as Any, probes: probes, label: label)
                    orderCases += 1
                    continue
                }
                let hex = test["hexEncoded"] as? Bool ?? false
                let ops = try Self.operations(try #require(test["in"], "\(label): no in"), hex: hex, label: label)
                let root = try Bytes32(hex: try #require(test["root"] as? String, "\(label): no root"))
                var trie = AnyTrie(isSecure: isSecure)
                for op in ops { trie.apply(op.key, op.value) }
                #expect(trie.rootHash == root, "\(label): root")
                if test["in"] is [String: Any] {
                    // Any order: reversed insertion and the sorted builder agree.
                    var reversed = AnyTrie(isSecure: isSecure)
                    for op in ops.reversed() { reversed.apply(op.key, op.value) }
                    #expect(reversed.rootHash == root, "\(label): root in reverse order")
                    let entries = ops.compactMap { op in op.value.map { (key: op.key, value: $0) } }
                    let built = isSecure ? SecureTrie.root(of: entries) : MerklePatriciaTrie.root(of: entries)
                    #expect(built == root, "\(label): root from sorted builder")
                }
                try Self.checkProofs(&trie, ops: ops, root: root, label: label)
                rootCases += 1
            }
        }
        print("TrieTests: \(rootCases) root cases and \(orderCases) key-order cases passed checks")
        #expect(rootCases > 0 && orderCases > 0, "both root (\(rootCases)) and order (\(orderCases)) cases must run")
    }

    /// Every key the case touched proves its final value (or absence) under the expected root.
    static func checkProofs(_ trie: inout AnyTrie, ops: [(key: [UInt8], value: [UInt8]?)], root: Bytes32, label: String) throws {
        var final: [[UInt8]: [UInt8]] = [:]
        for op in ops { final[op.key] = op.value.flatMap { $0.isEmpty ? nil : $0 } }
        for (key, value) in final {
            if trie.isSecure {
                let proof = trie.secure.proof(forKey: key)
                #expect(try SecureTrie.verifyProof(root: root, key: key, proof: proof) == value, "\(label): proof of \(key)")
            } else {
                let proof = trie.plain.proof(forKey: key)
                #expect(try MerklePatriciaTrie.verifyProof(root: root, key: key, proof: proof) == value, "\(label): proof of \(key)")
            }
        }
    }

    /// `trietestnextprev.json`: each probe's neighbours in key order (`""` for none).
    static func checkOrder(_ input: Any, probes: Any, label: String) throws {
        let keys = try #require(input as? [String], "\(label): `in` is not a list of keys")
        let tests = try #require(probes as? [[String]], "\(label): `tests` is not a list of triples")
        var trie = MerklePatriciaTrie()
        for key in keys { trie[try bytes(key, hex: false)] = Array(key.utf8) }
        for t in tests {
            try #require(t.count == 3, "\(label): test \(t) is not [probe, previous, next]")
            let probe = try bytes(t[0], hex: false)
            let previous = trie.entry(before: probe).map { String(decoding: $0.key, as: UTF8.self) } ?? ""
            let next = trie.entry(after: probe).map { String(decoding: $0.key, as: UTF8.self) } ?? ""
            #expect(previous == t[1], "\(label): previous of \"\(t[0])\"")
            #expect(next == t[2], "\(label): next of \"\(t[0])\"")
        }
    }
}
