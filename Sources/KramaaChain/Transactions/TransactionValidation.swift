import KramaaPrimitives

/// Gas and size rules of the Cancun fork that a transaction must meet before execution.
public enum CancunRules {
    public static let txGas: UInt64 = 21_000
    public static let txCreateGas: UInt64 = 53_000
    public static let txDataZeroGas: UInt64 = 4
    public static let txDataNonZeroGas: UInt64 = 16
    public static let accessListAddressGas: UInt64 = 2_400
    public static let accessListStorageKeyGas: UInt64 = 1_900
    /// EIP-3860: gas per 32-byte word of init code.
    public static let initCodeWordGas: UInt64 = 2
    /// EIP-3860: twice EIP-170's code size limit.
    public static let maxInitCodeSize = 49_152
    /// secp256k1 group order n, and n/2 (EIP-2: s above it is malleable and refused).
    public static let secp256k1N = UInt256(Secp256k1.order)
    public static let secp256k1HalfN = UInt256(Secp256k1.halfOrder)
}

extension Transaction {
    /// Gas charged before execution: base cost, data bytes, access list, for a create the
    /// creation cost plus EIP-3860's per-word init code cost, and for a device transaction the
    /// verification of its signatures (``DeviceAuthorization/verificationGas``).
    public var intrinsicGas: UInt64 {
        var gas = isCreate ? CancunRules.txCreateGas : CancunRules.txGas
        var zeros: UInt64 = 0
        for b in data where b == 0 { zeros += 1 }
        let nonZeros = UInt64(data.count) - zeros
        gas += zeros * CancunRules.txDataZeroGas + nonZeros * CancunRules.txDataNonZeroGas
        if isCreate { gas += CancunRules.initCodeWordGas * ((UInt64(data.count) + 31) / 32) }
        for e in accessList {
            gas += CancunRules.accessListAddressGas + UInt64(e.storageKeys.count) * CancunRules.accessListStorageKeyGas
        }
        if type == .device, let device { gas += device.verificationGas }
        return gas
    }

    /// EIP-2 ranges: r and s in [1, n-1], s at most n/2, and a well-formed v.
    var hasValidSignatureValues: Bool {
        guard let sig = signature else { return false }
        return sig.hasLowSValues && yParity != nil
    }

    /// Checks what does not depend on chain state: signature values, chain id, nonce range,
    /// gas and fee arithmetic, init code size and blob fields.
    public func validate(chainId expected: UInt64) throws(TransactionError) {
        if type == .system {
            guard chainId == expected else { throw .invalidChainId(expected: expected, actual: chainId) }
            guard maxFeePerGas.isZero, maxPriorityFeePerGas.isZero, value.isZero, to != nil, accessList.isEmpty else {
                throw .invalidSystemTransaction
            }
            return try validateFields()
        }
        if type == .device {
            try validateDeviceAuthorization(chainId: expected)
            return try validateFields()
        }
        guard let sig = signature else { throw .unsigned }
        guard hasValidSignatureValues else { throw .invalidSignatureValues }
        if type == .legacy {
            if let id = chainId, id != expected { throw .invalidChainId(expected: expected, actual: id) }
            if chainId != nil, let v = sig.v.uint64Value, v != 35 + 2 * expected && v != 36 + 2 * expected {
                throw .invalidSignatureValues
            }
        } else if chainId != expected {
            throw .invalidChainId(expected: expected, actual: chainId)
        }
        try validateFields()
    }

    /// The checks of `validate(chainId:)` that an unsigned message (eth_call) must pass too:
    /// nonce range, fee and gas arithmetic, init code size, blob fields and intrinsic gas.
    public func validateFields() throws(TransactionError) {
        if nonce == .max { throw .nonceMax }
        if maxPriorityFeePerGas > maxFeePerGas { throw .priorityFeeGreaterThanMaxFee }
        if maxFeePerGas.multipliedReportingOverflow(by: UInt256(gasLimit)).overflow {
            throw .gasLimitPriceProductOverflow
        }
        if isCreate && data.count > CancunRules.maxInitCodeSize {
            throw .initcodeTooLarge(size: data.count, limit: CancunRules.maxInitCodeSize)
        }
        if type == .blob {
            if isCreate { throw .blobTransactionCreate }
            if blobVersionedHashes.isEmpty || blobVersionedHashes.contains(where: { $0.bytes[0] != 0x01 }) {
                throw .invalidBlobVersionedHashes
            }
        }
        let intrinsic = intrinsicGas
        if gasLimit < intrinsic { throw .intrinsicGasTooLow(gasLimit: gasLimit, intrinsic: intrinsic) }
    }
}

extension TransactionSignature {
    /// EIP-2 ranges of a secp256k1 signature: r and s in [1, n-1], s at most n/2.
    var hasLowSValues: Bool {
        !r.isZero && !s.isZero && r < CancunRules.secp256k1N && s <= CancunRules.secp256k1HalfN
    }
}
