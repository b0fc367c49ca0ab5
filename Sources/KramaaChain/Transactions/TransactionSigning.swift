import KramaaEVM
import KramaaPrimitives

extension Transaction {
    /// Signs with `key` (RFC 6979, low s), setting `v` as the type requires:
    /// y parity for typed transactions, 27/28 or chainId·2+35/36 for legacy ones.
    /// Device transactions are signed with `signAsDevice(with:)` instead.
    public mutating func sign(with key: Secp256k1.PrivateKey) {
        let sig = key.sign(digest: signingHash)
        let parity = UInt64(sig.recoveryId)
        let v: UInt64
        if type != .legacy {
            v = parity
        } else if let chainId {
            v = chainId * 2 + 35 + parity
        } else {
            v = 27 + parity
        }
        signature = TransactionSignature(v: UInt256(v), r: UInt256(sig.r), s: UInt256(sig.s))
    }

    /// The signed copy of this transaction.
    public func signed(with key: Secp256k1.PrivateKey) -> Transaction {
        var copy = self
        copy.sign(with: key)
        return copy
    }

    /// The address that signed the transaction. Values are range-checked first (EIP-2 low s),
    /// so a malleated signature never recovers a sender. For a device transaction: the device's
    /// address, once its signature (and its sponsor's) verified.
    public func sender() throws(TransactionError) -> Address {
        if type == .device { return try verifiedDeviceSender() }
        if type == .system { return SystemContracts.systemAddress }
        guard let sig = signature else { throw .unsigned }
        guard hasValidSignatureValues, let parity = yParity else { throw .invalidSignatureValues }
        do {
            return try Secp256k1.recoverAddress(
                digest: signingHash, r: sig.r.bytes32, s: sig.s.bytes32, recoveryId: parity)
        } catch {
            throw .recoveryFailed
        }
    }

    /// Validates for `chainId` and recovers the sender in one step: what a transaction pool
    /// or block executor needs before it looks at state.
    public func validatedSender(chainId: UInt64) throws(TransactionError) -> Address {
        try validate(chainId: chainId)
        return try sender()  // repeats only the cheap range check before recovery
    }
}
