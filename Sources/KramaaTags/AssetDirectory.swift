import Foundation
import KramaaChain
import KramaaEVM
import KramaaJSON
import KramaaNFC
import KramaaPlatform
import KramaaPrimitives

/// What a verification page shows of the asset a tag or QR code belongs to, read from the
/// asset registry (`getAsset`).
public struct AssetSummary: Sendable, Equatable {
    public let tokenId: UInt256
    public let epc: String
    public let organisation: UInt64
    public let owner: Address
    public let custodian: Address
    public let metadataHash: Bytes32
    public let status: String
    public let mintedAt: UInt64
    /// The organisation's registered name, when known.
    public var organisationName: String?
    /// The product's name from the asset's metadata (a `data:application/json` token URI's
    /// `name`), when it has one.
    public var productName: String?
    /// The JSON of a `data:application/json` token URI (name, sensor limits, …), when it has one.
    public var metadata: JSON?

    public init(tokenId: UInt256, epc: String, organisation: UInt64, owner: Address, custodian: Address,
                metadataHash: Bytes32, status: String, mintedAt: UInt64, organisationName: String? = nil, productName: String? = nil,
                metadata: JSON? = nil) {
        self.organisationName = organisationName
        self.productName = productName
        self.metadata = metadata
        self.tokenId = tokenId
        self.epc = epc
        self.organisation = organisation
        self.owner = owner
        self.custodian = custodian
        self.metadataHash = metadataHash
        self.status = status
        self.mintedAt = mintedAt
    }
}

/// Where verification reads the chain: the asset bound to a tag, an asset by token id, and an
/// account's roles in an organisation. A protocol so the endpoint is testable without a chain.
public protocol AssetDirectory: Sendable {
    /// The asset bound to the tag (`assetOfTag`), nil when none is.
    func asset(boundTo uid: TagUID) -> AssetSummary?
    /// The asset with this token id (`getAsset`), nil when there is none.
    func asset(tokenId: UInt256) -> AssetSummary?
    /// The account's role bits in the organisation (`rolesOf`), 0 for none.
    func roles(of account: Address, in organisation: UInt64) -> UInt64
    /// The organisation's name (`getOrganization`), nil when there is no such organisation.
    func organizationName(_ organisation: UInt64) -> String?
    /// ``asset(boundTo:)`` when it is known without waiting for the chain (a cached answer):
    /// `.some(nil)` for a tag known to be bound to nothing; nil when finding out would wait (the
    /// verifier then asks ``asset(boundTo:)`` away from the connection's event loop).
    func assetWithoutWaiting(boundTo uid: TagUID) -> AssetSummary??
}

extension AssetDirectory {
    public func assetWithoutWaiting(boundTo uid: TagUID) -> AssetSummary?? { nil }
}

/// An `AssetDirectory` over a chain's head state: the typed system-contract clients over
/// `reader` (in-process calls on the node), answers cached until the chain's head moves (taps
/// of one tag between blocks read nothing).
public final class ChainAssetDirectory<Reader: ContractReader>: AssetDirectory, @unchecked Sendable {
    private let chain: any ChainProvider
    private let reader: Reader
    private let lock = NSLock()
    private var cacheHead: UInt64 = .max
    private var byTag: [TagUID: AssetSummary?] = [:]

    public init(chain: any ChainProvider, reader: Reader) {
        self.chain = chain
        self.reader = reader
    }

    public func assetWithoutWaiting(boundTo uid: TagUID) -> AssetSummary?? {
        cached(uid, head: chain.latest.number)
    }

    /// The cached answer for `uid` at `head` (the cache emptied when the head moved).
    private func cached(_ uid: TagUID, head: UInt64) -> AssetSummary?? {
        lock.withLock {
            if cacheHead != head {
                byTag.removeAll(keepingCapacity: true)
                cacheHead = head
            }
            return byTag[uid]
        }
    }

    public func asset(boundTo uid: TagUID) -> AssetSummary? {
        let head = chain.latest.number
        if let known = cached(uid, head: head) { return known }
        let found = (try? AssetClient(reader).asset(boundToTag: uid.bytes)).flatMap { asset(tokenId: $0) }
        lock.lock()
        if cacheHead == head { byTag[uid] = .some(found) }
        lock.unlock()
        return found
    }

    public func asset(tokenId: UInt256) -> AssetSummary? {
        let assets = AssetClient(reader)
        guard let asset = try? assets.asset(tokenId) else { return nil }
        let uri = try? assets.tokenURI(tokenId)
        return AssetSummary(tokenId: tokenId, epc: asset.epc, organisation: asset.organization, owner: asset.owner, custodian: asset.custodian,
                            metadataHash: asset.metadataHash, status: asset.statusName, mintedAt: asset.mintedAtBlock,
                            organisationName: organizationName(asset.organization), productName: uri.flatMap { ProductMetadata.name(fromTokenURI: $0) },
                            metadata: uri.flatMap { ProductMetadata.object(fromTokenURI: $0) })
    }

    public func roles(of account: Address, in organisation: UInt64) -> UInt64 {
        (try? OrganizationClient(reader).roles(of: account, in: organisation).rawValue) ?? 0
    }

    public func organizationName(_ organisation: UInt64) -> String? {
        try? OrganizationClient(reader).organization(organisation).name
    }
}
