import KramaaChain
import KramaaEPCIS
import KramaaEVM
@testable import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// EPCIS capture on chain: hashes, recorders, duplicates, aggregation and custody.
@Suite struct ProvenanceContractTests {
    typealias P = PlatformContractTests
    static let provenance = ProvenanceRegistry.address
    static let pallet = "urn:epc:id:sscc:0614141.1234567890"

    static func document(_ events: String) -> String {
        """
        {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
         "schemaVersion": "2.0", "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": [\(events)]}}
        """
    }

    static func objectEvent(_ epcs: [String], bizStep: String, time: String = "2026-11-25T09:00:00.000Z") -> String {
        """
        {"type": "ObjectEvent", "eventTime": "\(time)", "eventTimeZoneOffset": "+01:00",
         "epcList": [\(epcs.map { "\"\($0)\"" }.joined(separator: ","))], "action": "OBSERVE", "bizStep": "\(bizStep)",
         "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}}
        """
    }

    static func capture(_ org: UInt64, _ document: String) -> [UInt8] {
        ProvenanceRegistry.Method.capture.callData([.uint(UInt256(org)), .bytes(Array(document.utf8))])
    }

    /// The brand/carrier chain of PlatformContractTests with the asset minted; key 2 (carrier admin) holds custody rights.
    static func chain() -> (ContractChain, UInt256) {
        let chain = P.withOrganisations()
        #expect(P.mint(chain).success)
        return (chain, try! AssetRegistry.tokenId(epc: P.epc).0)
    }

    @Test func capturedEventsAreCommittedByTheirCBVHash() throws {
        let (chain, token) = Self.chain()
        let text = Self.document(Self.objectEvent([P.epc], bizStep: "commissioning"))
        let result = chain.send(1, Self.provenance, Self.capture(1, text))
        #expect(result.success, "\(ContractChain.revertReason(result.output) ?? "")")
        let event = try #require(try EPCISDocument(bytes: Array(text.utf8)).events.first)
        let hash = EPCISEventHash.digest(of: event)
        var d = ABIDecoder(result.output[...])
        #expect(try d.nextArray { d throws(ABIDecodingError) in try d.nextBytes32() } == [hash])
        #expect(result.logs.map(\.topics) == [
            [ProvenanceRegistry.Event.recorded, hash, Bytes32(UInt256(1)), Bytes32(UInt256(chain.addresses[1]))],
            [ProvenanceRegistry.Event.assetEvent, Bytes32(token), hash],
        ])
        var record = ABIDecoder(chain.read(Self.provenance, ProvenanceRegistry.Method.record.callData([.fixedBytes(hash)])).output[...])
        #expect(try record.nextUInt64() == chain.head.number && record.nextUInt64() == 1 && record.nextAddress() == chain.addresses[1])
        #expect(try record.nextAddress() == .zero)  // a member recorded it: no device
        #expect(chain.storage(Self.provenance)[StorageSlot.offset(ProvenanceRegistry.recordSlot(hash), 1)]
                == UInt256(1) << 160 | UInt256(chain.addresses[1]), "not marked a device key")
        // The same event again, even written differently (another time zone spelling), is refused.
        let again = Self.document(Self.objectEvent([P.epc], bizStep: "https://ref.gs1.org/cbv/BizStep-commissioning", time: "2026-11-25T10:00:00+01:00"))
        P.expectRefusal(chain, 1, Self.provenance, Self.capture(1, again), "event 0 (\(EPCISEventHash.hashID(digest: hash))) is recorded already")
    }

    @Test func devicesRecordWithTheirCurrentKeyOnly() throws {
        let chain = P.withOrganisations(keyCount: 5)  // key 4 becomes the device's next key
        // Key 3 is a device of the brand (a secp256k1 device key can send ordinary transactions).
        let deviceKey = PublicKey.secp256k1(chain.keys[3].publicKey)
        #expect(P.registerDevice(chain, deviceKey).success)
        let first = chain.send(3, Self.provenance, Self.capture(0, Self.document(Self.objectEvent([P.epc], bizStep: "inspecting"))))
        #expect(first.success)
        #expect(first.logs.first?.data == ABI.encode([.address(chain.addresses[3]), .uint(.zero)]))
        // The record: block, organisation, recorder (the key) and device.
        let hash = try #require(first.logs.first?.topics[1])
        let recordedAt = chain.head.number
        let record = { (hash: Bytes32) throws -> (UInt64, UInt64, Address, Address) in
            var d = ABIDecoder(chain.read(Self.provenance, ProvenanceRegistry.Method.record.callData([.fixedBytes(hash)])).output[...])
            return (try d.nextUInt64(), try d.nextUInt64(), try d.nextAddress(), try d.nextAddress())
        }
        #expect(try record(hash) == (recordedAt, 1, chain.addresses[3], chain.addresses[3]))
        // Two slots: the block alone (what a proof shows), then the recorder with its organisation, marked a device key.
        #expect(chain.storage(Self.provenance)[ProvenanceRegistry.recordSlot(hash)] == UInt256(recordedAt))
        #expect(chain.storage(Self.provenance)[StorageSlot.offset(ProvenanceRegistry.recordSlot(hash), 1)]
                == ProvenanceRegistry.recordedByDevice | UInt256(1) << 160 | UInt256(chain.addresses[3]))
        #expect(chain.storage(Self.provenance)[StorageSlot.offset(ProvenanceRegistry.recordSlot(hash), 2)] == nil)

        P.expectRefusal(chain, 3, Self.provenance, Self.capture(2, Self.document(Self.objectEvent([P.epc], bizStep: "inspecting", time: "2026-11-25T09:01:00Z"))),
                        "device \(chain.addresses[3]) belongs to organisation 1, not 2")

        // The device's key changes to key 4's: its events now name key 4 as recorder, and the
        // event recorded with the old key still names the device.
        let next = SigningKey.secp256k1(chain.keys[4])
        let message = DeviceRegistry.rotationMessage(chainId: ContractChain.chainId, device: chain.addresses[3], newKey: next.publicKey)
        #expect(chain.send(1, DeviceRegistry.address, DeviceRegistry.Method.rotate.callData([
            .address(chain.addresses[3]), .uint(UInt256(UInt64(next.publicKey.type.code))), .bytes(next.publicKey.bytes),
            .bytes(next.signature(for: message))])).success)
        let rotated = chain.send(4, Self.provenance, Self.capture(0, Self.document(Self.objectEvent([P.epc], bizStep: "inspecting", time: "2026-11-25T09:03:00Z"))))
        #expect(rotated.success, "\(ContractChain.revertReason(rotated.output) ?? "")")
        let second = try #require(rotated.logs.first { $0.topics.first == ProvenanceRegistry.Event.recorded }?.topics[1])
        #expect(try record(second) == (chain.head.number, 1, chain.addresses[4], chain.addresses[3]))
        #expect(try record(hash) == (recordedAt, 1, chain.addresses[3], chain.addresses[3]))

        #expect(chain.send(1, DeviceRegistry.address, DeviceRegistry.Method.setStatus.callData([.address(chain.addresses[3]), .uint(UInt256(3))])).success)
        // A revoked device's transactions are refused before they run (docs/DEVICE-POLICIES.md).
        P.expectRefusal(chain, 4, Self.provenance, Self.capture(0, Self.document(Self.objectEvent([P.epc], bizStep: "inspecting", time: "2026-11-25T09:02:00Z"))),
                        "device \(chain.addresses[3]) is revoked: its keys can no longer send transactions")
    }

    @Test func receivingAPalletGivesCustodyOfTheItemsInIt() throws {
        let (chain, token) = Self.chain()
        let packing = """
            {"type": "AggregationEvent", "eventTime": "2026-11-25T08:00:00Z", "eventTimeZoneOffset": "+00:00",
             "parentID": "\(Self.pallet)", "childEPCs": ["\(P.epc)"], "action": "ADD", "bizStep": "packing"}
            """
        #expect(chain.send(1, Self.provenance, Self.capture(1, Self.document(packing))).success)
        let palletKey = try #require(ProvenanceRegistry.key(ofEPC: Self.pallet))
        var children = ABIDecoder(chain.read(Self.provenance, ProvenanceRegistry.Method.children.callData([.fixedBytes(Bytes32(palletKey))])).output[...])
        #expect(try children.nextArray { d throws(ABIDecodingError) in try d.nextBytes32() } == [Bytes32(token)])
        // The carrier (key 2, admin of organisation 2) receives the pallet and so holds the item.
        let received = chain.send(2, Self.provenance, Self.capture(2, Self.document(Self.objectEvent([Self.pallet], bizStep: "receiving"))))
        #expect(received.success, "\(ContractChain.revertReason(received.output) ?? "")")
        #expect(received.logs.contains { $0.address == AssetRegistry.address && $0.topics[0] == AssetRegistry.Event.custodyChanged })
        var asset = ABIDecoder(chain.read(AssetRegistry.address, AssetRegistry.Method.getAsset.callData([.uint(token)])).output[...])
        _ = try asset.nextString(); _ = try asset.nextUInt(); _ = try asset.nextAddress()
        #expect(try asset.nextAddress() == chain.addresses[2])
    }

    @Test func aSensorAlertOnAPalletMarksABreachOnItsItems() throws {
        let (chain, token) = Self.chain()
        let breachedAt = {
            var d = ABIDecoder(chain.read(Self.provenance, ProvenanceRegistry.Method.breachedAt.callData([.uint(token)])).output[...])
            return try d.nextUInt64()
        }
        let packing = """
            {"type": "AggregationEvent", "eventTime": "2026-11-25T08:00:00Z", "eventTimeZoneOffset": "+00:00",
             "parentID": "\(Self.pallet)", "childEPCs": ["\(P.epc)"], "action": "ADD", "bizStep": "packing"}
            """
        #expect(chain.send(1, Self.provenance, Self.capture(1, Self.document(packing))).success)
        let normal = Self.objectEvent([Self.pallet], bizStep: "inspecting").dropLast() + #", "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 4.0, "uom": "CEL"}]}]}"#
        #expect(chain.send(1, Self.provenance, Self.capture(1, Self.document(String(normal)))).success)
        #expect(try breachedAt() == 0)
        let alert = Self.objectEvent([Self.pallet], bizStep: "inspecting", time: "2026-11-25T09:30:00Z").dropLast()
            + #", "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 11.0, "uom": "CEL", "exception": "ALARM_CONDITION"}]}]}"#
        let recorded = chain.send(1, Self.provenance, Self.capture(1, Self.document(String(alert))))
        #expect(recorded.success)
        #expect(recorded.logs.contains { $0.topics.first == ProvenanceRegistry.Event.breach && $0.topics[1] == Bytes32(token) })
        #expect(try breachedAt() == chain.head.number)
    }

    @Test func badCapturesAreRefusedAndChangeNothing() {
        let (chain, _) = Self.chain()
        P.expectRefusal(chain, 3, Self.provenance, Self.capture(1, Self.document(Self.objectEvent([P.epc], bizStep: "shipping"))),
                        "\(chain.addresses[3]) is not a member of organisation 1")
        P.expectRefusal(chain, 1, Self.provenance, Self.capture(9, Self.document(Self.objectEvent([P.epc], bizStep: "shipping"))),
                        "no organisation 9")
        P.expectRefusal(chain, 1, Self.provenance, Self.capture(1, Self.document("")), "the EPCIS document holds no events")
        let broken = chain.send(1, Self.provenance, Self.capture(1, "{\"type\": \"EPCISDocument\""))
        #expect(!broken.success && ContractChain.revertReason(broken.output)?.hasPrefix("invalid EPCIS document:") == true)
        let noTime = chain.send(1, Self.provenance, Self.capture(1, Self.document(#"{"type": "ObjectEvent", "action": "OBSERVE", "epcList": []}"#)))
        #expect(!noTime.success && ContractChain.revertReason(noTime.output)?.hasPrefix("invalid EPCIS document:") == true)
    }
}
