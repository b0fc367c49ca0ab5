import KramaaEVM
import KramaaPrimitives

/// The key types a device transaction can be signed with, by their byte on the wire: the
/// numbers of ``KeyType/code`` (the device registry's), so one key type has one number.
public enum DeviceKeyType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// ECDSA on NIST P-256 over the 32-byte signing hash; public key SEC 1, 33 or 65 bytes.
    case p256 = 2
    /// Ed25519 (RFC 8032) of the 32-byte signing hash as the message; public key 32 bytes.
    case ed25519 = 3

    /// The device key type of a general key type; nil for secp256k1 (ordinary transactions).
    public init?(_ keyType: KeyType) {
        switch keyType {
        case .p256: self = .p256
        case .ed25519: self = .ed25519
        case .secp256k1: return nil
        }
    }

    public var keyType: KeyType { self == .p256 ? .p256 : .ed25519 }

    /// The public key lengths accepted on the wire.
    public var publicKeyLengths: [Int] { self == .p256 ? [33, 65] : [32] }

    /// Intrinsic gas charged for verifying the device signature (see ``DeviceRules``).
    public var verificationGas: UInt64 {
        self == .p256 ? DeviceRules.p256VerificationGas : DeviceRules.ed25519VerificationGas
    }

    public var description: String { keyType.rawValue }
}

/// Constants of device transactions (docs/DEVICE-TRANSACTIONS.md).
public enum DeviceRules {
    /// P-256 verification, priced as RIP-7212's P256VERIFY precompile.
    public static let p256VerificationGas = UInt64(Precompiles.signatureCheckGas(.p256))
    /// Ed25519 verification, priced as EIP-665's proposed ed25519 precompile.
    public static let ed25519VerificationGas = UInt64(Precompiles.signatureCheckGas(.ed25519))
    /// Recovering the sponsor's secp256k1 signature, priced as the ECRECOVER precompile.
    public static let sponsorRecoveryGas = UInt64(Precompiles.signatureCheckGas(.secp256k1))
    /// What the sponsor hash starts with: the type byte and 'S'. No Ethereum signing preimage
    /// starts so (typed ones start with their type, legacy ones with an RLP list byte, signed
    /// messages with 0x19), and the device's own preimage has an RLP list byte second.
    public static let sponsorHashPrefix: [UInt8] = [TransactionType.device.rawValue, 0x53]
    /// Ed25519's group order L = 2^252 + 27742317777372353535851937790883648493, big-endian.
    public static let ed25519Order = UInt256(try! Bytes32(hex: "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed"))
}

/// What a device transaction carries instead of a secp256k1 signature: the device's key and
/// signature, and optionally the sponsor that pays its gas with the sponsor's signature.
public struct DeviceAuthorization: Equatable, Hashable, Sendable {
    public var keyType: DeviceKeyType
    /// The public key as sent: P-256 SEC 1 compressed (33) or uncompressed (65), Ed25519 32 bytes.
    public var publicKey: [UInt8]
    /// 64 bytes (P-256 `r ‖ s` with low s, or Ed25519 `R ‖ S`); empty until signed.
    public var signature: [UInt8]
    /// The account that pays the gas; nil when the device pays.
    public var sponsor: Address?
    /// The sponsor's secp256k1 signature of ``Transaction/sponsorHash`` (`v` is the y parity).
    public var sponsorSignature: TransactionSignature?

    public init(keyType: DeviceKeyType, publicKey: [UInt8], signature: [UInt8] = [], sponsor: Address? = nil,
                sponsorSignature: TransactionSignature? = nil) {
        self.keyType = keyType
        self.publicKey = publicKey
        self.signature = signature
        self.sponsor = sponsor
        self.sponsorSignature = sponsorSignature
    }

    /// The device's public key, parsed (the point must be on the curve).
    public func parsedPublicKey() throws(TransactionError) -> PublicKey {
        guard keyType.publicKeyLengths.contains(publicKey.count) else {
            throw .device(.publicKeyLength(keyType, actual: publicKey.count))
        }
        do { return try PublicKey(type: keyType.keyType, bytes: publicKey) } catch { throw .device(.invalidPublicKey(error)) }
    }

    /// The device's account address: the last 20 bytes of keccak256 of the multicodec-prefixed
    /// compressed public key, as for every P-256 and Ed25519 key of Kramaa (``PublicKey/address``).
    /// It does not check the signature; ``Transaction/sender()`` does.
    public func address() throws(TransactionError) -> Address { try parsedPublicKey().address }

    /// Intrinsic gas for the signatures: the device's, plus the sponsor's recovery when sponsored.
    public var verificationGas: UInt64 {
        keyType.verificationGas + (sponsor == nil ? 0 : DeviceRules.sponsorRecoveryGas)
    }
}

extension Transaction {
    /// An unsigned device transaction from `publicKey` (P-256 or Ed25519), EIP-1559 fees, and
    /// the sponsor that will pay its gas (nil: the device pays). Sign it with `signAsDevice(with:)`,
    /// then, when sponsored, have the sponsor add its signature with `addSponsorSignature(with:)`.
    public static func device(
        publicKey: PublicKey, chainId: UInt64, nonce: UInt64, maxPriorityFeePerGas: UInt256, maxFeePerGas: UInt256,
        gasLimit: UInt64, to: Address?, value: UInt256 = .zero, data: [UInt8] = [], accessList: [AccessListEntry] = [],
        sponsor: Address? = nil
    ) throws(TransactionError) -> Transaction {
        guard let keyType = DeviceKeyType(publicKey.type) else { throw .device(.unsupportedKeyType(publicKey.type)) }
        return Transaction(
            type: .device, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: maxPriorityFeePerGas, maxFeePerGas: maxFeePerGas,
            gasLimit: gasLimit, to: to, value: value, data: data, accessList: accessList,
            device: DeviceAuthorization(keyType: keyType, publicKey: publicKey.bytes, sponsor: sponsor))
    }

    /// The sponsor of a device transaction: the account that pays its gas.
    public var sponsor: Address? { type == .device ? device?.sponsor : nil }

    /// Who pays the gas of this transaction sent by `sender`: the sponsor if any, else the sender.
    public func gasPayer(sender: Address) -> Address { sponsor ?? sender }

    /// The digest a device transaction's sponsor signs: keccak256(0x4b ‖ 0x53 ‖ signingHash).
    /// The signing hash covers every field but the signatures (the key type, the public key and
    /// the sponsor's address included), so a sponsorship cannot be moved to another transaction.
    public var sponsorHash: Bytes32 { Keccak256.hash(DeviceRules.sponsorHashPrefix + signingHash.bytes) }

    /// Signs a device transaction with the device's key, which must be the transaction's
    /// public key: P-256 ECDSA of the signing hash (normalised to low s), or Ed25519 of it.
    public mutating func signAsDevice(with key: SigningKey) throws(TransactionError) {
        guard type == .device, let device else { throw .device(.missingAuthorization) }
        guard DeviceKeyType(key.type) != nil else { throw .device(.unsupportedKeyType(key.type)) }
        guard try device.parsedPublicKey() == key.publicKey else { throw .device(.keyMismatch) }
        let digest = signingHash
        switch key {
        case .p256(let k): self.device!.signature = k.sign(digest: digest).lowS.rawRepresentation
        case .ed25519(let k): self.device!.signature = k.sign(message: digest.bytes)
        case .secp256k1: throw .device(.unsupportedKeyType(.secp256k1))
        }
    }

    /// This device transaction signed with the device's key.
    public func signedAsDevice(with key: SigningKey) throws(TransactionError) -> Transaction {
        var copy = self
        try copy.signAsDevice(with: key)
        return copy
    }

    /// Adds the sponsor's secp256k1 signature of ``sponsorHash``; `key` must be the key of the
    /// sponsor the transaction names.
    public mutating func addSponsorSignature(with key: Secp256k1.PrivateKey) throws(TransactionError) {
        guard type == .device, device != nil else { throw .device(.missingAuthorization) }
        let address = key.publicKey.address
        guard let sponsor = device!.sponsor, sponsor == address else {
            throw .device(.sponsorKeyMismatch(sponsor: device!.sponsor, key: address))
        }
        let sig = key.sign(digest: sponsorHash)
        device!.sponsorSignature = TransactionSignature(v: UInt256(UInt64(sig.recoveryId)), r: UInt256(sig.r), s: UInt256(sig.s))
    }

    /// This device transaction with the sponsor's signature added.
    public func sponsored(with key: Secp256k1.PrivateKey) throws(TransactionError) -> Transaction {
        var copy = self
        try copy.addSponsorSignature(with: key)
        return copy
    }
}
