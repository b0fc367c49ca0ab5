import Crypto
import Foundation
@testable import KramaaNetwork
import KramaaPrimitives
import NIOCore
import NIOEmbedded
import SwiftASN1
import Testing
import X509

@Suite struct IdentityCertificateTests {
    @Test func certificateBindsTheNodeAddress() throws {
        let key = nodeKey(0)
        let identity = try NodeIdentity(nodeKey: key)
        #expect(try IdentityCertificate.verify(identity.certificateDER) == key.publicKey.address)
        // Self-signed, TLS key P-256, extension critical.
        let certificate = try Certificate(derEncoded: identity.certificateDER)
        #expect(certificate.issuer == certificate.subject)
        #expect(P256.Signing.PublicKey(certificate.publicKey) != nil)
        #expect(certificate.extensions[oid: IdentityCertificate.extensionOID]?.critical == true)
        #expect("\(IdentityCertificate.extensionOID)" == "1.3.6.1.4.1.4242424.1.1")
    }

    @Test func forgedBindingIsRefused() throws {
        // Node 1's genuine extension (a signature over its own TLS key) moved into a certificate
        // for another TLS key: the signature does not cover this SubjectPublicKeyInfo.
        let genuine = try Certificate(derEncoded: NodeIdentity(nodeKey: nodeKey(1)).certificateDER)
        let stolen = Array(genuine.extensions[oid: IdentityCertificate.extensionOID]!.value)
        let forged = try IdentityCertificate.make(nodeKey: nodeKey(2), tlsKey: P256.Signing.PrivateKey(),
                                                  notValidBefore: Date() - 60, notValidAfter: Date() + 3600,
                                                  extensionValueOverride: stolen)
        #expect(throws: IdentityError.bindingSignatureInvalid) { try IdentityCertificate.verify(forged) }
    }

    @Test func tamperedAndMissingExtensionsAreRefused() throws {
        let tlsKey = P256.Signing.PrivateKey()
        let spki = try IdentityCertificate.spkiDER(Certificate.PublicKey(tlsKey.publicKey))
        var value = try IdentityCertificate.binding(nodeKey: nodeKey(3), spki: spki)
        value[value.count - 10] ^= 1   // inside the signature
        let tampered = try IdentityCertificate.make(nodeKey: nodeKey(3), tlsKey: tlsKey, notValidBefore: Date() - 60,
                                                    notValidAfter: Date() + 3600, extensionValueOverride: value)
        #expect(throws: IdentityError.self) { try IdentityCertificate.verify(tampered) }
        // Claims node 4's key but is signed by node 3.
        let signature = nodeKey(3).sign(digest: IdentityCertificate.bindingDigest(subjectPublicKeyInfoDER: spki))
        let impostor = try IdentityCertificate.extensionValue(publicKey: nodeKey(4).publicKey.compressedRepresentation,
                                                              signature: signature.rawRepresentation)
        let claimed = try IdentityCertificate.make(nodeKey: nodeKey(4), tlsKey: tlsKey, notValidBefore: Date() - 60,
                                                   notValidAfter: Date() + 3600, extensionValueOverride: impostor)
        #expect(throws: IdentityError.bindingSignatureInvalid) { try IdentityCertificate.verify(claimed) }
        let garbage = try IdentityCertificate.make(nodeKey: nodeKey(3), tlsKey: tlsKey, notValidBefore: Date() - 60,
                                                   notValidAfter: Date() + 3600, extensionValueOverride: [0x30, 0x00])
        #expect(throws: IdentityError.self) { try IdentityCertificate.verify(garbage) }
    }

    @Test func validityPeriodIsEnforced() throws {
        let now = Date()
        let expired = try IdentityCertificate.make(nodeKey: nodeKey(5), tlsKey: P256.Signing.PrivateKey(),
                                                   notValidBefore: now - 7200, notValidAfter: now - 3600)
        #expect(throws: IdentityError.expired) { try IdentityCertificate.verify(expired, now: now) }
        let future = try IdentityCertificate.make(nodeKey: nodeKey(5), tlsKey: P256.Signing.PrivateKey(),
                                                  notValidBefore: now + 3600, notValidAfter: now + 7200)
        #expect(throws: IdentityError.notYetValid) { try IdentityCertificate.verify(future, now: now) }
        #expect(try IdentityCertificate.verify(future, now: now + 5000) == nodeKey(5).publicKey.address)
    }

    @Test func badSelfSignatureIsRefused() throws {
        var der = try NodeIdentity(nodeKey: nodeKey(6)).certificateDER
        der[der.count - 5] ^= 0x01   // inside the certificate's ECDSA signature
        #expect(throws: IdentityError.self) { try IdentityCertificate.verify(der) }
        let certificate = try? Certificate(derEncoded: der)
        if certificate != nil {
            #expect(throws: IdentityError.badSelfSignature) { try IdentityCertificate.verify(der) }
        }
    }
}

@Suite struct FrameCodecTests {
    /// Random frames, encoded back to back, fed to the decoder in random pieces: the same frames
    /// come out, whatever the split.
    @Test func decoderAgainstRandomSplits() throws {
        var rng = SplitMix64(seed: 0x5EED)
        for round in 0..<200 {
            let frames = (0..<Int(rng.next() % 12)).map { _ in
                let size = rng.next() % 4 == 0 ? Int(rng.next() % 3000) : Int(rng.next() % 40)
                return Frame(type: UInt8(truncatingIfNeeded: rng.next()),
                             payload: (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            }
            let stream = frames.flatMap(\.encoded)
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: 4096)))
            var offset = 0
            while offset < stream.count {
                let piece = round % 5 == 0 ? 1 : 1 + Int(rng.next() % UInt64(min(64, stream.count - offset)))
                let end = min(stream.count, offset + piece)
                try channel.writeInbound(ByteBuffer(bytes: stream[offset..<end]))
                offset = end
            }
            var decoded: [Frame] = []
            while let frame = try channel.readInbound(as: Frame.self) { decoded.append(frame) }
            #expect(decoded == frames, "round \(round)")
            _ = try channel.finish()
        }
    }

    @Test func oversizedFrameIsRefusedFromItsLengthAlone() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1000)))
        try channel.writeInbound(ByteBuffer(bytes: Frame(type: 1, payload: [UInt8](repeating: 7, count: 999)).encoded))
        #expect(try channel.readInbound(as: Frame.self)?.payload.count == 999)
        // Only the 4 length bytes of a 1001-byte frame: refused at once.
        #expect(throws: FrameError.frameTooLarge(length: 1001, limit: 1000)) {
            try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0x03, 0xE9]))
        }
        let empty = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1000)))
        #expect(throws: FrameError.emptyFrame) { try empty.writeInbound(ByteBuffer(bytes: [0, 0, 0, 0, 9])) }
    }

    @Test func helloRoundTrip() throws {
        let hello = Hello(protocolVersion: 1, chainId: 0x0102_0304_0506_0708, listenPort: 30303)
        #expect(hello.frame.encoded == [0, 0, 0, 13, 0xF0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0x76, 0x5F])
        #expect(Hello(payload: hello.payload) == hello)
        #expect(Hello(payload: Array(hello.payload.dropLast())) == nil)
    }
}

@Suite struct BackoffAndLRUTests {
    @Test func backoffGrowsExponentiallyWithJitterAndIsCapped() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2), multiplier: 2, jitter: 0.5)
        #expect(backoff.delay(attempt: 0, random: 0) == .milliseconds(100))
        #expect(backoff.delay(attempt: 3, random: 0) == .milliseconds(800))
        #expect(backoff.delay(attempt: 3, random: 0.999_999) > .milliseconds(400))
        #expect(backoff.delay(attempt: 3, random: 0.5) == .milliseconds(600))
        #expect(backoff.delay(attempt: 10, random: 0) == .seconds(2))
        #expect(backoff.delay(attempt: 1000, random: 0) == .seconds(2))
        for attempt in 0..<20 {
            let d = backoff.delay(attempt: attempt)
            #expect(d >= .milliseconds(50) && d <= .seconds(2))
        }
    }

    @Test func lruKeepsTheMostRecentlyUsed() {
        var set = LRUSet(capacity: 3)
        let h = (0..<5).map { Keccak256.hash([UInt8($0)]) }
        let fresh = [set.insert(h[0]), set.insert(h[1]), set.insert(h[2]), set.insert(h[0]), set.insert(h[3])]
        #expect(fresh == [true, true, true, false, true])   // h[0] seen again: now the most recent; h[3] evicts h[1]
        #expect(set.contains(h[0]) && !set.contains(h[1]) && set.contains(h[2]) && set.contains(h[3]))
        let touched = [set.touch(h[2]), set.touch(h[4])]
        #expect(touched == [true, false])
        let inserted = set.insert(h[4])     // evicts h[0]
        #expect(inserted)
        #expect(!set.contains(h[0]) && set.count == 3)
        // Many touches of live entries keep the bookkeeping bounded and the contents right.
        for _ in 0..<10_000 { _ = set.touch(h[3]) }
        #expect(set.count == 3 && set.contains(h[2]) && set.contains(h[3]) && set.contains(h[4]))
    }
}
