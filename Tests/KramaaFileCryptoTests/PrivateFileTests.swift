import KramaaFileCrypto
import KramaaMessaging
import Testing

@Suite struct PrivateFileTests {
    func sample(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) } }

    @Test(arguments: [0, 1, 1000, 4096, 4097, 3 * 4096, 10_000])
    func aFileSealedSegmentBySegmentOpensWholeAndByEveryRange(length: Int) throws {
        let plaintext = sample(length)
        let header = PrivateFileHeader(plaintextLength: UInt64(length), segmentSize: 4096)
        let cipher = try PrivateFileCipher(header: header, fileKey: PrivateFileCipher.newFileKey())
        let sealed = try cipher.sealAll(plaintext)
        #expect(UInt64(sealed.count) == header.ciphertextLength)
        #expect(try PrivateFileHeader(parsing: sealed) == header)
        for range in [0..<length, 0..<min(1, length), length / 2..<length, max(0, length - 5000)..<max(0, length - 3)] where !range.isEmpty {
            let r = UInt64(range.lowerBound)..<UInt64(range.upperBound)
            let span = try header.segments(covering: r).ciphertext
            #expect(try cipher.open(range: r, from: Array(sealed[Int(span.lowerBound)..<Int(span.upperBound)])) == Array(plaintext[range]))
        }
    }

    @Test func alteredReorderedTruncatedOrForeignSegmentsAreRefused() throws {
        let plaintext = sample(10_000)
        let header = PrivateFileHeader(plaintextLength: 10_000, segmentSize: 4096)
        let key = PrivateFileCipher.newFileKey()
        let cipher = try PrivateFileCipher(header: header, fileKey: key)
        let sealed = try cipher.sealAll(plaintext)
        let seg = { (i: UInt64) in Array(sealed[Int(header.ciphertextOffset(ofSegment: i))..<Int(header.ciphertextOffset(ofSegment: i)) + header.plaintextLength(ofSegment: i) + 16]) }
        var altered = seg(1)
        altered[10] ^= 1
        #expect(throws: FileCryptoError.segmentNotAuthentic(index: 1)) { try cipher.open(segment: altered, index: 1) }
        #expect(throws: FileCryptoError.segmentNotAuthentic(index: 0)) { try cipher.open(segment: seg(1), index: 0) }  // moved
        // A file cut after a full segment: that segment was sealed as not the last.
        let shorter = PrivateFileHeader(plaintextLength: 8192, segmentSize: 4096, noncePrefix: header.noncePrefix)
        #expect(throws: FileCryptoError.self) { try PrivateFileCipher(header: shorter, fileKey: key).open(segment: seg(1), index: 1) }
        // Another file's header (another nonce prefix) or another key.
        let other = try PrivateFileCipher(header: PrivateFileHeader(plaintextLength: 10_000, segmentSize: 4096), fileKey: key)
        #expect(throws: FileCryptoError.self) { try other.open(segment: seg(0), index: 0) }
        let wrongKey = try PrivateFileCipher(header: header, fileKey: PrivateFileCipher.newFileKey())
        #expect(throws: FileCryptoError.segmentNotAuthentic(index: 0)) { try wrongKey.open(segment: seg(0), index: 0) }
        #expect(throws: FileCryptoError.self) { try PrivateFileHeader(parsing: Array("not a private file at all".utf8)) }
        #expect(throws: FileCryptoError.self) { try header.segments(covering: 9_000..<10_001) }
    }

    @Test(arguments: AgreementKeyType.allCases)
    func aWrappedFileKeyOpensOnlyForItsReaderAndItsFile(type: AgreementKeyType) throws {
        let reader = AgreementPrivateKey(generating: type), stranger = AgreementPrivateKey(generating: type)
        let header = PrivateFileHeader(plaintextLength: 5)
        let key = PrivateFileCipher.newFileKey()
        let wrapped = try FileKeyWrap.wrap(key, for: reader.publicKey, header: header)
        #expect(try FileKeyWrap.unwrap(wrapped, with: reader, header: header) == key)
        #expect(throws: FileCryptoError.self) { try FileKeyWrap.unwrap(wrapped, with: stranger, header: header) }
        #expect(throws: FileCryptoError.self) { try FileKeyWrap.unwrap(wrapped, with: reader, header: PrivateFileHeader(plaintextLength: 5)) }
        var bent = wrapped
        bent[bent.count - 1] ^= 1
        #expect(throws: FileCryptoError.self) { try FileKeyWrap.unwrap(bent, with: reader, header: header) }
    }
}
