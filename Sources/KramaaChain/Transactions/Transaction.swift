import KramaaPrimitives

/// The EIP-2718 transaction types this chain accepts.
public enum TransactionType: UInt8, Sendable, CaseIterable {
    /// The original RLP list form, with or without EIP-155 replay protection.
    case legacy = 0
    /// EIP-2930: an access list and an explicit chain id.
    case accessList = 1
    /// EIP-1559: a fee cap and a priority fee instead of one gas price.
    case dynamicFee = 2
    /// EIP-4844: carries blob versioned hashes (no blobs are kept on this chain).
    case blob = 3
    /// Kramaa's device transaction: EIP-1559 fields signed by a device's P-256 or Ed25519 key,
    /// optionally sponsored (gas paid) by a secp256k1 account. See docs/DEVICE-TRANSACTIONS.md.
    case device = 0x4b
    /// Kramaa's system transaction: a call the protocol makes at the start of a block (a due
    /// trigger), from ``SystemContracts/systemAddress``, unsigned and without fee; EIP-1559's
    /// fields with zero fees and value, the block number as nonce. Only validators make them:
    /// each block must begin with exactly the ones its parent's state calls for.
    case system = 0x4c
}

/// One entry of an EIP-2930 access list: an account and storage slots to warm up front.
public struct AccessListEntry: Equatable, Hashable, Sendable {
    public var address: Address
    public var storageKeys: [Bytes32]

    public init(address: Address, storageKeys: [Bytes32]) {
        self.address = address
        self.storageKeys = storageKeys
    }
}

/// An ECDSA secp256k1 signature as transactions carry it.
public struct TransactionSignature: Equatable, Hashable, Sendable {
    /// For legacy transactions the `v` on the wire (27/28, or chainId·2+35/36); for typed ones the y parity.
    public var v: UInt256
    public var r: UInt256
    public var s: UInt256

    public init(v: UInt256, r: UInt256, s: UInt256) {
        self.v = v
        self.r = r
        self.s = s
    }
}

/// A signed (or not yet signed) Ethereum transaction of any supported type.
///
/// One shape serves every type: fields a type does not have keep their neutral value
/// (a legacy transaction's `maxPriorityFeePerGas` equals its gas price, its access list is empty).
public struct Transaction: Equatable, Hashable, Sendable {
    public var type: TransactionType
    /// Chain id; nil only for a legacy transaction without EIP-155 replay protection.
    public var chainId: UInt64?
    public var nonce: UInt64
    /// EIP-1559 priority fee per gas; the gas price for legacy and EIP-2930 transactions.
    public var maxPriorityFeePerGas: UInt256
    /// EIP-1559 fee cap per gas; the gas price for legacy and EIP-2930 transactions.
    public var maxFeePerGas: UInt256
    public var gasLimit: UInt64
    /// Recipient; nil creates a contract.
    public var to: Address?
    public var value: UInt256
    /// Call data, or init code when creating a contract.
    public var data: [UInt8]
    public var accessList: [AccessListEntry]
    /// EIP-4844 fee cap per blob gas (blob transactions only).
    public var maxFeePerBlobGas: UInt256
    /// EIP-4844 blob versioned hashes (blob transactions only).
    public var blobVersionedHashes: [Bytes32]
    /// The secp256k1 signature (every type but `.device`).
    public var signature: TransactionSignature?
    /// A device transaction's key, signature and sponsor (`.device` only; nil for the others).
    public var device: DeviceAuthorization?

    public init(
        type: TransactionType = .dynamicFee, chainId: UInt64?, nonce: UInt64,
        maxPriorityFeePerGas: UInt256 = .zero, maxFeePerGas: UInt256, gasLimit: UInt64,
        to: Address?, value: UInt256 = .zero, data: [UInt8] = [], accessList: [AccessListEntry] = [],
        maxFeePerBlobGas: UInt256 = .zero, blobVersionedHashes: [Bytes32] = [],
        signature: TransactionSignature? = nil, device: DeviceAuthorization? = nil
    ) {
        self.type = type
        self.chainId = chainId
        self.nonce = nonce
        self.maxPriorityFeePerGas = type == .legacy || type == .accessList ? maxFeePerGas : maxPriorityFeePerGas
        self.maxFeePerGas = maxFeePerGas
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
        self.accessList = accessList
        self.maxFeePerBlobGas = maxFeePerBlobGas
        self.blobVersionedHashes = blobVersionedHashes
        self.signature = signature
        self.device = device
    }

    /// A legacy or EIP-2930 transaction's gas price (the fee cap of the others).
    public var gasPrice: UInt256 { maxFeePerGas }

    /// True when the transaction creates a contract.
    public var isCreate: Bool { to == nil }

    /// The signature's y parity (0 or 1), if signed with a well-formed `v`.
    public var yParity: UInt8? {
        guard let sig = signature, let v = sig.v.uint64Value else { return nil }
        if type != .legacy { return v <= 1 ? UInt8(v) : nil }
        if v == 27 || v == 28 { return UInt8(v - 27) }
        return v >= 35 ? UInt8((v - 35) % 2) : nil
    }

    /// The price per gas this transaction pays in a block with `baseFee`:
    /// min(maxFee, baseFee + priority fee). Nil when the fee cap is below the base fee.
    public func effectiveGasPrice(baseFee: UInt256) -> UInt256? {
        guard maxFeePerGas >= baseFee else { return nil }
        let (withTip, overflow) = baseFee.addingReportingOverflow(maxPriorityFeePerGas)
        return overflow ? maxFeePerGas : Swift.min(maxFeePerGas, withTip)
    }
}
