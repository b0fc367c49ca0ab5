import KramaaChain
import KramaaEVM
import KramaaJSON
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The private data collections contract: collections of member organisations, salted hashes
/// recorded by members, purges by the recorder or a member admin, retention read from block time;
/// every refusal names its reason and changes nothing. Keys as in ``PlatformContractTests``:
/// 0 brand admin (org 1), 1 brand manufacturer, 2 carrier admin (org 2), 3 outsider.
@Suite struct PrivateDataCollectionsTests {
    typealias P = PlatformContractTests
    typealias M = PrivateDataCollections.Method
    static let contract = PrivateDataCollections.address

    static func client(_ chain: ContractChain) -> PrivateDataClient<ContractChainCaller> { PrivateDataClient(ContractChainCaller(chain, key: 3)) }

    static func create(_ chain: ContractChain, by key: Int = 0, owner: UInt64 = 1, members: [UInt64] = [2], retention: UInt64 = 0, peers: UInt64 = 1)
        -> (success: Bool, output: [UInt8], logs: [Log]) {
        chain.send(key, contract, M.create.callData([.uint(UInt256(owner)), .string("pricing"), .array(members.map { .uint(UInt256($0)) }),
                                                     .uint(UInt256(retention)), .uint(UInt256(peers))]))
    }

    static func record(_ chain: ContractChain, by key: Int, _ collection: UInt64, _ item: PrivateDataItem) -> (success: Bool, output: [UInt8], logs: [Log]) {
        chain.send(key, contract, M.record.callData([.uint(UInt256(collection)), .fixedBytes(item.key), .fixedBytes(item.hash)]))
    }

    /// Sends calldata from `key` that must be refused with `reason`, changing nothing.
    static func expectRefusal(_ chain: ContractChain, _ key: Int, _ data: [UInt8], _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let before = chain.storage(contract)
        let result = chain.send(key, contract, data)
        #expect(!result.success && result.logs.isEmpty, sourceLocation: sourceLocation)
        #expect(ContractChain.revertReason(result.output) == reason, sourceLocation: sourceLocation)
        #expect(chain.storage(contract) == before, sourceLocation: sourceLocation)
    }

    @Test func aCollectionRecordsSaltedHashesOfMembersAndPurgesKeepingTheHash() throws {
        let chain = P.withOrganisations()
        let created = Self.create(chain, members: [2, 1, 2])
        #expect(created.success, "\(ContractChain.revertReason(created.output) ?? "")")
        let client = Self.client(chain)
        let collection = try client.collection(1)
        #expect(collection.name == "pricing" && collection.owner == 1 && collection.members == [1, 2] && collection.requiredPeers == 1)
        #expect(created.logs.map(\.topics) == [[PrivateDataCollections.Event.created, Bytes32(UInt256(1)), Bytes32(UInt256(1))]])

        // Any role in a member organisation may read and record; the node role makes a member node.
        #expect(try client.mayAccess(1, chain.addresses[1]) && client.mayAccess(1, chain.addresses[2]) && !client.mayAccess(1, chain.addresses[3]))
        #expect(try !client.isMemberNode(1, chain.addresses[3]))
        #expect(chain.send(2, P.orgs, OrganizationRegistry.Method.setRoles.callData([.uint(UInt256(2)), .address(chain.addresses[3]),
                                                                                    .uint(UInt256(OrganizationRoles.node.rawValue))])).success)
        #expect(try client.isMemberNode(1, chain.addresses[3]) && !client.isMemberNode(1, chain.addresses[1]))

        let item = PrivateDataItem.new(collection: 1, value: Array(#"{"price":"12.50"}"#.utf8))
        #expect(try client.item(1, item.key) == nil)
        let recorded = Self.record(chain, by: 1, 1, item)
        #expect(recorded.success)
        #expect(recorded.logs.first?.topics == [PrivateDataCollections.Event.recorded, Bytes32(UInt256(1)), item.key])
        #expect(recorded.logs.first?.data == ABI.encode([.fixedBytes(item.hash), .address(chain.addresses[1])]))
        let record = try #require(try client.item(1, item.key))
        #expect(record.hash == Keccak256.hash(item.salt.bytes + item.value) && record.recorder == chain.addresses[1])
        #expect(record.blockNumber == chain.head.number && record.recordedAt == chain.head.timestamp && record.purgedAt == 0 && record.expiresAt == 0)
        #expect(!record.erased(at: .max - 1))

        // The carrier's admin (a member admin) purges it; the hash stays, the key stays taken.
        let purged = chain.send(2, Self.contract, M.purge.callData([.uint(UInt256(1)), .fixedBytes(item.key)]))
        #expect(purged.success && purged.logs.first?.topics == [PrivateDataCollections.Event.purged, Bytes32(UInt256(1)), item.key])
        let after = try #require(try client.item(1, item.key))
        #expect(after.hash == record.hash && after.purgedAt == chain.head.timestamp && after.erased(at: 0))
        Self.expectRefusal(chain, 0, M.record.callData([.uint(UInt256(1)), .fixedBytes(item.key), .fixedBytes(item.hash)]),
                           "item \(item.key) is recorded in collection 1 already (keys are never reused)")
    }

    @Test func retentionEndsAtRecordTimePlusTheCollectionsSeconds() throws {
        let chain = P.withOrganisations()
        #expect(Self.create(chain, members: [], retention: 60).success)
        let item = PrivateDataItem.new(collection: 1, value: [1, 2, 3])
        #expect(Self.record(chain, by: 0, 1, item).success)
        let record = try #require(try Self.client(chain).item(1, item.key))
        #expect(record.expiresAt == record.recordedAt + 60)
        #expect(!record.erased(at: record.recordedAt + 59) && record.erased(at: record.recordedAt + 60))
    }

    @Test func severalItemsAreRecordedInOneCall() throws {
        let chain = P.withOrganisations()
        #expect(Self.create(chain).success)
        let items = (0..<3).map { PrivateDataItem.new(collection: 1, value: [UInt8($0)]) }
        let result = chain.send(2, Self.contract, M.recordMany.callData([.uint(UInt256(1)), .array(items.map { .fixedBytes($0.key) }),
                                                                         .array(items.map { .fixedBytes($0.hash) })]))
        #expect(result.success && result.logs.count == 3)
        for item in items { #expect(try Self.client(chain).item(1, item.key)?.hash == item.hash) }
        Self.expectRefusal(chain, 2, M.recordMany.callData([.uint(UInt256(1)), .array([.fixedBytes(Bytes32.random())]), .array([])]),
                           "recordItems takes 1 to 256 keys and as many hashes")
    }

    @Test func refusalsNameTheirReasonAndChangeNothing() throws {
        let chain = P.withOrganisations()
        let create = { (key: Int, owner: UInt64, members: [UInt64]) in
            M.create.callData([.uint(UInt256(owner)), .string("x"), .array(members.map { .uint(UInt256($0)) }), .uint(.zero), .uint(.zero)])
        }
        Self.expectRefusal(chain, 1, create(1, 1, []), "\(chain.addresses[1]) needs the admin role in organisation 1")
        Self.expectRefusal(chain, 0, create(0, 1, [7]), "no organisation 7 (named as a member)")
        Self.expectRefusal(chain, 0, create(0, 9, []), "no organisation 9")
        Self.expectRefusal(chain, 0, M.create.callData([.uint(UInt256(1)), .string(""), .array([]), .uint(.zero), .uint(.zero)]),
                           "a collection name has 1 to 128 bytes")
        #expect(Self.create(chain).success)
        let item = PrivateDataItem.new(collection: 1, value: [9])
        Self.expectRefusal(chain, 3, M.record.callData([.uint(UInt256(1)), .fixedBytes(item.key), .fixedBytes(item.hash)]),
                           "\(chain.addresses[3]) is not a member of a member organisation of collection 1")
        Self.expectRefusal(chain, 0, M.record.callData([.uint(UInt256(1)), .fixedBytes(item.key), .fixedBytes(.zero)]),
                           "an item's hash is keccak256(salt ‖ value), not zero")
        Self.expectRefusal(chain, 0, M.record.callData([.uint(UInt256(5)), .fixedBytes(item.key), .fixedBytes(item.hash)]), "no collection 5")
        Self.expectRefusal(chain, 0, M.purge.callData([.uint(UInt256(1)), .fixedBytes(item.key)]), "no item \(item.key) in collection 1")
        #expect(Self.record(chain, by: 1, 1, item).success)
        Self.expectRefusal(chain, 3, M.purge.callData([.uint(UInt256(1)), .fixedBytes(item.key)]),
                           "only the recorder or an admin of a member organisation may purge item \(item.key) of collection 1")
        #expect(chain.send(1, Self.contract, M.purge.callData([.uint(UInt256(1)), .fixedBytes(item.key)])).success)
        Self.expectRefusal(chain, 0, M.purge.callData([.uint(UInt256(1)), .fixedBytes(item.key)]), "item \(item.key) of collection 1 is purged already")
    }
}

/// Private EPCIS fields: split off into an item whose salted hash the event keeps, and put back
/// only by the item the reference names.
@Suite struct PrivateEPCISFieldsTests {
    static let event: JSONObject = [
        "type": "ObjectEvent", "eventTime": "2026-12-05T09:30:00Z", "eventTimeZoneOffset": "+00:00", "epcList": ["urn:epc:id:sgtin:0614141.107346.1"],
        "bizTransactionList": [["type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:PO-1"]], "example:price": "7.25",
    ]

    @Test func namedFieldsLeaveTheEventForAnItemItsReferenceCommitsTo() throws {
        let (shown, item) = try #require(try PrivateEPCISFields.redact(Self.event, fields: ["example:price", "bizTransactionList", "absent"], collection: 4))
        #expect(shown["bizTransactionList"] == nil && shown["example:price"] == nil && shown["epcList"] == Self.event["epcList"])
        let reference = try #require(PrivateEPCISFields.Reference(in: shown))
        #expect(reference.collection == 4 && reference.key == item.key && reference.hash == item.hash)
        #expect(reference.fields == ["bizTransactionList", "example:price"])
        #expect(item.hash == Keccak256.hash(item.salt.bytes + item.value))
        #expect(try JSON.parse(item.value) == .object(["bizTransactionList": Self.event["bizTransactionList"]!, "example:price": "7.25"]))

        let disclosed = PrivateEPCISFields.disclose(shown, item)
        #expect(disclosed["example:price"] == "7.25" && disclosed["bizTransactionList"] == Self.event["bizTransactionList"])
        // Another item (another salt, or another value) puts nothing back.
        var forged = item
        forged.value = Array(#"{"example:price":"0.01"}"#.utf8)
        #expect(PrivateEPCISFields.disclose(shown, forged) == shown)
        #expect(PrivateEPCISFields.disclose(shown, PrivateDataItem(collection: 4, key: item.key, salt: .random(), value: item.value)) == shown)
        // Two splits of the same event differ in salt and key: equal values do not show as equal hashes.
        let again = try #require(try PrivateEPCISFields.redact(Self.event, fields: ["example:price"], collection: 4))
        let once = try #require(try PrivateEPCISFields.redact(Self.event, fields: ["example:price"], collection: 4))
        #expect(again.item.hash != once.item.hash && again.item.value == once.item.value)
    }

    @Test func eventsWithoutTheFieldsAndForbiddenFieldsAreHandled() throws {
        #expect(try PrivateEPCISFields.redact(Self.event, fields: ["example:other"], collection: 1) == nil)
        #expect(throws: PrivateFieldsError.notPrivatizable("eventTime")) { try PrivateEPCISFields.redact(Self.event, fields: ["eventTime"], collection: 1) }
        var marked = Self.event
        marked[PrivateEPCISFields.referenceMember] = ["collection": "1"]
        #expect(throws: PrivateFieldsError.referencePresent) { try PrivateEPCISFields.redact(marked, fields: ["example:price"], collection: 1) }
    }

    @Test func theNamespaceIsDeclaredOnce() {
        let gs1: JSON = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
        let declared = PrivateEPCISFields.declaringNamespace(.array([gs1]))
        #expect(declared == .array([gs1, ["kramaa": .string(PrivateEPCISFields.namespace)]]))
        #expect(PrivateEPCISFields.declaringNamespace(declared) == declared)
        #expect(PrivateEPCISFields.declaringNamespace(gs1) == declared)
    }
}
