import KramaaChain
import KramaaPrimitives
import Testing

/// Device transactions (type 0x4b): codec, signing, signature and sponsorship checks.
/// Execution, fees and the pool are in DeviceTransactionExecutionTests.
@Suite struct DeviceTransactionTests {
    typealias F = ChainFixtures
    static let p256 = SigningKey.p256(try! Secp256r1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [7]))
    static let ed25519 = SigningKey.ed25519(try! Ed25519.PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: 32)))
    static let sponsorKey = F.keys[2]
    static let to = Address(word: UInt256(0xbeef))

    /// An unsigned device transaction of `key`, sponsored by `sponsor` when given.
    static func unsigned(_ key: SigningKey, nonce: UInt64 = 0, sponsor: Address? = nil, chainId: UInt64 = F.chainId,
                         value: UInt64 = 0, gas: UInt64 = 60_000) throws -> Transaction {
        try Transaction.device(
            publicKey: key.publicKey, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: UInt256(1_000_000_000),
            maxFeePerGas: UInt256(10_000_000_000), gasLimit: gas, to: to, value: UInt256(value), data: [0, 1, 2],
            accessList: [AccessListEntry(address: to, storageKeys: [.zero])], sponsor: sponsor)
    }

    /// A signed device transaction; with `sponsored`, signed by `sponsorKey` too.
    static func signed(_ key: SigningKey, nonce: UInt64 = 0, sponsored: Bool = false, chainId: UInt64 = F.chainId,
                       value: UInt64 = 0, gas: UInt64 = 60_000) throws -> Transaction {
        let tx = try unsigned(key, nonce: nonce, sponsor: sponsored ? sponsorKey.publicKey.address : nil, chainId: chainId,
                              value: value, gas: gas).signedAsDevice(with: key)
        return sponsored ? try tx.sponsored(with: sponsorKey) : tx
    }

    /// Replaces the RLP list of a device transaction's envelope by `fields`, re-encoded.
    static func reencode(_ fields: [RLPItem]) -> [UInt8] {
        var w = RLPWriter()
        w.append(.list(fields))
        return [0x4b] + w.bytes
    }

    static func fields(_ tx: Transaction) throws -> [RLPItem] {
        var reader = RLPReader(Array(tx.encoded.dropFirst()))
        guard case .list(let items) = try reader.readItem() else { throw RLPError.expectedList(at: 0) }
        return items
    }

    @Test(arguments: [p256, ed25519], [false, true])
    func roundTripsAndRecoversTheDeviceAddress(_ key: SigningKey, sponsored: Bool) throws {
        let tx = try Self.signed(key, sponsored: sponsored)
        #expect(tx.encoded.first == 0x4b)
        let decoded = try Transaction.decode(tx.encoded)
        #expect(decoded == tx)
        #expect(decoded.hash == tx.hash)
        #expect(try decoded.validatedSender(chainId: F.chainId) == key.publicKey.address)
        #expect(decoded.sponsor == (sponsored ? Self.sponsorKey.publicKey.address : nil))
        #expect(decoded.gasPayer(sender: key.publicKey.address) == (sponsored ? Self.sponsorKey.publicKey.address : key.publicKey.address))
        #expect(try decoded.device?.address() == key.publicKey.address)
        // The block body form keeps it too.
        #expect(try Block.decodeBody(Block(header: BlockHeader(parentHash: .zero, coinbase: .zero, stateRoot: .zero, number: 1,
                                                               gasLimit: 1, timestamp: 1, baseFeePerGas: .zero),
                                           transactions: [tx]).encodedBody) == [tx])
    }

    /// The example of docs/DEVICE-TRANSACTIONS.md, whose bytes tests/python/device_tx.py computes
    /// independently (cryptography, rlp, eth_keys): both signatures are deterministic.
    @Test func reproducesTheDocumentedExample() throws {
        let device = SigningKey.ed25519(try Ed25519.PrivateKey(rawRepresentation: (0..<32).map { UInt8($0) }))
        let sponsorKey = try Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [1])
        let tx = try Transaction.device(
            publicKey: device.publicKey, chainId: 1337, nonce: 0, maxPriorityFeePerGas: UInt256(1_000_000_000),
            maxFeePerGas: UInt256(3_000_000_000), gasLimit: 100_000, to: try Address(hex: "0x" + String(repeating: "42", count: 20)),
            data: [0xc0, 0xff, 0xee], sponsor: sponsorKey.publicKey.address
        ).signedAsDevice(with: device).sponsored(with: sponsorKey)
        #expect(tx.signingHash.description == "0xc0c2e59a9e38d0f2ba73358ef3838a6308a9fa6aa5d416cfadb208105d54c65a")
        #expect(tx.sponsorHash.description == "0x3eab3e06632e1834fbf5b0eecf89ef856b109489ded8a0c247b186acdaafbcac")
        let raw = "0x4bf8e982053980843b9aca0084b2d05e00830186a09442424242424242424242424242424242424242428083c0ffeec0"
            + "03a003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
            + "947e5f4552091a69125d5dfcb7b8c2659029395bdf"
            + "b84098ddfc55bd9b07b3f2187440c01394c99d43e45df77703674c7cc180ab1f90c508b4a89ee966592549cfbeb17d5e74d8818180068aa1b15fbb121d751a17c003"
            + "01a034f4fc9de02b92209056ed4b815963c37938a7b326dbf79f9ca36c1a3db1eeb1a068bc3c908487a6534ebee6a7f6c5f0a85040b2e82dc8b5575cd111630b6f5fff"
        #expect(Hex.encode(tx.encoded) == raw)
        #expect(tx.hash.description == "0xa48aca488bfe1a86bd4b9f3cfe382b91d6eaf4f1f22276f7b5406ebdd8fa9bcb")
        #expect(try Transaction.decode(Hex.decode(raw)).validatedSender(chainId: 1337)
                == (try Address(hex: "0xE85B623F5B86750F849A63Af6c52A881A1443c5B")))
        #expect(tx.intrinsicGas == 26_048)
    }

    @Test func anUncompressedP256KeyGivesTheSameAddress() throws {
        guard case .p256(let k) = Self.p256 else { Issue.record("not P-256"); return }
        var tx = try Self.unsigned(Self.p256)
        tx.device!.publicKey = k.publicKey.uncompressedRepresentation
        tx = try tx.signedAsDevice(with: Self.p256)
        let decoded = try Transaction.decode(tx.encoded)
        #expect(decoded.device?.publicKey.count == 65)
        #expect(try decoded.validatedSender(chainId: F.chainId) == Self.p256.publicKey.address)
    }

    @Test func theAddressIsKeccakOfTheMulticodecPrefixedCompressedKey() throws {
        guard case .p256(let k) = Self.p256 else { Issue.record("not P-256"); return }
        let p256Address = try Address(Keccak256.hash([0x80, 0x24] + k.publicKey.compressedRepresentation).bytes.suffix(20))
        #expect(try Self.signed(Self.p256).sender() == p256Address)
        guard case .ed25519(let e) = Self.ed25519 else { Issue.record("not Ed25519"); return }
        let edAddress = try Address(Keccak256.hash([0xed, 0x01] + e.publicKey.rawRepresentation).bytes.suffix(20))
        #expect(try Self.signed(Self.ed25519).sender() == edAddress)
    }

    @Test func signingHashAndSponsorHashCoverTheDocumentedBytes() throws {
        let tx = try Self.signed(Self.ed25519, sponsored: true)
        let items = try Self.fields(tx)
        var w = RLPWriter()
        w.append(.list(Array(items.prefix(12))))
        #expect(tx.signingHash == Keccak256.hash([0x4b] + w.bytes))
        #expect(tx.sponsorHash == Keccak256.hash([0x4b, 0x53] + tx.signingHash.bytes))
        // Ed25519 signs the 32-byte signing hash as its message.
        guard case .ed25519(let e) = Self.ed25519 else { return }
        #expect(e.publicKey.isValidSignature(tx.device!.signature, message: tx.signingHash.bytes))
    }

    @Test func intrinsicGasAddsTheVerificationSurcharges() throws {
        let base: UInt64 = 21_000 + 4 + 2 * 16 + 2_400 + 1_900  // data [0, 1, 2], one address and one key
        #expect(try Self.unsigned(Self.p256).intrinsicGas == base + 3_450)
        #expect(try Self.unsigned(Self.ed25519).intrinsicGas == base + 2_000)
        #expect(try Self.unsigned(Self.p256, sponsor: .zero).intrinsicGas == base + 3_450 + 3_000)
        let low = try Self.signed(Self.p256, gas: base + 3_449)
        #expect(throws: TransactionError.intrinsicGasTooLow(gasLimit: base + 3_449, intrinsic: base + 3_450)) {
            try low.validate(chainId: F.chainId)
        }
    }

    @Test func keyTypesAreWrittenWithTheDeviceRegistrysCodes() {
        for type in DeviceKeyType.allCases { #expect(type.rawValue == type.keyType.code, "\(type)") }
        #expect(DeviceKeyType.p256.rawValue == 2 && DeviceKeyType.ed25519.rawValue == 3)
    }

    @Test func refusesBadEncodingsWithTypedErrors() throws {
        let good = try Self.fields(try Self.signed(Self.p256, sponsored: true))
        func decoding(_ change: (inout [RLPItem]) -> Void) -> [UInt8] {
            var f = good
            change(&f)
            return Self.reencode(f)
        }
        let cases: [([UInt8], TransactionError)] = [
            (decoding { $0.removeLast() }, .wrongFieldCount(type: .device, expected: 16, actual: 15)),
            (decoding { $0.append(.bytes([])) }, .wrongFieldCount(type: .device, expected: 16, actual: 17)),
            (decoding { $0[9] = .bytes([4]) }, .device(.unknownKeyType(4))),
            (decoding { $0[9] = .bytes([1]) }, .device(.unknownKeyType(1))),  // secp256k1: ordinary transactions
            (decoding { $0[9] = .bytes([]) }, .device(.unknownKeyType(0))),
            (decoding { $0[9] = .bytes([0x01, 0x01]) }, .device(.unknownKeyType(257))),
            (decoding { $0[10] = .bytes([UInt8](repeating: 2, count: 32)) }, .device(.publicKeyLength(.p256, actual: 32))),
            (decoding { $0[9] = .bytes([3]) }, .device(.publicKeyLength(.ed25519, actual: 33))),
            (decoding { $0[11] = .bytes([UInt8](repeating: 1, count: 19)) }, .device(.sponsorLength(19))),
            (decoding { $0[12] = .bytes([UInt8](repeating: 1, count: 63)) }, .device(.signatureLength(63))),
            (decoding { $0[11] = .bytes([]) }, .device(.sponsorSignatureWithoutSponsor)),
            (decoding { $0[0] = .bytes([UInt8](repeating: 1, count: 9)) }, .fieldOverflow(field: "chainId")),
        ]
        for (raw, error) in cases {
            #expect(throws: error) { try Transaction.decode(raw) }
        }
        do {
            _ = try Transaction.decode(decoding { $0[12] = .list([]) })
            Issue.record("a list as the signature decoded")
        } catch {
            guard case .malformed(field: "signature", .expectedString) = error else { Issue.record("\(error)"); return }
        }
        // Trailing bytes after the list.
        #expect(throws: TransactionError.malformed(field: "envelope", .trailingBytes(at: Self.reencode(good).count - 1))) {
            try Transaction.decode(Self.reencode(good) + [0x00])
        }
        // Every error says what was wrong.
        for (_, error) in cases { #expect(!error.description.isEmpty) }
    }

    @Test(arguments: [p256, ed25519])
    func refusesATamperedOrForeignSignature(_ key: SigningKey) throws {
        let tx = try Self.signed(key)
        var tampered = tx
        tampered.device!.signature[5] ^= 0x01  // inside r (or R)
        #expect(throws: TransactionError.device(.invalidSignature)) { try tampered.validatedSender(chainId: F.chainId) }
        var changed = tx
        changed.nonce = 1  // the signature no longer covers the fields
        #expect(throws: TransactionError.device(.invalidSignature)) { try changed.sender() }
        // Signed by another key of the same type while naming this one.
        let other = SigningKey(generating: key.type)
        var foreign = try Self.unsigned(other).signedAsDevice(with: other)
        foreign.device!.publicKey = tx.device!.publicKey
        #expect(throws: TransactionError.device(.invalidSignature)) { try foreign.sender() }
        // The helper refuses to sign with a key that is not the transaction's.
        #expect(throws: TransactionError.device(.keyMismatch)) { try Self.unsigned(key).signedAsDevice(with: other) }
        #expect(throws: TransactionError.device(.unsupportedKeyType(.secp256k1))) {
            try Self.unsigned(key).signedAsDevice(with: .secp256k1(F.keys[0]))
        }
        #expect(throws: TransactionError.device(.unsupportedKeyType(.secp256k1))) {
            try Transaction.device(publicKey: .secp256k1(F.keys[0].publicKey), chainId: 1, nonce: 0, maxPriorityFeePerGas: .zero,
                                   maxFeePerGas: .zero, gasLimit: 30_000, to: nil)
        }
        #expect(throws: TransactionError.unsigned) { try Self.unsigned(key).sender() }
    }

    @Test func refusesPublicKeysThatAreNotCurvePoints() throws {
        let cases: [(SigningKey, [UInt8], KeyError)] = [
            (Self.p256, [0x05] + [UInt8](repeating: 1, count: 32), .badPointPrefix(.p256, 0x05)),
            (Self.p256, [0x04] + [UInt8](repeating: 0, count: 31) + [1] + [UInt8](repeating: 0, count: 31) + [1], .notOnCurve(.p256)),
            (Self.ed25519, [UInt8](repeating: 0xff, count: 32), .notOnCurve(.ed25519)),  // y ≥ p
        ]
        for (key, publicKey, error) in cases {
            var tx = try Self.signed(key)
            tx.device!.publicKey = publicKey
            #expect(throws: TransactionError.device(.invalidPublicKey(error))) {
                try Transaction.decode(tx.encoded).validatedSender(chainId: F.chainId)
            }
        }
    }

    @Test func refusesAWrongChainId() throws {
        let tx = try Self.signed(Self.p256, chainId: 5)
        #expect(throws: TransactionError.invalidChainId(expected: F.chainId, actual: 5)) { try tx.validatedSender(chainId: F.chainId) }
        #expect(try tx.validatedSender(chainId: 5) == Self.p256.publicKey.address)
    }

    @Test func refusesHighSP256SignaturesThatWouldOtherwiseVerify() throws {
        guard case .p256(let k) = Self.p256 else { Issue.record("not P-256"); return }
        let tx = try Self.signed(Self.p256)
        let low = try Secp256r1.Signature(rawRepresentation: tx.device!.signature)
        #expect(low.isLowS)
        let highS = (UInt256(Secp256r1.order) &- UInt256(low.s)).bytes32
        let high = try Secp256r1.Signature(r: low.r, s: highS)
        #expect(k.publicKey.isValidSignature(high, digest: tx.signingHash))  // valid ECDSA, refused by the rule
        var malleated = tx
        malleated.device!.signature = high.rawRepresentation
        #expect(throws: TransactionError.device(.highS)) { try malleated.validate(chainId: F.chainId) }
        #expect(throws: TransactionError.device(.highS)) { try malleated.sender() }
        #expect(throws: TransactionError.device(.highS)) { try Transaction.decode(malleated.encoded).sender() }
        var zero = tx
        zero.device!.signature = [UInt8](repeating: 0, count: 64)
        #expect(throws: TransactionError.device(.signatureOutOfRange)) { try zero.validate(chainId: F.chainId) }
    }

    @Test func refusesAnEd25519SignatureWithSNotBelowTheGroupOrder() throws {
        let tx = try Self.signed(Self.ed25519)
        // S + L (little-endian): the same point equation, refused by RFC 8032's S < L.
        var sum = [UInt8](repeating: 0, count: 32)
        let order = Array(DeviceRules.ed25519Order.bytes32.bytes.reversed())
        var carry = 0
        for i in 0..<32 {
            let v = Int(tx.device!.signature[32 + i]) + Int(order[i]) + carry
            sum[i] = UInt8(v & 0xff)
            carry = v >> 8
        }
        var malleated = tx
        malleated.device!.signature = Array(tx.device!.signature.prefix(32)) + sum
        #expect(throws: TransactionError.device(.signatureOutOfRange)) { try malleated.validate(chainId: F.chainId) }
        #expect(throws: TransactionError.device(.signatureOutOfRange)) { try malleated.sender() }
    }

    @Test func aSponsorSignatureCannotBeMovedToAnotherTransaction() throws {
        let sponsor = Self.sponsorKey.publicKey.address
        let first = try Self.signed(Self.p256, nonce: 0, sponsored: true)
        var second = try Self.signed(Self.p256, nonce: 1, sponsored: true)
        second.device!.sponsorSignature = first.device!.sponsorSignature
        let moved = try #require(try? Secp256k1.recoverAddress(
            digest: second.sponsorHash, r: first.device!.sponsorSignature!.r.bytes32, s: first.device!.sponsorSignature!.s.bytes32,
            recoveryId: UInt8(first.device!.sponsorSignature!.v.uint64Value!)))
        #expect(throws: TransactionError.device(.sponsorSignatureMismatch(sponsor: sponsor, signer: moved))) {
            try second.validatedSender(chainId: F.chainId)
        }
        // Nor to the same fields signed by another device.
        var otherDevice = try Self.signed(Self.ed25519, nonce: 0, sponsored: true)
        otherDevice.device!.sponsorSignature = first.device!.sponsorSignature
        #expect(throws: (any Error).self) { try otherDevice.sender() }
        #expect(otherDevice.sponsorHash != first.sponsorHash)
        // Removing the sponsor breaks the device signature: the device signed who pays.
        var stripped = first
        stripped.device!.sponsor = nil
        stripped.device!.sponsorSignature = nil
        #expect(throws: TransactionError.device(.invalidSignature)) { try stripped.sender() }
    }

    @Test func sponsorFieldsMustBeCompleteAndWellFormed() throws {
        let sponsor = Self.sponsorKey.publicKey.address
        let unsponsored = try Self.unsigned(Self.p256, sponsor: sponsor).signedAsDevice(with: Self.p256)
        #expect(throws: TransactionError.device(.sponsorUnsigned(sponsor))) { try unsponsored.validate(chainId: F.chainId) }
        #expect(throws: TransactionError.device(.sponsorUnsigned(sponsor))) { try Transaction.decode(unsponsored.encoded).sender() }
        var highS = try unsponsored.sponsored(with: Self.sponsorKey)
        highS.device!.sponsorSignature!.s = CancunRules.secp256k1N &- highS.device!.sponsorSignature!.s
        #expect(throws: TransactionError.device(.invalidSponsorSignatureValues)) { try highS.validate(chainId: F.chainId) }
        var badParity = try unsponsored.sponsored(with: Self.sponsorKey)
        badParity.device!.sponsorSignature!.v = UInt256(27)
        #expect(throws: TransactionError.device(.invalidSponsorSignatureValues)) { try badParity.sender() }
        #expect(throws: TransactionError.device(.sponsorKeyMismatch(sponsor: sponsor, key: F.addresses[0]))) {
            try unsponsored.sponsored(with: F.keys[0])
        }
        #expect(throws: TransactionError.device(.sponsorKeyMismatch(sponsor: nil, key: sponsor))) {
            try Self.signed(Self.p256).sponsored(with: Self.sponsorKey)
        }
        var orphan = try Self.signed(Self.p256)
        orphan.device!.sponsorSignature = try Self.signed(Self.p256, sponsored: true).device!.sponsorSignature
        #expect(throws: TransactionError.device(.sponsorSignatureWithoutSponsor)) { try orphan.validate(chainId: F.chainId) }
    }

    @Test func otherTypesAreEncodedAsBefore() throws {
        // A device field set on another type changes nothing of its encoding or checks.
        var tx = F.transfer(from: 0, nonce: 0)
        let before = tx.encoded
        tx.device = try Self.signed(Self.p256).device
        #expect(tx.encoded == before)
        #expect(tx.intrinsicGas == 21_000)
        #expect(try tx.validatedSender(chainId: F.chainId) == F.addresses[0])
    }
}
