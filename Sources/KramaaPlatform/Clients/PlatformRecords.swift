import KramaaEVM
import KramaaMessaging
import KramaaPrimitives

// What the platform's system contracts return, each decoded in one place (the ABI of its
// function is in the contract: `getOrganization`, `getDevice`, `getKey`, `getAsset`).

/// `getOrganization(uint256) returns (string name, address founder, uint256 createdAtBlock, uint256 admins)`.
public struct OrganizationRecord: Sendable, Equatable {
    public var id: UInt64
    public var name: String
    public var founder: Address
    public var createdAtBlock: UInt64
    public var admins: UInt64

    public init(id: UInt64, decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.id = id
        name = try d.nextString()
        founder = try d.nextAddress()
        createdAtBlock = try d.nextUInt64()
        admins = try d.nextUInt64()
    }
}

/// `getDevice(address) returns (uint256 org, uint8 status, address currentKey, string model, bytes32 firmwareHash, uint256 registeredAtBlock)`.
public struct DeviceRecord: Sendable, Equatable {
    public var device: Address
    public var organization: UInt64
    /// The status code; `status` names it.
    public var statusCode: UInt64
    public var currentKey: Address
    public var model: String
    public var firmwareHash: Bytes32
    public var registeredAtBlock: UInt64

    public var status: DeviceStatus? { DeviceStatus(rawValue: statusCode) }

    public init(device: Address, decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.device = device
        organization = try d.nextUInt64()
        statusCode = try d.nextUInt64()
        currentKey = try d.nextAddress()
        model = try d.nextString()
        firmwareHash = try d.nextBytes32()
        registeredAtBlock = try d.nextUInt64()
    }
}

/// `getKey(address) returns (address device, uint8 keyType, bytes publicKey, uint256 validFrom, uint256 validUntil)`.
public struct DeviceKeyRecord: Sendable, Equatable {
    public var key: Address
    public var device: Address
    public var keyTypeCode: UInt64
    public var publicKey: [UInt8]
    public var validFromBlock: UInt64
    /// Nil while the key is current.
    public var validUntilBlock: UInt64?

    public init(key: Address, decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.key = key
        device = try d.nextAddress()
        keyTypeCode = try d.nextUInt64()
        publicKey = try d.nextBytes()
        validFromBlock = try d.nextUInt64()
        let until = try d.nextUInt64()
        validUntilBlock = until == 0 ? nil : until
    }

    /// The key as a public key (with its did:key), when its type is known.
    public var parsed: PublicKey? {
        KeyType(code: keyTypeCode).flatMap { try? PublicKey(type: $0, bytes: publicKey) }
    }
}

/// `getAgreementKey(address) returns (uint16 kemId, bytes publicKey, uint256 validFrom, bool usable)`.
public struct DeviceAgreementKeyRecord: Sendable, Equatable {
    public var device: Address
    /// The RFC 9180 KEM id; 0 when the device has no agreement key (never set, or revoked).
    public var kemId: UInt64
    public var publicKey: [UInt8]
    /// Nil when there is no key.
    public var validFromBlock: UInt64?
    /// A key is set and the device is active.
    public var usable: Bool

    public init(device: Address, decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.device = device
        kemId = try d.nextUInt64()
        publicKey = try d.nextBytes()
        let from = try d.nextUInt64()
        validFromBlock = from == 0 ? nil : from
        usable = try d.nextBool()
    }

    /// The registered key, parsed (nil when none).
    public var key: AgreementPublicKey? {
        (try? AgreementKeyType(kemId: kemId)).flatMap { try? AgreementPublicKey(type: $0, bytes: publicKey) }
    }

    /// The key when it may be sealed to (set, and the device active).
    public var usableKey: AgreementPublicKey? { usable ? key : nil }
}

/// `getAsset(uint256) returns (string epc, uint256 org, address owner, address custodian, bytes32 metadataHash, uint8 status, uint256 mintedAtBlock)`.
public struct AssetRecord: Sendable, Equatable {
    public var tokenId: UInt256
    public var epc: String
    public var organization: UInt64
    public var owner: Address
    public var custodian: Address
    public var metadataHash: Bytes32
    public var statusCode: UInt64
    public var mintedAtBlock: UInt64

    public var status: AssetStatus? { AssetStatus(rawValue: statusCode) }
    /// The status as the interfaces write it.
    public var statusName: String { status.map { "\($0)" } ?? "unknown(\(statusCode))" }

    public init(tokenId: UInt256, decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.tokenId = tokenId
        epc = try d.nextString()
        organization = try d.nextUInt64()
        owner = try d.nextAddress()
        custodian = try d.nextAddress()
        metadataHash = try d.nextBytes32()
        statusCode = try d.nextUInt64()
        mintedAtBlock = try d.nextUInt64()
    }
}
