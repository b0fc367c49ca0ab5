import Testing
import KramaaConsensus
import KramaaPrimitives

@Suite struct CertificateTests {
    let f = Fixture()
    let a = Fixture.block("A")

    func certificate(by signers: [PrivateKeySigner], hash: Bytes32? = nil, chainId: UInt64 = Fixture.chainId) -> CommitCertificate {
        let h = hash ?? a.hash
        return CommitCertificate(height: 3, round: 1, blockHash: h, precommits: signers.map {
            CommitSignature(validator: $0.address, signature: f.vote(.precommit, h, by: $0, height: 3, round: 1, chainId: chainId).signature)
        })
    }

    @Test func precommitsOfMoreThanTwoThirdsVerify() throws {
        try certificate(by: Array(f.signers.prefix(3))).verify(against: f.set, chainId: Fixture.chainId)
        try certificate(by: f.signers).verify(against: f.set, chainId: Fixture.chainId)
    }

    @Test func twoThirdsOrLessIsTooLittlePower() {
        #expect(throws: CertificateError.insufficientPower(signed: 20, total: 40)) {
            try certificate(by: Array(f.signers.prefix(2))).verify(against: f.set, chainId: Fixture.chainId)
        }
        #expect(throws: CertificateError.insufficientPower(signed: 0, total: 40)) {
            try certificate(by: []).verify(against: f.set, chainId: Fixture.chainId)
        }
        // Exactly 2/3 is not enough: 3 validators of power 10 and one of 30 → 30 of 60... use 2+1 of 3 equal.
        let three = Fixture(validators: 3)
        let c = CommitCertificate(height: 3, round: 1, blockHash: a.hash, precommits: three.signers.prefix(2).map {
            CommitSignature(validator: $0.address, signature: three.vote(.precommit, a.hash, by: $0, height: 3, round: 1).signature)
        })
        #expect(throws: CertificateError.insufficientPower(signed: 20, total: 30)) {
            try c.verify(against: three.set, chainId: Fixture.chainId)
        }
    }

    @Test func aDuplicateSignerIsRefused() {
        let c = certificate(by: [f.signers[0], f.signers[1], f.signers[1]])
        #expect(throws: CertificateError.duplicateSigner(f.signers[1].address)) {
            try c.verify(against: f.set, chainId: Fixture.chainId)
        }
    }

    @Test func anOutsiderIsRefused() {
        let c = certificate(by: Array(f.signers.prefix(3)) + [f.outsider])
        #expect(throws: CertificateError.unknownValidator(f.outsider.address)) {
            try c.verify(against: f.set, chainId: Fixture.chainId)
        }
    }

    @Test func signaturesOfAnotherChainDoNotVerify() {
        let c = certificate(by: Array(f.signers.prefix(3)), chainId: 8)
        #expect(throws: CertificateError.badSignature(f.signers[0].address)) {
            try c.verify(against: f.set, chainId: Fixture.chainId)
        }
    }

    @Test func aTamperedHashOrRoundDoesNotVerify() {
        let good = certificate(by: Array(f.signers.prefix(3)))
        let tampered = CommitCertificate(height: 3, round: 1, blockHash: Fixture.block("B").hash, precommits: good.precommits)
        #expect(throws: CertificateError.badSignature(f.signers[0].address)) {
            try tampered.verify(against: f.set, chainId: Fixture.chainId)
        }
        let otherRound = CommitCertificate(height: 3, round: 2, blockHash: good.blockHash, precommits: good.precommits)
        #expect(throws: CertificateError.badSignature(f.signers[0].address)) {
            try otherRound.verify(against: f.set, chainId: Fixture.chainId)
        }
        let swapped = CommitCertificate(height: 3, round: 1, blockHash: good.blockHash, precommits: [
            CommitSignature(validator: f.signers[0].address, signature: good.precommits[1].signature),
        ] + good.precommits.dropFirst())
        #expect(throws: CertificateError.badSignature(f.signers[0].address)) {
            try swapped.verify(against: f.set, chainId: Fixture.chainId)
        }
    }

    @Test func aCertificateVerifiesOnlyAgainstItsHeightsValidatorSet() {
        let other = Fixture(validators: 4, power: 10)
        let c = certificate(by: Array(f.signers.prefix(3)))
        let newSet = try! ValidatorSet(Array(f.set.validators.dropFirst(2)) + [Validator(address: f.outsider.address, power: 10)])
        #expect(throws: CertificateError.unknownValidator(f.signers[0].address)) {
            try c.verify(against: newSet, chainId: Fixture.chainId)
        }
        _ = other
    }

    @Test func aCertificateRoundTripsThroughRLP() throws {
        let c = certificate(by: f.signers)
        #expect(try CommitCertificate(rlp: c.encoded) == c)
        try CommitCertificate(rlp: c.encoded).verify(against: f.set, chainId: Fixture.chainId)
    }
}
