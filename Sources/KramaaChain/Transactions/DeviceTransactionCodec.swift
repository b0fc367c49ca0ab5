import KramaaPrimitives

// The wire form of a device transaction (type 0x4b):
//   0x4b ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList,
//               keyType, publicKey, sponsor, signature, sponsorYParity, sponsorR, sponsorS])
// The signing hash covers the first twelve fields; an unsponsored transaction has an empty
// sponsor and zero sponsor signature values. See docs/DEVICE-TRANSACTIONS.md.

extension DeviceAuthorization {
    /// Fields in the RLP list of a device transaction, signatures included.
    static let fieldCount = 16

    /// Appends the device fields after the access list: key type, public key and sponsor, then
    /// (with `includingSignature`) the device signature and the sponsor's yParity, r and s.
    /// A nil authorization (an unsigned call message of type 0x4b) writes empty fields.
    static func append(_ device: DeviceAuthorization?, to w: inout RLPWriter, includingSignature: Bool) {
        w.append(uint: UInt64(device?.keyType.rawValue ?? 0))
        w.append(bytes: device?.publicKey ?? [])
        if let sponsor = device?.sponsor { w.append(address: sponsor) } else { w.append(bytes: [UInt8]()) }
        guard includingSignature else { return }
        w.append(bytes: device?.signature ?? [])
        let sponsorSignature = device?.sponsorSignature ?? TransactionSignature(v: .zero, r: .zero, s: .zero)
        w.append(uint: sponsorSignature.v)
        w.append(uint: sponsorSignature.r)
        w.append(uint: sponsorSignature.s)
    }
}

extension TransactionFieldReader {
    /// Reads the device fields after the access list, checking what needs no curve arithmetic:
    /// a known key type, a public key and signature of the right lengths, a sponsor of 20 bytes or
    /// none, and zero sponsor signature values when there is no sponsor.
    mutating func deviceAuthorization() throws(TransactionError) -> DeviceAuthorization {
        let rawType = try uint64("keyType")
        guard rawType <= UInt8.max, let keyType = DeviceKeyType(rawValue: UInt8(rawType)) else {
            throw .device(.unknownKeyType(rawType))
        }
        let publicKey = try bytes("publicKey")
        guard keyType.publicKeyLengths.contains(publicKey.count) else {
            throw .device(.publicKeyLength(keyType, actual: publicKey.count))
        }
        let sponsorBytes = try bytes("sponsor")
        guard sponsorBytes.isEmpty || sponsorBytes.count == 20 else { throw .device(.sponsorLength(sponsorBytes.count)) }
        let signature = try bytes("signature")
        guard signature.count == 64 else { throw .device(.signatureLength(signature.count)) }
        let parity = try uint256("sponsorYParity"), r = try uint256("sponsorR"), s = try uint256("sponsorS")
        let signed = !(parity.isZero && r.isZero && s.isZero)
        let sponsor = sponsorBytes.isEmpty ? nil : try! Address(sponsorBytes)
        if sponsor == nil && signed { throw .device(.sponsorSignatureWithoutSponsor) }
        return DeviceAuthorization(keyType: keyType, publicKey: publicKey, signature: signature, sponsor: sponsor,
                                   sponsorSignature: signed ? TransactionSignature(v: parity, r: r, s: s) : nil)
    }
}

extension Transaction {
    /// The cheap checks of a device transaction (no curve arithmetic): it has its key and a
    /// 64-byte signature, the chain id, the signature values' ranges (P-256 low s, Ed25519 S
    /// below L), and a sponsor signature exactly when a sponsor is named, with EIP-2 ranges.
    func validateDeviceAuthorization(chainId expected: UInt64) throws(TransactionError) {
        let device = try signedDeviceAuthorization()
        if chainId != expected { throw .invalidChainId(expected: expected, actual: chainId) }
        guard device.keyType.publicKeyLengths.contains(device.publicKey.count) else {
            throw .device(.publicKeyLength(device.keyType, actual: device.publicKey.count))
        }
        try device.checkSignatureValues()
        try device.checkSponsorSignatureValues()
    }

    /// The device's address after verifying the device signature of the signing hash and, when
    /// sponsored, that the sponsor signature recovers the named sponsor: the "recover sender"
    /// step of this type.
    func verifiedDeviceSender() throws(TransactionError) -> Address {
        let device = try signedDeviceAuthorization()
        let publicKey = try device.parsedPublicKey()
        try device.checkSignatureValues()
        // The signature of the digest as is, as every device signature (PublicKey.isValidSignature(_:digest:)).
        guard publicKey.isValidSignature(device.signature, digest: signingHash) else { throw .device(.invalidSignature) }
        if let sponsor = device.sponsor {
            try device.checkSponsorSignatureValues()
            let sig = device.sponsorSignature!
            let signer = try? Secp256k1.recoverAddress(
                digest: sponsorHash, r: sig.r.bytes32, s: sig.s.bytes32, recoveryId: UInt8(sig.v.uint64Value!))
            guard signer == sponsor else { throw .device(.sponsorSignatureMismatch(sponsor: sponsor, signer: signer)) }
        }
        return publicKey.address
    }

    /// The device fields of a signed device transaction.
    private func signedDeviceAuthorization() throws(TransactionError) -> DeviceAuthorization {
        guard let device else { throw .device(.missingAuthorization) }
        if device.signature.isEmpty { throw .unsigned }
        guard device.signature.count == 64 else { throw .device(.signatureLength(device.signature.count)) }
        return device
    }
}

extension DeviceAuthorization {
    /// Range checks of the device signature, refused with their own reasons before any curve
    /// arithmetic: for P-256 `r`, `s` in [1, n-1] and `s` at most n/2; for Ed25519 `S`
    /// (little-endian, the last 32 bytes) below L (RFC 8032 §5.1.7).
    func checkSignatureValues() throws(TransactionError) {
        switch keyType {
        case .p256:
            guard let sig = try? Secp256r1.Signature(rawRepresentation: signature) else { throw .device(.signatureOutOfRange) }
            guard sig.isLowS else { throw .device(.highS) }
        case .ed25519:
            let s = UInt256(try! Bytes32(signature[32..<64].reversed()))
            guard s < DeviceRules.ed25519Order else { throw .device(.signatureOutOfRange) }
        }
    }

    /// A sponsor signature exactly when a sponsor is named, with EIP-2 values.
    func checkSponsorSignatureValues() throws(TransactionError) {
        guard let sponsor else {
            if sponsorSignature != nil { throw .device(.sponsorSignatureWithoutSponsor) }
            return
        }
        guard let sig = sponsorSignature else { throw .device(.sponsorUnsigned(sponsor)) }
        guard sig.hasLowSValues, sig.v <= .one else { throw .device(.invalidSponsorSignatureValues) }
    }
}
