import KramaaEVM
import KramaaGS1
import KramaaPrimitives

/// An asset's life-cycle state.
public enum AssetStatus: UInt64, Sendable {
    case active = 1, recalled = 2, destroyed = 3, consumed = 4
}

/// The asset registry (`0x…4b520012`): physical items as ERC-721 tokens, identified by GS1 EPC
/// URIs (`urn:epc:id:sgtin:…`, SSCC, GRAI, ...), with metadata by content hash, bound devices
/// and NFC tags, and custody (who holds it) kept apart from ownership (who owns it).
///
/// The token id is keccak256 of the item's GS1 key as a constrained canonical Digital Link
/// (`https://id.gs1.org/01/…/21/…`, as the EPCIS event hash writes identifiers), so the EPC URI
/// and every Digital Link of the item (from a QR code or a tag, any domain) name the same token
/// without asking a server, and without knowing the company prefix length.
///
/// ERC-721 (with metadata): `balanceOf`, `ownerOf`, `transferFrom`, `safeTransferFrom` (both),
/// `approve`, `setApprovalForAll`, `getApproved`, `isApprovedForAll`, `supportsInterface`,
/// `name`, `symbol`, `tokenURI`, `totalSupply`, events `Transfer`, `Approval`, `ApprovalForAll`.
/// Platform:
/// ```
/// function mintAsset(uint256 org, string epc, address owner, bytes32 metadataHash, string uri) returns (uint256 tokenId)  // manufacturer
/// function getAsset(uint256 tokenId) view returns (string epc, uint256 org, address owner, address custodian, bytes32 metadataHash, uint8 status, uint256 mintedAt)
/// function tokenIdOf(string epc) view returns (uint256)      // reverts for an unknown EPC
/// function bindDevice(uint256 tokenId, address device)       // manufacturer or device manager of the asset's organisation
/// function bindTag(uint256 tokenId, bytes7 uid)              // the NTAG 424 UID (7 bytes, left-aligned)
/// function assetOfTag(bytes7 uid) view returns (uint256)
/// function transferCustody(uint256 tokenId, address custodian)  // the current custodian, or the provenance contract
/// function setAssetStatus(uint256 tokenId, uint8 status)      // recall: manufacturer; destroy/consume: owner or organisation
/// event AssetMinted(uint256 indexed tokenId, uint256 indexed org, string epc, bytes32 metadataHash)
/// event CustodyChanged(uint256 indexed tokenId, address indexed from, address indexed to)
/// event AssetStatusChanged(uint256 indexed tokenId, uint8 status)
/// event DeviceBound(uint256 indexed tokenId, address indexed device)
/// event TagBound(uint256 indexed tokenId, bytes7 uid)
/// ```
public struct AssetRegistry: SystemContract {
    public static let address = SystemContracts.address(0x12)
    /// Contracts allowed to move custody besides the custodian (the provenance contract).
    public static let custodyAgents: Set<Address> = [SystemContracts.address(0x13)]

    enum Slot {
        static let count = StorageSlot.named("kramaa.assets.count")
        static let owners = StorageSlot.named("kramaa.assets.owner")
        static let balances = StorageSlot.named("kramaa.assets.balance")
        static let approvals = StorageSlot.named("kramaa.assets.approval")
        static let operators = StorageSlot.named("kramaa.assets.operators")
        static let assets = StorageSlot.named("kramaa.assets")
        static let tags = StorageSlot.named("kramaa.assets.tags")
        static let deviceAsset = StorageSlot.named("kramaa.assets.deviceAsset")

        static func owner(_ t: UInt256) -> UInt256 { StorageSlot.mapping(owners, t) }
        static func balance(_ a: Address) -> UInt256 { StorageSlot.mapping(balances, a) }
        static func approval(_ t: UInt256) -> UInt256 { StorageSlot.mapping(approvals, t) }
        static func isOperator(_ owner: Address, _ op: Address) -> UInt256 { StorageSlot.mapping(StorageSlot.mapping(operators, owner), op) }
        static func asset(_ t: UInt256) -> UInt256 { StorageSlot.mapping(assets, t) }
        static func epc(_ t: UInt256) -> UInt256 { asset(t) }
        static func org(_ t: UInt256) -> UInt256 { StorageSlot.offset(asset(t), 1) }
        static func custodian(_ t: UInt256) -> UInt256 { StorageSlot.offset(asset(t), 2) }
        static func metadata(_ t: UInt256) -> UInt256 { StorageSlot.offset(asset(t), 3) }
        static func status(_ t: UInt256) -> UInt256 { StorageSlot.offset(asset(t), 4) }
        static func mintedAt(_ t: UInt256) -> UInt256 { StorageSlot.offset(asset(t), 5) }
        static func uri(_ t: UInt256) -> UInt256 { StorageSlot.offset(asset(t), 6) }
        static func tag(_ uid: UInt256) -> UInt256 { StorageSlot.mapping(tags, uid) }
        static func device(_ d: Address) -> UInt256 { StorageSlot.mapping(deviceAsset, d) }
    }

    /// The functions of this contract\'s ABI (the one place their signatures are written).
    /// A 7-byte tag UID as the `bytes7` word of the ABI (left-aligned), as `bindTag` and
    /// `assetOfTag` take it.
    public static func tagWord(_ uid: [UInt8]) -> Bytes32 {
        try! Bytes32(uid.prefix(32) + [UInt8](repeating: 0, count: 32 - min(uid.count, 32)))
    }

    public enum Method {
        public static let name = SystemMethod("name()"), symbol = SystemMethod("symbol()"), totalSupply = SystemMethod("totalSupply()")
        public static let balanceOf = SystemMethod("balanceOf(address)"), ownerOf = SystemMethod("ownerOf(uint256)")
        public static let tokenURI = SystemMethod("tokenURI(uint256)"), supportsInterface = SystemMethod("supportsInterface(bytes4)")
        public static let transferFrom = SystemMethod("transferFrom(address,address,uint256)")
        public static let safeTransfer = SystemMethod("safeTransferFrom(address,address,uint256)")
        public static let safeTransferData = SystemMethod("safeTransferFrom(address,address,uint256,bytes)")
        public static let approve = SystemMethod("approve(address,uint256)"), getApproved = SystemMethod("getApproved(uint256)")
        public static let setApprovalForAll = SystemMethod("setApprovalForAll(address,bool)")
        public static let isApprovedForAll = SystemMethod("isApprovedForAll(address,address)")
        public static let mint = SystemMethod("mintAsset(uint256,string,address,bytes32,string)")
        public static let getAsset = SystemMethod("getAsset(uint256)"), tokenIdOf = SystemMethod("tokenIdOf(string)")
        public static let bindDevice = SystemMethod("bindDevice(uint256,address)"), bindTag = SystemMethod("bindTag(uint256,bytes7)")
        public static let assetOfTag = SystemMethod("assetOfTag(bytes7)")
        public static let transferCustody = SystemMethod("transferCustody(uint256,address)")
        public static let setStatus = SystemMethod("setAssetStatus(uint256,uint8)")
    }

    public enum Event {
        public static let transfer = ABI.eventTopic("Transfer(address,address,uint256)")
        public static let approval = ABI.eventTopic("Approval(address,address,uint256)")
        public static let approvalForAll = ABI.eventTopic("ApprovalForAll(address,address,bool)")
        public static let minted = ABI.eventTopic("AssetMinted(uint256,uint256,string,bytes32)")
        public static let custodyChanged = ABI.eventTopic("CustodyChanged(uint256,address,address)")
        public static let statusChanged = ABI.eventTopic("AssetStatusChanged(uint256,uint8)")
        public static let deviceBound = ABI.eventTopic("DeviceBound(uint256,address)")
        public static let tagBound = ABI.eventTopic("TagBound(uint256,bytes7)")
    }

    /// ERC-165 ids: ERC-165 itself, ERC-721, ERC-721 metadata.
    static let interfaces: Set<UInt32> = [0x01ff_c9a7, 0x80ac_58cd, 0x5b5e_139f]
    static let receivedSelector = ABI.selector("onERC721Received(address,address,uint256,bytes)")

    public init() {}

    /// The token id of an EPC URI (pure identity, checked), with the URI written canonically.
    public static func tokenId(epc: String) throws(GS1Error) -> (UInt256, String) {
        let parsed = try EPCURI.parse(epc)
        guard parsed.form == .id else { throw GS1Error.malformedEPCURI(epc, reason: "an asset needs a pure-identity EPC (urn:epc:id:...)") }
        guard let link = CanonicalDigitalLink.normalise(epcURI: parsed) else {
            throw GS1Error.malformedEPCURI(epc, reason: "this EPC scheme has no GS1 Digital Link form")
        }
        return (tokenId(canonicalDigitalLink: link), parsed.urn)
    }

    /// ``tokenId(epc:)`` of a pure-identity EPC (nil when it is none), its link normalised
    /// through `links`: a capture's event hash has normalised the EPCs of its document already.
    public static func tokenId(pureIdentityEPC epc: String, links: CanonicalDigitalLink.Memo) -> UInt256? {
        guard epc.hasPrefix("urn:epc:id:") else { return nil }
        return links.normalise(epc).map(tokenId(canonicalDigitalLink:))
    }

    /// The token id of a GS1 Digital Link (any domain; checked).
    public static func tokenId(digitalLink: String) throws(GS1Error) -> UInt256 {
        tokenId(canonicalDigitalLink: CanonicalDigitalLink.normalise(digitalLink: try DigitalLink.parse(digitalLink)))
    }

    static func tokenId(canonicalDigitalLink link: String) -> UInt256 { UInt256(Keccak256.hash(Array(link.utf8))) }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        guard let selector = call.selector else { throw .reverted("the asset registry takes no plain transfers") }
        if let output = try erc721(selector, call) { return output }
        return try platform(selector, call)
    }

    // MARK: ERC-721

    private func erc721(_ selector: UInt32, _ call: SystemCall) throws(SystemCallError) -> [UInt8]? {
        switch selector {
        case Method.name.selector: return ABI.encode([.string("Kramaa Assets")])
        case Method.symbol.selector: return ABI.encode([.string("KRA")])
        case Method.totalSupply.selector: return ABI.encode([.uint(try call.load(Slot.count))])
        case Method.supportsInterface.selector:
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextBytes32() }
            return ABI.encode([.bool(Self.interfaces.contains(id.bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }))])
        case Method.balanceOf.selector:
            let owner = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            try call.require(owner != .zero, "ERC721: address zero is not a valid owner")
            return ABI.encode([.uint(try call.load(Slot.balance(owner)))])
        case Method.ownerOf.selector:
            return ABI.encode([.address(try ownerOf(try tokenArgument(call), call))])
        case Method.tokenURI.selector:
            let token = try tokenArgument(call)
            _ = try ownerOf(token, call)
            return ABI.encode([.string(try call.loadString(Slot.uri(token)))])
        case Method.getApproved.selector:
            let token = try tokenArgument(call)
            _ = try ownerOf(token, call)
            return ABI.encode([.address(try call.loadAddress(Slot.approval(token)))])
        case Method.isApprovedForAll.selector:
            let (owner, op) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextAddress()) }
            return ABI.encode([.bool(try call.loadBool(Slot.isOperator(owner, op)))])
        case Method.approve.selector:
            try call.requireNoValue()
            let (to, token) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextUInt()) }
            let owner = try ownerOf(token, call)
            try call.require(to != owner, "ERC721: approval to current owner")
            let isOperator = try call.loadBool(Slot.isOperator(owner, call.caller))
            try call.require(call.caller == owner || isOperator, "ERC721: approve caller is not token owner or approved for all")
            try call.store(Slot.approval(token), to)
            try call.emit([Event.approval, Bytes32(UInt256(owner)), Bytes32(UInt256(to)), Bytes32(token)])
            return []
        case Method.setApprovalForAll.selector:
            try call.requireNoValue()
            let (op, approved) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextBool()) }
            try call.require(op != call.caller, "ERC721: approve to caller")
            try call.store(Slot.isOperator(call.caller, op), approved)
            try call.emit([Event.approvalForAll, Bytes32(UInt256(call.caller)), Bytes32(UInt256(op))], ABI.encode([.bool(approved)]))
            return []
        case Method.transferFrom.selector, Method.safeTransfer.selector, Method.safeTransferData.selector:
            try call.requireNoValue()
            let (from, to, token, data) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextAddress(), try d.nextAddress(), try d.nextUInt(), selector == Method.safeTransferData.selector ? try d.nextBytes() : [])
            }
            try transfer(from: from, to: to, token: token, call)
            if selector != Method.transferFrom.selector { try checkReceiver(from: from, to: to, token: token, data: data, call) }
            return []
        default:
            return nil
        }
    }

    private func tokenArgument(_ call: SystemCall) throws(SystemCallError) -> UInt256 {
        try call.decode { d throws(ABIDecodingError) in try d.nextUInt() }
    }

    func ownerOf(_ token: UInt256, _ call: SystemCall) throws(SystemCallError) -> Address {
        let owner = try call.loadAddress(Slot.owner(token))
        try call.require(owner != .zero, "ERC721: invalid token ID")
        return owner
    }

    private func transfer(from: Address, to: Address, token: UInt256, _ call: SystemCall) throws(SystemCallError) {
        let owner = try ownerOf(token, call)
        try call.require(owner == from, "ERC721: transfer from incorrect owner")
        try call.require(to != .zero, "ERC721: transfer to the zero address")
        let approved = try call.loadAddress(Slot.approval(token))
        let isOperator = try call.loadBool(Slot.isOperator(owner, call.caller))
        try call.require(call.caller == owner || approved == call.caller || isOperator, "ERC721: caller is not token owner or approved")
        let status = try call.loadUInt64(Slot.status(token))
        try call.require(status != AssetStatus.destroyed.rawValue && status != AssetStatus.consumed.rawValue,
                         "asset \(Hex.encode(token.bigEndianBytes)) is \(AssetStatus(rawValue: status).map { "\($0)" } ?? "gone") and cannot change hands")
        try call.store(Slot.approval(token), Address.zero)
        try call.store(Slot.balance(from), try call.load(Slot.balance(from)) &- .one)
        try call.store(Slot.balance(to), try call.load(Slot.balance(to)) &+ .one)
        try call.store(Slot.owner(token), to)
        try call.emit([Event.transfer, Bytes32(UInt256(from)), Bytes32(UInt256(to)), Bytes32(token)])
    }

    /// ERC-721's safe transfer check: a contract recipient must answer `onERC721Received`.
    private func checkReceiver(from: Address, to: Address, token: UInt256, data: [UInt8], _ call: SystemCall) throws(SystemCallError) {
        guard try call.hasCode(to) else { return }
        let input = Self.receivedSelector + ABI.encode([.address(call.caller), .address(from), .uint(token), .bytes(data)])
        let result = try call.call(to, input: input)
        guard result.status == .success, result.output.count >= 4, Array(result.output.prefix(4)) == Self.receivedSelector else {
            if result.status == .revert && !result.output.isEmpty { throw .revert(result.output) }
            throw .reverted("ERC721: transfer to non ERC721Receiver implementer")
        }
    }
}
