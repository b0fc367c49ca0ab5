import KramaaMessaging
import KramaaPrimitives
import Testing

@Suite struct DeliveryMerkleTreeTests {
    func leaves(_ n: Int) -> [Bytes32] { (0..<n).map { Keccak256.hash([UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)]) } }

    @Test func everyLeafsProofLeadsToTheRootForEveryTreeSize() {
        for n in 1...33 {
            let tree = DeliveryMerkleTree(leaves: leaves(n))
            for i in 0..<n {
                #expect(DeliveryMerkleTree.root(of: tree.leaves[i], proof: tree.proof(of: i)) == tree.root, "n=\(n) i=\(i)")
            }
        }
    }

    @Test func theRootIsThePairwiseKeccakWithTheOddLeafCarriedUp() {
        let l = leaves(3)
        let left = Keccak256.hash(l[0].bytes + l[1].bytes)
        #expect(DeliveryMerkleTree(leaves: l).root == Keccak256.hash(left.bytes + l[2].bytes))
        #expect(DeliveryMerkleTree(leaves: [l[0]]).root == l[0])
    }

    @Test func aChangedLeafOrSiblingOrSideLeadsElsewhere() {
        let tree = DeliveryMerkleTree(leaves: leaves(8))
        var proof = tree.proof(of: 5)
        #expect(DeliveryMerkleTree.root(of: tree.leaves[4], proof: proof) != tree.root)
        proof[1].siblingIsLeft.toggle()
        #expect(DeliveryMerkleTree.root(of: tree.leaves[5], proof: proof) != tree.root)
    }
}
