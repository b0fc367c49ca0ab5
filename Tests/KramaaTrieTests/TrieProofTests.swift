import Testing
import KramaaPrimitives
import KramaaTestSupport
import KramaaTrie

/// Merkle proofs: present keys prove their value, absent keys prove absence, and anything
/// altered, truncated or malformed gives a typed error, never a crash or a wrong answer.
@Suite struct TrieProofTests {
    /// Expects `body` to throw a `TrieProofError` for which `matches` holds.
    static func expectError(
        _ matches: (TrieProofError) -> Bool, _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> [UInt8]?
    ) {
        let error = #expect(throws: TrieProofError.self, comment, sourceLocation: sourceLocation) { _ = try body() }
        if let error { #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation) }
    }

    static func randomTrie(seed: UInt64, count: Int) -> (MerklePatriciaTrie, [[UInt8]: [UInt8]]) {
        var rng = SplitMix64(seed: seed)
        var model: [[UInt8]: [UInt8]] = [:]
        for _ in 0..<count { model[TriePropertyTests.key(&rng)] = TriePropertyTests.value(&rng) }
        return (MerklePatriciaTrie(model.map { ($0.key, $0.value) }), model)
    }

    @Test(arguments: 0..<4)
    func proofsOfPresentAndAbsentKeysVerify(seed: UInt64) throws {
        var (trie, model) = Self.randomTrie(seed: seed, count: 300)
        let root = trie.rootHash
        var rng = SplitMix64(seed: 1000 + seed)
        for (key, value) in model {
            #expect(try MerklePatriciaTrie.verifyProof(root: root, key: key, proof: trie.proof(forKey: key)) == value)
        }
        // Absent keys: random ones, and neighbours of present keys (longer, shorter, changed last byte).
        var absent = (0..<100).map { _ in TriePropertyTests.key(&rng) }
        for k in model.keys.prefix(60) {
            absent.append(k + [0])
            absent.append(Array(k.dropLast()))
            if let last = k.last { absent.append(Array(k.dropLast()) + [last &+ 1]) }
        }
        for key in absent where model[key] == nil {
            #expect(try MerklePatriciaTrie.verifyProof(root: root, key: key, proof: trie.proof(forKey: key)) == nil, "absent \(key)")
        }
    }

    @Test func secureTrieProofs() throws {
        var trie = SecureTrie()
        for i in 0..<200 { trie[Array("account-\(i)".utf8)] = Array("balance-\(i * 7)".utf8) }
        let root = trie.rootHash
        #expect(try SecureTrie.verifyProof(root: root, key: Array("account-42".utf8), proof: trie.proof(forKey: Array("account-42".utf8))) == Array("balance-294".utf8))
        #expect(try SecureTrie.verifyProof(root: root, key: Array("nobody".utf8), proof: trie.proof(forKey: Array("nobody".utf8))) == nil)
    }

    @Test func emptyTrieProvesAbsence() throws {
        var trie = MerklePatriciaTrie()
        #expect(trie.proof(forKey: [1]).isEmpty)
        #expect(try MerklePatriciaTrie.verifyProof(root: MerklePatriciaTrie.emptyRootHash, key: [1], proof: []) == nil)
        #expect(try MerklePatriciaTrie.verifyProof(root: MerklePatriciaTrie.emptyRootHash, key: [1], proof: [[0x80]]) == nil)
        let other = Keccak256.hash([1, 2, 3])
        #expect(throws: TrieProofError.missingNode(index: 0, hash: other)) {
            try MerklePatriciaTrie.verifyProof(root: other, key: [1], proof: [])
        }
    }

    /// A single-key trie has a root under 32 bytes: the proof is that one node, still hashed.
    @Test func tinyTrieRootIsItsOwnProof() throws {
        var trie = MerklePatriciaTrie()
        trie[[0x01]] = [0x02]
        let proof = trie.proof(forKey: [0x01])
        #expect(proof.count == 1 && proof[0].count < 32)
        #expect(try MerklePatriciaTrie.verifyProof(root: trie.rootHash, key: [0x01], proof: proof) == [0x02])
        #expect(try MerklePatriciaTrie.verifyProof(root: trie.rootHash, key: [0x03], proof: proof) == nil)
    }

    @Test func alteredProofsAreRejected() throws {
        var (trie, model) = Self.randomTrie(seed: 42, count: 400)
        let root = trie.rootHash
        var rng = SplitMix64(seed: 43)
        var checked = 0
        for key in model.keys.prefix(80) {
            let proof = trie.proof(forKey: key)
            // Flip one bit in one node.
            for index in proof.indices {
                var bad = proof
                bad[index][Int(rng.next() % UInt64(bad[index].count))] ^= UInt8(1) << (rng.next() % 8)
                #expect(throws: TrieProofError.self) { try MerklePatriciaTrie.verifyProof(root: root, key: key, proof: bad) }
                checked += 1
            }
            // Drop the last node: the path continues at a hash that is not there.
            if proof.count > 1 {
                Self.expectError({ if case .missingNode(proof.count - 1, _) = $0 { true } else { false } }) {
                    try MerklePatriciaTrie.verifyProof(root: root, key: key, proof: Array(proof.dropLast()))
                }
            }
            // An extra node after the key's position.
            #expect(throws: TrieProofError.unusedNodes(index: proof.count, count: 1)) {
                try MerklePatriciaTrie.verifyProof(root: root, key: key, proof: proof + [proof[0]])
            }
            // The right proof under another root.
            Self.expectError({ if case .hashMismatch(0, _, _) = $0 { true } else { false } }) {
                try MerklePatriciaTrie.verifyProof(root: Keccak256.hash(key), key: key, proof: proof)
            }
        }
        #expect(checked > 80)
    }

    /// Hand-made nodes that hash correctly but are not trie nodes: each gives a typed error.
    @Test func malformedNodesGiveTypedErrors() {
        func verify(_ node: [UInt8], key: [UInt8] = [0x12]) throws(TrieProofError) -> [UInt8]? {
            try MerklePatriciaTrie.verifyProof(root: Keccak256.hash(node), key: key, proof: [node])
        }
        let malformedRLP: [(String, [UInt8])] = [
            ("empty", []),
            ("truncated list", [0xc5, 0x80]),
            ("a string, not a list", [0x01]),
            ("trailing byte", [0xc2, 0x80, 0x80, 0x00]),
            ("long-form length under 56", [0xf8, 0x02, 0x80, 0x80]),
        ]
        for (what, node) in malformedRLP {
            Self.expectError({ if case .malformedRLP(0, _) = $0 { true } else { false } }, "\(what)") { try verify(node) }
        }
        let branch: [UInt8] = [0xd3, 0x80, 0x82, 0x01, 0x02] + [UInt8](repeating: 0x80, count: 15)
        let bigChild: [UInt8] = [0xe0] + [UInt8](repeating: 0x80, count: 32)  // 33-byte list
        let bigPayload: [UInt8] = [0x80] + bigChild + [UInt8](repeating: 0x80, count: 15)
        let invalidNodes: [(String, [UInt8], [UInt8])] = [
            ("three items", [0xc3, 0x80, 0x80, 0x80], [0x12]),
            ("hex-prefix flag 4", [0xc2, 0x41, 0x01], [0x12]),
            ("hex-prefix padding not zero", [0xc2, 0x05, 0x01], [0x12]),
            ("path is a list", [0xc3, 0xc1, 0x80, 0x01], [0x12]),
            ("extension with an empty path", [0xc2, 0x00, 0x01], [0x12]),
            ("leaf with an empty value", [0xc2, 0x20, 0x80], []),
            ("leaf value is a list", [0xc2, 0x20, 0xc0], []),
            ("branch value is a list", [0xd1] + [UInt8](repeating: 0x80, count: 16) + [0xc0], []),
            ("extension child of 3 bytes", [0xc5, 0x11, 0x83, 0x01, 0x02, 0x03], [0x12]),
            ("branch child of 2 bytes", branch, [0x12]),
            ("inline child of 33 bytes", [0xc0 + UInt8(bigPayload.count)] + bigPayload, [0x12]),
            ("eighteen items", [0xd2] + [UInt8](repeating: 0x80, count: 18), [0x12]),
        ]
        for (what, node, key) in invalidNodes {
            Self.expectError({ if case .invalidNode(0, _) = $0 { true } else { false } }, "\(what)") { try verify(node, key: key) }
        }
    }

    /// Random bytes in random places: verification never crashes, and a proof it accepts is
    /// one whose every node hashes to its reference.
    @Test func fuzzedProofsNeverCrash() {
        var rng = SplitMix64(seed: 99)
        var (trie, model) = Self.randomTrie(seed: 98, count: 200)
        let root = trie.rootHash
        let keys = Array(model.keys)
        for _ in 0..<2000 {
            let key = keys[Int(rng.next() % UInt64(keys.count))]
            var proof = trie.proof(forKey: key)
            switch rng.next() % 4 {
            case 0:  // random node, with the root made to match it
                let junk = rng.bytes(Int(rng.next() % 80))
                _ = try? MerklePatriciaTrie.verifyProof(root: Keccak256.hash(junk), key: key, proof: [junk])
            case 1:  // truncate a node
                let i = Int(rng.next() % UInt64(proof.count))
                proof[i] = Array(proof[i].prefix(Int(rng.next() % UInt64(proof[i].count))))
                #expect(throws: TrieProofError.self) { try MerklePatriciaTrie.verifyProof(root: root, key: key, proof: proof) }
            case 2:  // shuffle
                let shuffled = proof.shuffled(using: &rng)
                if shuffled != proof {
                    #expect(throws: TrieProofError.self) { try MerklePatriciaTrie.verifyProof(root: root, key: key, proof: shuffled) }
                }
            default:  // wrong key: a valid proof of something else proves nothing wrong about `other`
                let other = keys[Int(rng.next() % UInt64(keys.count))]
                do {
                    let value = try MerklePatriciaTrie.verifyProof(root: root, key: other, proof: proof)
                    #expect(value == model[other], "a proof for \(key) answered wrongly for \(other)")
                } catch {}
            }
        }
    }
}
