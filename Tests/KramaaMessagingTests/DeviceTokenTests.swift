import KramaaMessaging
import KramaaPrimitives
import Testing

/// MQTT device tokens and the signed challenge of MQTT 5 enhanced authentication.
@Suite struct DeviceTokenTests {
    static let chain: UInt64 = 1337
    static let now: UInt64 = 1_750_000_000

    @Test(arguments: KeyType.allCases)
    func aTokenRoundTripsAsTextAndVerifiesAgainstTheRegisteredKey(type: KeyType) throws {
        let key = SigningKey(generating: type)
        let device = key.publicKey.address
        let token = DeviceToken.make(key: key, device: device, chainId: Self.chain, ttl: 600, now: Self.now)
        #expect(token.text.hasPrefix("kmt1.") && token.text.count == 199)
        let parsed = try DeviceToken.parse(token.text)
        #expect(parsed == token)
        #expect(parsed.issuedAt == Self.now && parsed.expiresAt == Self.now + 600 && parsed.key == device)
        try parsed.verify(device: device, chainId: Self.chain, registeredKey: key.publicKey, now: Self.now + 10, maximumTTL: 3600)
    }

    @Test func eachRefusalSaysWhatWasWrong() throws {
        let key = SigningKey(generating: .p256), other = SigningKey(generating: .ed25519)
        let device = key.publicKey.address
        let token = DeviceToken.make(key: key, device: device, chainId: Self.chain, ttl: 600, now: Self.now)
        func verify(_ t: DeviceToken = token, device d: Address = device, chain: UInt64 = Self.chain, key k: PublicKey = key.publicKey,
                    now: UInt64 = Self.now, maximumTTL: UInt64 = 3600) throws(DeviceTokenError) {
            try t.verify(device: d, chainId: chain, registeredKey: k, now: now, maximumTTL: maximumTTL)
        }
        #expect(throws: DeviceTokenError.wrongChain(expected: 1, token: Self.chain)) { try verify(chain: 1) }
        #expect(throws: DeviceTokenError.wrongDevice(expected: other.publicKey.address, token: device)) { try verify(device: other.publicKey.address) }
        #expect(throws: DeviceTokenError.keyNotTheDevices(token: device, registered: other.publicKey.address)) { try verify(key: other.publicKey) }
        #expect(throws: DeviceTokenError.expired(expiresAt: Self.now + 600, now: Self.now + 600)) { try verify(now: Self.now + 600) }
        #expect(throws: DeviceTokenError.notYetValid(issuedAt: Self.now, now: Self.now - 31)) { try verify(now: Self.now - 31) }
        try verify(now: Self.now - 30)  // within the default clock skew
        #expect(throws: DeviceTokenError.ttlTooLong(ttl: 600, maximum: 300)) { try verify(maximumTTL: 300) }
        // Any changed byte breaks the signature; a token signed by another key under this key's address too.
        var altered = token
        altered.expiresAt += 1
        #expect(throws: DeviceTokenError.badSignature) { try verify(altered) }
        var forged = DeviceToken.make(key: other, device: device, chainId: Self.chain, ttl: 600, now: Self.now)
        forged.key = device
        #expect(throws: DeviceTokenError.badSignature) { try verify(forged) }
    }

    @Test func malformedTextIsRefusedWithTheReason() throws {
        let token = DeviceToken.make(key: SigningKey(generating: .secp256k1), device: .zero, chainId: 1, ttl: 60, now: Self.now)
        let body = String(token.text.dropFirst(5))
        let cases: [(String, String)] = [
            ("kmt2." + body, "it does not start with kmt1."),
            ("kmt1." + body + "=", "the part after kmt1. is not canonical unpadded base64url"),
            ("kmt1." + Base64URL.encode(Array(token.bytes.dropLast(3))), "it holds 142 bytes, a token has 145"),
            ("kmt1." + Base64URL.encode([2] + Array(token.bytes.dropFirst())), "version 2 is not 1"),
        ]
        for (text, reason) in cases {
            #expect(throws: DeviceTokenError.malformed(reason)) { try DeviceToken.parse(text) }
        }
        var backwards = token.bytes
        backwards.replaceSubrange(57..<65, with: [UInt8](repeating: 0, count: 8))
        #expect(throws: DeviceTokenError.self) { try DeviceToken.parse("kmt1." + Base64URL.encode(backwards)) }
    }

    @Test func theSignedMessageIsDomainSeparatedAndBoundToTheChain() {
        let key = SigningKey(generating: .ed25519)
        let token = DeviceToken.make(key: key, device: key.publicKey.address, chainId: 7, ttl: 60, now: Self.now, nonce: [UInt8](repeating: 9, count: 16))
        #expect(token.signedMessage.starts(with: [0x19] + Array("kramaa:mqtt-token".utf8) + [0, 0, 0, 0, 0, 0, 0, 0, 7]))
        // The same fields under the challenge domain are another message.
        #expect(SigningDomain.mqttChallenge.message(chainId: 7, []) != SigningDomain.mqttToken.message(chainId: 7, []))
        #expect(Set(SigningDomain.allCases.map { $0.prefix(chainId: 7) }).count == SigningDomain.allCases.count)
    }

    @Test(arguments: KeyType.allCases)
    func aSignedChallengeAuthenticatesOnlyThatChallengeDeviceAndChain(type: KeyType) throws {
        let key = SigningKey(generating: type)
        let hello = DeviceChallenge.Hello(device: key.publicKey.address, key: key.publicKey.address)
        #expect(try DeviceChallenge.Hello(parsing: hello.bytes) == hello)
        let challenge = DeviceChallenge.newChallenge()
        #expect(challenge.count == 32 && challenge != DeviceChallenge.newChallenge())
        let answer = DeviceChallenge.respond(to: challenge, key: key, device: hello.device, chainId: Self.chain)
        try DeviceChallenge.verify(response: answer, to: challenge, hello: hello, chainId: Self.chain, registeredKey: key.publicKey)
        #expect(throws: DeviceChallengeError.badSignature) {
            try DeviceChallenge.verify(response: answer, to: DeviceChallenge.newChallenge(), hello: hello, chainId: Self.chain, registeredKey: key.publicKey)
        }
        #expect(throws: DeviceChallengeError.badSignature) {
            try DeviceChallenge.verify(response: answer, to: challenge, hello: hello, chainId: 1, registeredKey: key.publicKey)
        }
        let other = SigningKey(generating: type).publicKey
        #expect(throws: DeviceChallengeError.keyNotTheDevices(hello: hello.key, registered: other.address)) {
            try DeviceChallenge.verify(response: answer, to: challenge, hello: hello, chainId: Self.chain, registeredKey: other)
        }
        #expect(throws: DeviceChallengeError.malformedResponse(length: 63)) {
            try DeviceChallenge.verify(response: Array(answer.dropLast()), to: challenge, hello: hello, chainId: Self.chain, registeredKey: key.publicKey)
        }
        #expect(throws: DeviceChallengeError.malformedHello("version 2 is not 1")) { try DeviceChallenge.Hello(parsing: [2] + Array(hello.bytes.dropFirst())) }
        #expect(throws: DeviceChallengeError.malformedHello("40 bytes, a hello has 41")) { try DeviceChallenge.Hello(parsing: Array(hello.bytes.dropLast())) }
    }
}
