import KramaaPrimitives

/// Why a transaction is malformed or not acceptable. Descriptions follow geth's wording where geth has one.
public enum TransactionError: Error, Equatable, CustomStringConvertible {
    case empty
    /// The first byte names a type this chain does not accept.
    case typeNotSupported(UInt8)
    /// A field is not canonical RLP or has the wrong shape.
    case malformed(field: String, RLPError)
    /// The RLP list has the wrong number of fields for the type.
    case wrongFieldCount(type: TransactionType, expected: Int, actual: Int)
    /// An integer field is larger than its type allows (nonce and gas 64 bits, amounts 256 bits).
    case fieldOverflow(field: String)
    /// `to` is neither empty nor 20 bytes.
    case invalidRecipientLength(Int)
    /// EIP-2681: the nonce must stay below 2^64 - 1.
    case nonceMax
    /// v, r or s out of range (r, s in [1, n-1], s at most n/2, v a valid parity).
    case invalidSignatureValues
    /// The signature names another chain (or none where one is required).
    case invalidChainId(expected: UInt64, actual: UInt64?)
    /// No public key recovers from the signature.
    case recoveryFailed
    /// The transaction is not signed.
    case unsigned
    case intrinsicGasTooLow(gasLimit: UInt64, intrinsic: UInt64)
    /// gasLimit × fee cap does not fit in 256 bits.
    case gasLimitPriceProductOverflow
    case priorityFeeGreaterThanMaxFee
    /// EIP-3860: init code longer than 49152 bytes.
    case initcodeTooLarge(size: Int, limit: Int)
    /// EIP-4844: a blob transaction cannot create a contract.
    case blobTransactionCreate
    /// EIP-4844: a blob transaction needs at least one versioned hash, each with version byte 0x01.
    case invalidBlobVersionedHashes
    /// A device transaction (type 0x4b) with a bad key, signature or sponsorship.
    case device(DeviceTransactionError)
    /// A system transaction (type 0x4c) with a fee, value, access list or no recipient.
    case invalidSystemTransaction

    public var description: String {
        switch self {
        case .empty: return "typed transaction too short"
        case .typeNotSupported(let t): return "transaction type not supported: 0x\(String(t, radix: 16))"
        case .malformed(let field, let e): return "rlp: invalid transaction field \(field): \(e)"
        case .wrongFieldCount(let type, let expected, let actual):
            return "rlp: \(type) transaction has \(actual) fields, expected \(expected)"
        case .fieldOverflow(let field): return "rlp: transaction field \(field) is too large"
        case .invalidRecipientLength(let n): return "rlp: recipient address must be empty or 20 bytes, got \(n)"
        case .nonceMax: return "nonce has max value"
        case .invalidSignatureValues: return "invalid transaction v, r, s values"
        case .invalidChainId(let expected, let actual):
            return "invalid chain id for signer: have \(actual.map(String.init) ?? "none") want \(expected)"
        case .recoveryFailed: return "invalid signature: no public key recovers from it"
        case .unsigned: return "transaction is not signed"
        case .intrinsicGasTooLow(let gas, let intrinsic): return "intrinsic gas too low: gas \(gas), minimum needed \(intrinsic)"
        case .gasLimitPriceProductOverflow: return "gas limit times fee cap overflows 256 bits"
        case .priorityFeeGreaterThanMaxFee: return "max priority fee per gas higher than max fee per gas"
        case .initcodeTooLarge(let size, let limit): return "max initcode size exceeded: code size \(size) limit \(limit)"
        case .blobTransactionCreate: return "blob transaction of type create"
        case .invalidBlobVersionedHashes: return "blob transaction needs versioned hashes starting with 0x01"
        case .device(let e): return e.description
        case .invalidSystemTransaction: return "a system transaction has zero fees and value, a recipient and no access list"
        }
    }
}
