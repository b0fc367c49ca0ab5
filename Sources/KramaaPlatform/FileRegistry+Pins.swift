import KramaaEVM
import KramaaPrimitives

/// The file registry's pins: pinning with allocation, held reports, repair, unpinning, the read
/// policy and the wrapped keys of private files (the rules are in ``FileRegistry``'s doc comment).
extension FileRegistry {
    /// A pin's record; `id` 0 means the CID is not pinned.
    struct Pin {
        var cidHash: Bytes32
        var id: UInt64 = 0
        var ownerKind: UInt64 = 0, ownerId = UInt256.zero
        var size: UInt64 = 0, minReplicas: UInt64 = 0, maxReplicas: UInt64 = 0
        var policy: UInt64 = 0, readerId = UInt256.zero, readerRoles: UInt64 = 0
        var pinnedAt: UInt64 = 0
        /// The organisation whose quota the pin counts against.
        var quotaOrg: UInt64 = 0
        var holders: [Address] = []

        static let holdersField = 11

        init(cidHash: Bytes32) { self.cidHash = cidHash }

        init(cidHash: Bytes32, _ storage: some StorageReader) throws(SystemCallError) {
            self.cidHash = cidHash
            let word = { (i: Int) throws(SystemCallError) -> UInt256 in try storage.load(Slot.pinField(cidHash, i)) }
            let small = { (i: Int) throws(SystemCallError) -> UInt64 in try storage.loadUInt64(Slot.pinField(cidHash, i)) }
            id = try small(0)
            guard id != 0 else { return }
            (ownerKind, ownerId, size, minReplicas, maxReplicas) = (try small(1), try word(2), try small(3), try small(4), try small(5))
            (policy, readerId, readerRoles, pinnedAt, quotaOrg) = (try small(6), try word(7), try small(8), try small(9), try small(10))
            holders = try storage.loadAddressArray(Slot.pinField(cidHash, Self.holdersField))
        }

        /// Writes the record (all zero when `id` is 0: the pin is gone).
        func store(_ call: SystemCall) throws(SystemCallError) {
            let words = [UInt256(id), UInt256(ownerKind), ownerId, UInt256(size), UInt256(minReplicas), UInt256(maxReplicas),
                         UInt256(policy), readerId, UInt256(readerRoles), UInt256(pinnedAt), UInt256(quotaOrg)]
            for (i, word) in words.enumerated() { try call.store(Slot.pinField(cidHash, i), word) }
            try call.storeAddressArray(Slot.pinField(cidHash, Self.holdersField), holders)
        }

        /// What the quota counts for it.
        var charge: (UInt64, overflow: Bool) { size.multipliedReportingOverflow(by: maxReplicas) }

        var ownerText: String {
            ownerKind == OwnerKind.asset.rawValue ? "asset \(Hex.encode(ownerId.bigEndianBytes))" : "organisation \(ownerId)"
        }
    }

    func files(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.pin.selector:
            try call.requireNoValue()
            let (bytes, request) = try call.decode { d throws(ABIDecodingError) in
                let bytes = try d.nextBytes()
                var pin = Pin(cidHash: .zero)
                (pin.size, pin.ownerKind, pin.ownerId) = (try d.nextUInt64(), try d.nextUInt64(), try d.nextUInt())
                (pin.minReplicas, pin.maxReplicas, pin.policy) = (try d.nextUInt64(), try d.nextUInt64(), try d.nextUInt64())
                (pin.readerId, pin.readerRoles) = (try d.nextUInt(), try d.nextUInt64())
                return (bytes, pin)
            }
            return ABI.encode([.array(try pin(try Self.cid(bytes, call), request, call).map(ABIValue.address))])
        case Method.unpin.selector:
            try call.requireNoValue()
            try unpin(try cidArgument(call), call)
            return []
        case Method.reportHeld.selector:
            try call.requireNoValue()
            let cid = try cidArgument(call)
            let pin = try Self.requirePin(cid, call)
            try call.require(pin.holders.contains(call.caller), "\(call.caller) is not allocated \(Self.text(cid))")
            try call.require(!(try call.loadBool(Slot.held(pin.id, call.caller))), "\(call.caller) has reported holding \(Self.text(cid)) already")
            try call.store(Slot.held(pin.id, call.caller), true)
            try call.emit([Event.held, pin.cidHash, Bytes32(UInt256(call.caller))])
            return []
        case Method.repair.selector:
            try call.requireNoValue()
            return ABI.encode([.array(try repair(try cidArgument(call), call).map(ABIValue.address))])
        case Method.setReaderKey.selector:
            try call.requireNoValue()
            let (bytes, recipient, wrapped) = try call.decode { d throws(ABIDecodingError) in (try d.nextBytes(), try d.nextBytes32(), try d.nextBytes()) }
            let cid = try Self.cid(bytes, call)
            let pin = try Self.requirePin(cid, call)
            _ = try requireManager(pin, call)
            try call.require(pin.policy != ReadPolicy.public.rawValue, "\(Self.text(cid)) is public: it has no file key to wrap")
            try call.require(wrapped.count <= Self.maxWrappedKeyLength, "a wrapped key has at most \(Self.maxWrappedKeyLength) bytes")
            try call.storeBytes(Slot.key(pin.id, recipient), wrapped)
            try call.emit([Event.readerKeySet, pin.cidHash, recipient], ABI.encode([.bytes(wrapped)]))
            return []
        case Method.getPin.selector:
            let pin = try Self.requirePin(try cidArgument(call), call)
            var held: [ABIValue] = [], live: [ABIValue] = []
            for holder in pin.holders {
                held.append(.bool(try call.loadBool(Slot.held(pin.id, holder))))
                live.append(.bool(try StorageNode(holder, call).isLive(at: call.timestamp)))
            }
            return ABI.encode([.uint(UInt256(pin.ownerKind)), .uint(pin.ownerId), .uint(UInt256(pin.size)), .uint(UInt256(pin.minReplicas)),
                               .uint(UInt256(pin.maxReplicas)), .uint(UInt256(pin.policy)), .uint(pin.readerId), .uint(UInt256(pin.readerRoles)),
                               .uint(UInt256(pin.pinnedAt)), .array(pin.holders.map(ABIValue.address)), .array(held), .array(live)])
        case Method.mayRead.selector:
            let (bytes, account) = try call.decode { d throws(ABIDecodingError) in (try d.nextBytes(), try d.nextAddress()) }
            return ABI.encode([.bool(try mayRead(try Self.requirePin(try Self.cid(bytes, call), call), account, call))])
        case Method.readerKey.selector:
            let (bytes, recipient) = try call.decode { d throws(ABIDecodingError) in (try d.nextBytes(), try d.nextBytes32()) }
            let pin = try Self.requirePin(try Self.cid(bytes, call), call)
            return ABI.encode([.bytes(try call.loadBytes(Slot.key(pin.id, recipient)))])
        default:
            throw .reverted("unknown function of the file registry")
        }
    }

    // MARK: Arguments and checks

    static func cid(_ bytes: [UInt8], _ call: SystemCall) throws(SystemCallError) -> CIDBytes {
        do { return try CIDBytes(bytes) } catch { throw .reverted("malformed CID \(Hex.encode(bytes.prefix(64))): \(error)") }
    }

    private func cidArgument(_ call: SystemCall) throws(SystemCallError) -> CIDBytes {
        try Self.cid(try call.decode { d throws(ABIDecodingError) in try d.nextBytes() }, call)
    }

    /// How refusals name a file: its canonical CID bytes in hex.
    static func text(_ cid: CIDBytes) -> String { "file \(Hex.encode(cid.canonical))" }

    static func requirePin(_ cid: CIDBytes, _ call: SystemCall) throws(SystemCallError) -> Pin {
        let pin = try Pin(cidHash: cidHash(cid), call)
        try call.require(pin.id != 0, "no pin for \(text(cid))")
        return pin
    }

    /// Reverts unless the caller may pin and manage `pin` (the owning organisation's `files`
    /// role or admins; for an asset, its current owner); returns the organisation charged.
    private func requireManager(_ pin: Pin, _ call: SystemCall) throws(SystemCallError) -> UInt64 {
        switch OwnerKind(rawValue: pin.ownerKind) {
        case .organization:
            let org = pin.ownerId.uint64Value ?? 0
            try OrganizationRegistry.require(call.caller, holds: .files, in: org, call)
            return org
        case .asset:
            let assets = call.reading(AssetRegistry.address)
            let owner = try assets.loadAddress(AssetRegistry.Slot.owner(pin.ownerId))
            try call.require(owner != .zero, "no asset \(Hex.encode(pin.ownerId.bigEndianBytes))")
            try call.require(call.caller == owner, "only the owner \(owner) of asset \(Hex.encode(pin.ownerId.bigEndianBytes)) may pin and manage its files")
            return try assets.loadUInt64(AssetRegistry.Slot.org(pin.ownerId))
        case nil:
            throw .reverted("owner kind \(pin.ownerKind) is not 1 (organisation) or 2 (asset)")
        }
    }

    private func checkPolicy(_ pin: Pin, _ call: SystemCall) throws(SystemCallError) {
        switch ReadPolicy(rawValue: pin.policy) {
        case .public:
            try call.require(pin.readerId.isZero && pin.readerRoles == 0, "a public file names no readers (readerId and readerRoles 0)")
        case .organizationRole:
            let org = pin.readerId.uint64Value ?? 0
            try call.require(try OrganizationRegistry.exists(org, call.reading(OrganizationRegistry.address)), "no organisation \(pin.readerId)")
            let roles = OrganizationRoles(rawValue: pin.readerRoles)
            try call.require(OrganizationRoles.known.isSuperset(of: roles), "unknown role bits \(roles.subtracting(.known).rawValue)")
        case .assetHolder:
            try call.require(pin.readerRoles == 0, "an asset's readers are its owner and custodian (readerRoles 0)")
            try call.require(try call.reading(AssetRegistry.address).loadAddress(AssetRegistry.Slot.owner(pin.readerId)) != .zero,
                             "no asset \(Hex.encode(pin.readerId.bigEndianBytes))")
        case nil:
            throw .reverted("policy \(pin.policy) is not 0 (public), 1 (organisation members with a role) or 2 (the asset's owner or custodian)")
        }
    }

    /// Whether `account` may read `pin`'s file by its policy at the current block.
    private func mayRead(_ pin: Pin, _ account: Address, _ call: SystemCall) throws(SystemCallError) -> Bool {
        switch ReadPolicy(rawValue: pin.policy) {
        case .public:
            return true
        case .organizationRole:
            let held = try OrganizationRegistry.roles(of: account, in: pin.readerId.uint64Value ?? 0, call.reading(OrganizationRegistry.address))
            let wanted = pin.readerRoles == 0 ? OrganizationRoles.known : OrganizationRoles(rawValue: pin.readerRoles)
            return held.contains(.admin) || !held.isDisjoint(with: wanted)
        case .assetHolder:
            let assets = call.reading(AssetRegistry.address)
            guard account != .zero else { return false }
            if try assets.loadAddress(AssetRegistry.Slot.owner(pin.readerId)) == account { return true }
            return try assets.loadAddress(AssetRegistry.Slot.custodian(pin.readerId)) == account
        case nil:
            return false
        }
    }

    // MARK: Pinning, repair, unpinning

    /// Pins `cid` as `request` says (its `cidHash` is set here), allocating its nodes.
    private func pin(_ cid: CIDBytes, _ request: Pin, _ call: SystemCall) throws(SystemCallError) -> [Address] {
        var pin = request
        pin.cidHash = Self.cidHash(cid)
        let existing = try Pin(cidHash: pin.cidHash, call)
        try call.require(existing.id == 0, "\(Self.text(cid)) is pinned already by \(existing.ownerText)")
        try call.require(pin.size > 0, "a pinned file has at least 1 byte")
        try call.require(pin.minReplicas >= 1 && pin.minReplicas <= pin.maxReplicas && pin.maxReplicas <= Self.maxReplicas,
                         "replicas must satisfy 1 ≤ minReplicas (\(pin.minReplicas)) ≤ maxReplicas (\(pin.maxReplicas)) ≤ \(Self.maxReplicas)")
        pin.quotaOrg = try requireManager(pin, call)
        try checkPolicy(pin, call)
        let used = try call.load(Slot.usage(pin.quotaOrg)), limit = try Self.quotaLimit(pin.quotaOrg, call)
        let charge = pin.charge
        try call.require(!charge.overflow && used &+ UInt256(charge.0) <= limit,
                         "organisation \(pin.quotaOrg) has \(used <= limit ? limit &- used : .zero) of its \(limit) bytes of quota left; "
                             + "this pin needs \(pin.size) bytes × \(pin.maxReplicas) replicas")
        let candidates = try Self.candidates(excluding: [], call)
        let chosen = Self.allocate(Int(pin.maxReplicas), size: pin.size, among: candidates, avoiding: [])
        try call.require(chosen.count >= Int(pin.minReplicas),
                         "only \(chosen.count) of \(candidates.count) live storage nodes have room for \(pin.size) bytes; "
                             + "\(Self.text(cid)) needs at least \(pin.minReplicas)")
        pin.id = try call.loadUInt64(Slot.pinCount) + 1
        try call.store(Slot.pinCount, pin.id)
        pin.pinnedAt = max(call.blockNumber, 1)
        try call.store(Slot.usage(pin.quotaOrg), used &+ UInt256(charge.0))
        try call.emit([Event.pinned, pin.cidHash, Bytes32(UInt256(pin.ownerKind)), Bytes32(pin.ownerId)],
                      ABI.encode([.bytes(cid.canonical), .uint(UInt256(pin.size)), .uint(UInt256(pin.minReplicas)),
                                  .uint(UInt256(pin.maxReplicas)), .uint(UInt256(pin.policy))]))
        try assign(chosen, to: &pin, cid, call)
        try pin.store(call)
        return chosen.map(\.address)
    }

    /// Adds `chosen` to the pin's holders: their ledgers count the file, and each learns from its `FileAllocated` log.
    private func assign(_ chosen: [Candidate], to pin: inout Pin, _ cid: CIDBytes, _ call: SystemCall) throws(SystemCallError) {
        for candidate in chosen {
            var node = try StorageNode(candidate.address, call)
            node.allocate(pin.size)
            try node.store(call)
            pin.holders.append(candidate.address)
            try call.emit([Event.allocated, pin.cidHash, Bytes32(UInt256(candidate.address))],
                          ABI.encode([.bytes(cid.canonical), .uint(UInt256(pin.size))]))
        }
    }

    /// Takes the file off `holder`'s ledger; its `FileReleased` log tells it to drop the blocks.
    private func release(_ holder: Address, _ pin: Pin, _ cid: CIDBytes, _ call: SystemCall) throws(SystemCallError) {
        var node = try StorageNode(holder, call)
        node.release(pin.size)
        try node.store(call)
        try call.store(Slot.held(pin.id, holder), false)
        try call.emit([Event.released, pin.cidHash, Bytes32(UInt256(holder))], ABI.encode([.bytes(cid.canonical)]))
    }

    /// Releases holders whose node was deregistered and, if fewer than `minReplicas` live
    /// holders remain, allocates new nodes until the minimum is met (stale holders keep their
    /// place and count again when they return). Returns the nodes allocated.
    private func repair(_ cid: CIDBytes, _ call: SystemCall) throws(SystemCallError) -> [Address] {
        var pin = try Self.requirePin(cid, call)
        var kept: [Address] = [], released = 0, live = 0, liveOrgs: Set<UInt64> = []
        for holder in pin.holders {
            let node = try StorageNode(holder, call)
            guard node.isRegistered else {
                try release(holder, pin, cid, call)
                released += 1
                continue
            }
            kept.append(holder)
            if node.isLive(at: call.timestamp) { live += 1; liveOrgs.insert(node.org) }
        }
        pin.holders = kept
        let needed = Int(pin.minReplicas) - live
        var chosen: [Candidate] = []
        if needed > 0 {
            chosen = Self.allocate(needed, size: pin.size, among: try Self.candidates(excluding: Set(kept), call), avoiding: liveOrgs)
        }
        try call.require(released > 0 || !chosen.isEmpty, needed <= 0
            ? "\(Self.text(cid)) has \(live) live holders, at least its minimum of \(pin.minReplicas): nothing to repair"
            : "\(Self.text(cid)) has \(live) live holders of the \(pin.minReplicas) it needs, and no other live storage node has room for \(pin.size) bytes")
        try assign(chosen, to: &pin, cid, call)
        try call.storeAddressArray(Slot.pinField(pin.cidHash, Pin.holdersField), pin.holders)
        return chosen.map(\.address)
    }

    private func unpin(_ cid: CIDBytes, _ call: SystemCall) throws(SystemCallError) {
        let pin = try Self.requirePin(cid, call)
        _ = try requireManager(pin, call)
        for holder in pin.holders { try release(holder, pin, cid, call) }
        let used = try call.load(Slot.usage(pin.quotaOrg)), charge = UInt256(pin.charge.0)
        try call.store(Slot.usage(pin.quotaOrg), used > charge ? used &- charge : .zero)
        try Pin(cidHash: pin.cidHash).store(call)
        try call.emit([Event.unpinned, pin.cidHash], ABI.encode([.bytes(cid.canonical)]))
    }
}
