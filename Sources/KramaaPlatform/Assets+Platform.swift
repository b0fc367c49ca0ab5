import KramaaEVM
import KramaaGS1
import KramaaPrimitives

/// The asset registry's platform functions: minting by EPC, devices and tags, custody and status.
extension AssetRegistry {
    func platform(_ selector: UInt32, _ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch selector {
        case Method.mint.selector:
            try call.requireNoValue()
            let (org, epc, owner, metadata, uri) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextUInt64(), try d.nextString(), try d.nextAddress(), try d.nextBytes32(), try d.nextString())
            }
            return ABI.encode([.uint(try mint(org: org, epc: epc, owner: owner, metadata: metadata, uri: uri, call))])
        case Method.getAsset.selector:
            let token = try call.decode { d throws(ABIDecodingError) in try d.nextUInt() }
            let owner = try call.loadAddress(Slot.owner(token))
            try call.require(owner != .zero, "no asset \(Hex.encode(token.bigEndianBytes))")
            return ABI.encode([.string(try call.loadString(Slot.epc(token))), .uint(try call.load(Slot.org(token))), .address(owner),
                               .address(try call.loadAddress(Slot.custodian(token))), .fixedBytes(Bytes32(try call.load(Slot.metadata(token)))),
                               .uint(try call.load(Slot.status(token))), .uint(try call.load(Slot.mintedAt(token)))])
        case Method.tokenIdOf.selector:
            let epc = try call.decode { d throws(ABIDecodingError) in try d.nextString() }
            let token = try Self.token(epc, call)
            try call.require(!(try call.loadAddress(Slot.owner(token))).isZeroAddress, "no asset with EPC \(epc)")
            return ABI.encode([.uint(token)])
        case Method.bindDevice.selector:
            try call.requireNoValue()
            let (token, device) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt(), try d.nextAddress()) }
            let org = try requireOrganisation(of: token, holds: [.manufacturer, .deviceManager], call)
            let deviceOrg = try call.reading(DeviceRegistry.address).loadUInt64(DeviceRegistry.Slot.org(device))
            try call.require(deviceOrg == org, "device \(device) is not a device of organisation \(org)")
            try call.require((try call.load(Slot.device(device))).isZero, "device \(device) is bound to an asset already")
            try call.store(Slot.device(device), token)
            try call.emit([Event.deviceBound, Bytes32(token), Bytes32(UInt256(device))])
            return []
        case Method.bindTag.selector:
            try call.requireNoValue()
            let (token, uid) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt(), try d.nextBytes32()) }
            try call.require(uid.bytes[7...].allSatisfy { $0 == 0 } && uid.bytes[..<7].contains { $0 != 0 },
                             "a tag UID is 7 bytes (bytes7), not zero")
            _ = try requireOrganisation(of: token, holds: .manufacturer, call)
            try call.require((try call.load(Slot.tag(UInt256(uid)))).isZero, "tag \(Hex.encode(uid.bytes.prefix(7))) is bound already")
            try call.store(Slot.tag(UInt256(uid)), token)
            try call.emit([Event.tagBound, Bytes32(token)], uid.bytes)
            return []
        case Method.assetOfTag.selector:
            let uid = try call.decode { d throws(ABIDecodingError) in try d.nextBytes32() }
            let token = try call.load(Slot.tag(UInt256(uid)))
            try call.require(!token.isZero, "no asset bound to tag \(Hex.encode(uid.bytes.prefix(7)))")
            return ABI.encode([.uint(token)])
        case Method.transferCustody.selector:
            try call.requireNoValue()
            let (token, to) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt(), try d.nextAddress()) }
            let from = try call.loadAddress(Slot.custodian(token))
            _ = try ownerOf(token, call)
            try call.require(call.caller == from || Self.custodyAgents.contains(call.caller), "only the custodian \(from) may hand over custody")
            try call.require(to != .zero, "custody cannot go to the zero address")
            try call.store(Slot.custodian(token), to)
            try call.emit([Event.custodyChanged, Bytes32(token), Bytes32(UInt256(from)), Bytes32(UInt256(to))])
            return []
        case Method.setStatus.selector:
            try call.requireNoValue()
            let (token, code) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt(), try d.nextUInt64()) }
            guard let status = AssetStatus(rawValue: code), status != .active else { throw .reverted("status must be 2 recalled, 3 destroyed or 4 consumed") }
            try setStatus(token, status, call)
            return []
        default:
            throw .reverted("unknown function of the asset registry")
        }
    }

    static func token(_ epc: String, _ call: SystemCall) throws(SystemCallError) -> UInt256 {
        do { return try tokenId(epc: epc).0 } catch { throw .reverted("invalid EPC: \(error)") }
    }

    private func mint(org: UInt64, epc: String, owner: Address, metadata: Bytes32, uri: String, _ call: SystemCall) throws(SystemCallError) -> UInt256 {
        try OrganizationRegistry.require(call.caller, holds: .manufacturer, in: org, call)
        let canonical: (UInt256, String)
        do { canonical = try Self.tokenId(epc: epc) } catch { throw .reverted("invalid EPC: \(error)") }
        let token = canonical.0
        try call.require(owner != .zero, "ERC721: mint to the zero address")
        try call.require((try call.loadAddress(Slot.owner(token))) == .zero, "asset \(canonical.1) exists already")
        try call.require(uri.utf8.count <= 2048, "a token URI has at most 2048 bytes")
        try call.store(Slot.owner(token), owner)
        try call.store(Slot.balance(owner), try call.load(Slot.balance(owner)) &+ .one)
        try call.storeString(Slot.epc(token), canonical.1)
        try call.store(Slot.org(token), org)
        try call.store(Slot.custodian(token), owner)
        try call.store(Slot.metadata(token), UInt256(metadata))
        try call.store(Slot.status(token), AssetStatus.active.rawValue)
        try call.store(Slot.mintedAt(token), max(call.blockNumber, 1))
        try call.storeString(Slot.uri(token), uri)
        try call.store(Slot.count, try call.load(Slot.count) &+ .one)
        try call.emit([Event.transfer, Bytes32.zero, Bytes32(UInt256(owner)), Bytes32(token)])
        try call.emit([Event.minted, Bytes32(token), Bytes32(UInt256(org))], ABI.encode([.string(canonical.1), .fixedBytes(metadata)]))
        return token
    }

    /// The asset's organisation, after checking the caller holds one of `roles` there.
    private func requireOrganisation(of token: UInt256, holds roles: OrganizationRoles, _ call: SystemCall) throws(SystemCallError) -> UInt64 {
        _ = try ownerOf(token, call)
        let org = try call.loadUInt64(Slot.org(token))
        try OrganizationRegistry.require(call.caller, holds: roles, in: org, call)
        return org
    }

    private func setStatus(_ token: UInt256, _ status: AssetStatus, _ call: SystemCall) throws(SystemCallError) {
        let owner = try ownerOf(token, call)
        let current = try call.loadUInt64(Slot.status(token))
        try call.require(current == AssetStatus.active.rawValue || (current == AssetStatus.recalled.rawValue && status != .recalled),
                         "asset is \(AssetStatus(rawValue: current).map { "\($0)" } ?? "unknown") already")
        if status == .recalled || call.caller != owner {
            _ = try requireOrganisation(of: token, holds: status == .recalled ? .manufacturer : [.manufacturer, .retailer], call)
        }
        try call.store(Slot.status(token), status.rawValue)
        try call.emit([Event.statusChanged, Bytes32(token)], ABI.encode([.uint(UInt256(status.rawValue))]))
    }
}

extension Address {
    var isZeroAddress: Bool { self == .zero }
}
