import Foundation
import KramaaChain
import KramaaEVM
import KramaaNFC
import KramaaNode
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

    public init(tokenId: UInt256, epc: String, organisation: UInt64, owner: Address, custodian: Address,
                metadataHash: Bytes32, status: String, mintedAt: UInt64, organisationName: String? = nil, productName: String? = nil) {
        self.organisationName = organisationName
        self.productName = productName
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
}

/// An `AssetDirectory` over a node's head state: read-only calls to the system contracts,
/// answers cached until the head moves (taps of one tag between blocks read nothing).
public final class NodeAssetDirectory: AssetDirectory, @unchecked Sendable {
    private let node: Node
    private let lock = NSLock()
    private var cacheHead: UInt64 = .max
    private var byTag: [TagUID: AssetSummary?] = [:]

    static let assetOfTag = SystemMethod("assetOfTag(bytes7)")
    static let getAsset = SystemMethod("getAsset(uint256)")
    static let rolesOf = SystemMethod("rolesOf(uint256,address)")
    static let getOrganization = SystemMethod("getOrganization(uint256)")
    static let tokenURI = SystemMethod("tokenURI(uint256)")

    public init(node: Node) {
        self.node = node
    }

    public func asset(boundTo uid: TagUID) -> AssetSummary? {
        let head = node.latest.number
        lock.lock()
        if cacheHead != head {
            byTag.removeAll(keepingCapacity: true)
            cacheHead = head
        }
        if let cached = byTag[uid] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let found = readAsset(boundTo: uid, head: head)
        lock.lock()
        if cacheHead == head { byTag[uid] = .some(found) }
        lock.unlock()
        return found
    }

    public func asset(tokenId: UInt256) -> AssetSummary? {
        readAsset(tokenId: tokenId, head: node.latest.number)
    }

    public func roles(of account: Address, in organisation: UInt64) -> UInt64 {
        guard let output = call(OrganizationRegistry.address, ABI.encode([.uint(UInt256(organisation)), .address(account)]),
                                Self.rolesOf, head: node.latest.number) else { return 0 }
        var decoder = ABIDecoder(output[...])
        return (try? decoder.nextUInt64()) ?? 0
    }

    public func organizationName(_ organisation: UInt64) -> String? {
        guard let output = call(OrganizationRegistry.address, ABI.encode([.uint(UInt256(organisation))]), Self.getOrganization,
                                head: node.latest.number) else { return nil }
        var decoder = ABIDecoder(output[...])
        return try? decoder.nextString()
    }

    private func readAsset(boundTo uid: TagUID, head: UInt64) -> AssetSummary? {
        var word = uid.bytes
        word += [UInt8](repeating: 0, count: 32 - word.count)
        guard let output = call(AssetRegistry.address, word, Self.assetOfTag, head: head) else { return nil }
        var decoder = ABIDecoder(output[...])
        guard let token = try? decoder.nextUInt() else { return nil }
        return readAsset(tokenId: token, head: head)
    }

    private func readAsset(tokenId: UInt256, head: UInt64) -> AssetSummary? {
        guard let output = call(AssetRegistry.address, ABI.encode([.uint(tokenId)]), Self.getAsset, head: head) else { return nil }
        var d = ABIDecoder(output[...])
        do {
            let epc = try d.nextString(), org = try d.nextUInt64(), owner = try d.nextAddress(), custodian = try d.nextAddress()
            let metadata = try d.nextBytes32(), status = try d.nextUInt64(), minted = try d.nextUInt64()
            var uri: String?
            if let output = call(AssetRegistry.address, ABI.encode([.uint(tokenId)]), Self.tokenURI, head: head) {
                var decoder = ABIDecoder(output[...])
                uri = try? decoder.nextString()
            }
            return AssetSummary(tokenId: tokenId, epc: epc, organisation: org, owner: owner, custodian: custodian,
                                metadataHash: metadata, status: AssetStatus(rawValue: status).map { "\($0)" } ?? "unknown(\(status))",
                                mintedAt: minted, organisationName: organizationName(org), productName: uri.flatMap { ProductMetadata.name(fromTokenURI: $0) })
        } catch {
            return nil
        }
    }

    /// A read-only call on the head state; nil when it reverts or fails.
    private func call(_ contract: Address, _ arguments: [UInt8], _ method: SystemMethod, head: UInt64) -> [UInt8]? {
        let selector = withUnsafeBytes(of: method.selector.bigEndian) { Array($0) }
        let tx = Transaction(chainId: node.chainId, nonce: 0, maxFeePerGas: .zero, gasLimit: 1_000_000,
                             to: contract, data: selector + arguments)
        guard let result = try? node.call(tx, from: .zero, at: head), result.success else { return nil }
        return result.output
    }
}
