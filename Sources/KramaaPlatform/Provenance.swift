import KramaaEPCIS
import KramaaEVM
import KramaaGS1
import KramaaPrimitives

/// The provenance registry (`0x…4b520013`): GS1 EPCIS 2.0 events captured on chain.
///
/// A capture is a transaction carrying an EPCIS document (JSON-LD), signed by a device (its
/// current key, the device active) or by a member of the organisation. The document itself is
/// replicated with the chain as the transaction's input; the contract commits to each event's
/// CBV 2.0 event hash (so anyone holding the event can check it against a finalised block),
/// refuses an event recorded before, tracks aggregation (items in a case on a pallet) and moves
/// custody of assets on receiving steps, down the aggregation to the items inside.
///
/// ```
/// function captureEvents(uint256 org, bytes document) returns (bytes32[] eventHashes)   // org 0: the device's own
/// function eventRecord(bytes32 eventHash) view returns (uint256 blockNumber, uint256 org, address recorder, address device)
/// function childrenOf(bytes32 epcKey) view returns (bytes32[] children)                  // epcKey: AssetRegistry token id of an EPC
/// function breachedAt(uint256 tokenId) view returns (uint256 blockNumber)                 // 0: no breach recorded
/// event EPCISEventRecorded(bytes32 indexed eventHash, uint256 indexed org, address indexed recorder, address device, uint256 index)
/// event AssetEventRecorded(uint256 indexed tokenId, bytes32 indexed eventHash)
/// event AssetBreachRecorded(uint256 indexed tokenId, bytes32 indexed eventHash)
/// ```
///
/// A breach is an event naming the asset (or what it is aggregated in) with a sensor report
/// that carries an alert (`exception`, e.g. a temperature out of range) or a disposition of
/// damaged, destroyed or expired: contracts read it (an escrow refunds instead of paying).
public struct ProvenanceRegistry: SystemContract {
    public static let address = SystemContracts.address(0x13)
    /// Events one capture may hold (the rest of a larger document goes in further captures).
    public static let maxEventsPerCapture = 100
    /// Business steps that give the recorder custody (canonical CBV URIs).
    public static let custodySteps: Set<String> = [
        "https://ref.gs1.org/cbv/BizStep-receiving", "https://ref.gs1.org/cbv/BizStep-accepting",
    ]
    /// Dispositions that make an event a breach (canonical CBV URIs).
    public static let breachDispositions: Set<String> = [
        "https://ref.gs1.org/cbv/Disp-damaged", "https://ref.gs1.org/cbv/Disp-destroyed", "https://ref.gs1.org/cbv/Disp-expired",
    ]
    /// How deep custody follows aggregation (pallet → case → item), and how many EPCs at most.
    static let maxAggregationDepth = 4, maxCustodyMoves = 2_000

    enum Slot {
        static let events = StorageSlot.named("kramaa.provenance.events")
        static let children = StorageSlot.named("kramaa.provenance.children")
        static let breaches = StorageSlot.named("kramaa.provenance.breaches")
        static let eventIDs = StorageSlot.named("kramaa.provenance.eventIDs")
        /// The hash of the event recorded under an `eventID` (keyed by the ID's keccak256).
        static func eventID(_ id: String) -> UInt256 { StorageSlot.mapping(eventIDs, Keccak256.hash(Array(id.utf8))) }
        static func breach(_ key: UInt256) -> UInt256 { StorageSlot.mapping(breaches, key) }
        static func event(_ hash: Bytes32) -> UInt256 { StorageSlot.mapping(events, hash) }
        static func children(_ key: UInt256) -> UInt256 { StorageSlot.mapping(children, key) }
    }

    /// The functions of this contract\'s ABI (the one place their signatures are written).
    public enum Method {
        public static let capture = SystemMethod("captureEvents(uint256,bytes)")
        public static let record = SystemMethod("eventRecord(bytes32)")
        public static let children = SystemMethod("childrenOf(bytes32)")
        public static let breachedAt = SystemMethod("breachedAt(uint256)")
    }

    public enum Event {
        public static let recorded = ABI.eventTopic("EPCISEventRecorded(bytes32,uint256,address,address,uint256)")
        public static let assetEvent = ABI.eventTopic("AssetEventRecorded(uint256,bytes32)")
        public static let breach = ABI.eventTopic("AssetBreachRecorded(uint256,bytes32)")
    }

    public init() {}

    /// The storage slot of an event's record, for `eth_getProof` against a block's state root.
    /// It holds the block the event was recorded in. The next slot holds the recorder (the low
    /// 160 bits) and the organisation (bits 160–223), with bit 255 set when the recorder is a
    /// device's key: the device is then the one the device registry maps that key to (a key is
    /// never registered twice nor its mapping removed, so this holds after the device's key
    /// changes). Two slots, since each new slot costs a capture 22,100 gas.
    public static func recordSlot(_ hash: Bytes32) -> UInt256 { Slot.event(hash) }

    static let recordedByDevice = UInt256.one << 255

    static func packRecorder(_ recorder: Address, org: UInt64, byDevice: Bool) -> UInt256 {
        (byDevice ? recordedByDevice : .zero) | UInt256(org) << 160 | UInt256(recorder)
    }

    static func unpackRecorder(_ word: UInt256) -> (recorder: Address, org: UInt64, byDevice: Bool) {
        let byDevice = word & recordedByDevice == recordedByDevice
        return (Address(word: word), ((word & ~recordedByDevice) >> 160).uint64Value ?? .max, byDevice)
    }

    /// The key of an EPC (URN or Digital Link) in the asset and aggregation maps, if it is a
    /// GS1 identifier with a Digital Link form.
    /// The asset key of an identifier: the token id a pure-identity EPC or a Digital Link is minted
    /// under. `links` normalises EPCs (the event hash of the same document has, mostly).
    public static func key(ofEPC epc: String, links: CanonicalDigitalLink.Memo = .init()) -> UInt256? {
        if epc.hasPrefix("urn:epc:id:") { return AssetRegistry.tokenId(pureIdentityEPC: epc, links: links) }
        if epc.hasPrefix("http://") || epc.hasPrefix("https://") { return try? AssetRegistry.tokenId(digitalLink: epc) }
        return nil
    }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.capture.selector:
            try call.requireNoValue()
            let (org, document) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextBytes()) }
            return ABI.encode([.array(try capture(org: org, document, call).map { .fixedBytes($0) })])
        case Method.record.selector:
            let hash = try call.decode { d throws(ABIDecodingError) in try d.nextBytes32() }
            let base = Slot.event(hash)
            let block = try call.loadUInt64(base)
            try call.require(block != 0, "no event \(EPCISEventHash.hashID(digest: hash))")
            let (recorder, org, byDevice) = Self.unpackRecorder(try call.load(StorageSlot.offset(base, 1)))
            let device = byDevice ? try call.reading(DeviceRegistry.address).loadAddress(DeviceRegistry.Slot.keyDevice(recorder)) : .zero
            return ABI.encode([.uint(UInt256(block)), .uint(UInt256(org)), .address(recorder), .address(device)])
        case Method.breachedAt.selector:
            let token = try call.decode { d throws(ABIDecodingError) in try d.nextUInt() }
            return ABI.encode([.uint(try call.load(Slot.breach(token)))])
        case Method.children.selector:
            let key = try call.decode { d throws(ABIDecodingError) in try d.nextBytes32() }
            return ABI.encode([.array(try children(of: UInt256(key), call).map { .fixedBytes(Bytes32($0)) })])
        default:
            throw .reverted("unknown function of the provenance registry")
        }
    }

    /// Who records: the device whose current key is the caller (its organisation), or a member.
    private func recorder(org: UInt64, _ call: SystemCall) throws(SystemCallError) -> (org: UInt64, device: Address) {
        let devices = call.reading(DeviceRegistry.address)
        if try devices.loadAddress(DeviceRegistry.Slot.keyDevice(call.caller)) != .zero {
            guard let (device, deviceOrg) = try DeviceRegistry.activeDevice(forKey: call.caller, devices) else {
                throw .reverted("key \(call.caller) is not the current key of an active device: its events are refused")
            }
            try call.require(org == 0 || org == deviceOrg, "device \(device) belongs to organisation \(deviceOrg), not \(org)")
            return (deviceOrg, device)
        }
        let orgs = call.reading(OrganizationRegistry.address)
        try call.require(try OrganizationRegistry.exists(org, orgs), "no organisation \(org)")
        try call.require(!(try OrganizationRegistry.roles(of: call.caller, in: org, orgs)).isEmpty,
                         "\(call.caller) is not a member of organisation \(org)")
        return (org, .zero)
    }

    /// A capture's document, parsed and hashed before its transaction runs; see ``prepare(_:)``.
    public func prepare(_ input: [UInt8]) -> (any Sendable)? {
        guard SystemMethod.selector(of: input) == Method.capture.selector else { return nil }
        var decoder = ABIDecoder(calldata: input)
        guard (try? decoder.nextUInt64()) != nil, let bytes = try? decoder.nextBytes() else { return nil }
        return PreparedCapture(bytes)
    }

    private func capture(org: UInt64, _ bytes: [UInt8], _ call: SystemCall) throws(SystemCallError) -> [Bytes32] {
        let (org, device) = try recorder(org: org, call)
        try call.charge(8 * Int64(bytes.count))  // parsing and hashing the document
        let prepared = (call.prepared as? PreparedCapture).flatMap { $0.bytes == bytes ? $0 : nil }
        let document: EPCISDocument
        switch prepared?.document ?? PreparedCapture.parse(bytes) {
        case .success(let parsed): document = parsed
        case .failure(let error): throw .reverted("invalid EPCIS document: \(error)")
        }
        try call.require(!document.events.isEmpty, "the EPCIS document holds no events")
        try call.require(document.events.count <= Self.maxEventsPerCapture,
                         "a capture holds at most \(Self.maxEventsPerCapture) events (this one \(document.events.count))")
        var hashes: [Bytes32] = []
        let links = prepared?.links ?? CanonicalDigitalLink.Memo()  // identifiers the document's events share, normalised once
        for (index, event) in document.events.enumerated() {
            try call.charge(3_000)
            let hash = prepared?.digests?[index] ?? EPCISEventHash.digest(of: event, links: links)
            let base = Slot.event(hash)
            try call.require(try call.loadUInt64(base) == 0, "event \(index) (\(EPCISEventHash.hashID(digest: hash))) is recorded already")
            try claimEventID(of: event, index: index, hash: hash, call)
            try call.store(base, max(call.blockNumber, 1))
            try call.store(StorageSlot.offset(base, 1), Self.packRecorder(call.caller, org: org, byDevice: device != .zero))
            try call.emit([Event.recorded, hash, Bytes32(UInt256(org)), Bytes32(UInt256(call.caller))],
                          ABI.encode([.address(device), .uint(UInt256(UInt64(index)))]))
            try aggregate(event, links: links, call)
            try linkAssets(event, hash: hash, links: links, call)
            hashes.append(hash)
        }
        return hashes
    }

    /// Every identifier an event names, as keys.
    /// An `eventID` names one event: a hash ID must be the event's own hash, and an ID already
    /// recorded for another event is refused (EPCIS 2.0 §7.4.1: event IDs are unique).
    private func claimEventID(of event: EPCISEvent, index: Int, hash: Bytes32, _ call: SystemCall) throws(SystemCallError) {
        guard let id = event.eventID else { return }
        if let problem = EPCISEventHash.eventIDProblem(event, digest: hash) { throw .reverted("event \(index): \(problem)") }
        let slot = Slot.eventID(id)
        let holder = try call.load(slot)
        try call.require(holder.isZero, "event \(index): eventID \(id) already names another event (\(EPCISEventHash.hashID(digest: Bytes32(holder)))); give each event its own ID")
        try call.store(slot, UInt256(hash))
    }

    public static func keys(of event: EPCISEvent, links: CanonicalDigitalLink.Memo = .init()) -> [UInt256] {
        var epcs = event.epcList + event.childEPCs + event.inputEPCList + event.outputEPCList
        if let parent = event.parentID { epcs.append(parent) }
        var seen = Set<UInt256>()
        return epcs.compactMap { key(ofEPC: $0, links: links) }.filter { seen.insert($0).inserted }
    }

    /// Whether an event reports a breach: a sensor alert or a damaged/destroyed/expired disposition.
    public static func isBreach(_ event: EPCISEvent) -> Bool {
        event.disposition.map(breachDispositions.contains) == true
            || event.sensorElementList.contains { $0.reports.contains { $0.exception != nil } }
    }

    /// Emits the asset link of every minted asset the event names; on receiving, moves custody,
    /// and on a breach marks it, to the assets named and everything aggregated in them.
    private func linkAssets(_ event: EPCISEvent, hash: Bytes32, links: CanonicalDigitalLink.Memo, _ call: SystemCall) throws(SystemCallError) {
        let assets = call.reading(AssetRegistry.address)
        let receiving = event.bizStep.map(Self.custodySteps.contains) ?? false
        let breach = Self.isBreach(event)
        var visited = 0
        for key in Self.keys(of: event, links: links) {
            if try assets.loadAddress(AssetRegistry.Slot.owner(key)) != .zero {
                try call.emit([Event.assetEvent, Bytes32(key), hash])
            }
            guard receiving || breach else { continue }
            try apply(to: key, depth: 0, visited: &visited, call) { asset throws(SystemCallError) in
                if receiving {
                    let result = try call.call(AssetRegistry.address, input: AssetRegistry.Method.transferCustody.callData([.uint(asset), .address(call.caller)]))
                    guard result.status == .success else { throw .revert(result.output) }
                }
                let unmarked = try call.load(Slot.breach(asset)).isZero
                if breach && unmarked {
                    try call.store(Slot.breach(asset), max(call.blockNumber, 1))
                    try call.emit([Event.breach, Bytes32(asset), hash])
                }
            }
        }
    }

    /// Runs `body` for `key` (if it is a minted asset) and for what is aggregated in it.
    private func apply(to key: UInt256, depth: Int, visited: inout Int, _ call: SystemCall,
                       _ body: (UInt256) throws(SystemCallError) -> Void) throws(SystemCallError) {
        visited += 1
        try call.require(visited <= Self.maxCustodyMoves, "the event reaches more than \(Self.maxCustodyMoves) aggregated EPCs")
        if try call.reading(AssetRegistry.address).loadAddress(AssetRegistry.Slot.owner(key)) != .zero { try body(key) }
        guard depth < Self.maxAggregationDepth else { return }
        for child in try children(of: key, call) { try apply(to: child, depth: depth + 1, visited: &visited, call, body) }
    }

    /// AggregationEvent ADD puts the children in the parent; DELETE takes them out (all of them
    /// when the event lists none, as EPCIS says).
    private func aggregate(_ event: EPCISEvent, links: CanonicalDigitalLink.Memo, _ call: SystemCall) throws(SystemCallError) {
        guard case .aggregation = event.type, let parentID = event.parentID, let parent = Self.key(ofEPC: parentID, links: links) else { return }
        let listed = event.childEPCs.compactMap { Self.key(ofEPC: $0, links: links) }
        var children = try children(of: parent, call)
        switch event.action {
        case .add?: for child in listed where !children.contains(child) { children.append(child) }
        case .delete?: children = listed.isEmpty ? [] : children.filter { !listed.contains($0) }
        default: return
        }
        try call.require(children.count <= 1_000, "an aggregation holds at most 1000 children")
        try storeChildren(children, of: parent, call)
    }

    private func children(of key: UInt256, _ call: SystemCall) throws(SystemCallError) -> [UInt256] {
        try call.loadWordArray(Slot.children(key))
    }

    private func storeChildren(_ children: [UInt256], of key: UInt256, _ call: SystemCall) throws(SystemCallError) {
        try call.storeWordArray(Slot.children(key), children)
    }
}

/// What ``ProvenanceRegistry/prepare(_:)`` works out from a capture's document before the
/// transaction runs (in parallel with the block's other captures): the parsed document or why
/// it is not one, each event's hash, and every identifier the events name, normalised. It
/// depends on the document's bytes alone, so the capture gives the same result with it or
/// without it; the capture only uses it for the very bytes it was made from.
///
/// Sendable unchecked: it is made on a worker thread and handed over when the preparation of
/// the block's transactions ends; from then on only the thread executing the block uses it
/// (and fills its memo further), once.
final class PreparedCapture: @unchecked Sendable {
    let bytes: [UInt8]
    let document: Result<EPCISDocument, EPCISDocumentReadError>
    /// The event hashes, when the document has events and no more than a capture may hold.
    let digests: [Bytes32]?
    let links = CanonicalDigitalLink.Memo()

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        document = Self.parse(bytes)
        guard case .success(let parsed) = document, !parsed.events.isEmpty,
              parsed.events.count <= ProvenanceRegistry.maxEventsPerCapture else {
            digests = nil
            return
        }
        let links = self.links
        digests = parsed.events.map { event in
            _ = ProvenanceRegistry.keys(of: event, links: links)  // the asset keys, normalised ahead too
            return EPCISEventHash.digest(of: event, links: links)
        }
    }

    static func parse(_ bytes: [UInt8]) -> Result<EPCISDocument, EPCISDocumentReadError> {
        Result { () throws(EPCISDocumentReadError) in try EPCISDocument(bytes: bytes) }
    }
}
