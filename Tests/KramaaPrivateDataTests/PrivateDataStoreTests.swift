import Foundation
import KramaaNetwork
import KramaaPlatform
import KramaaPrimitives
@testable import KramaaPrivateData
import Testing

/// The private data store (0600 files, erased by overwriting) and the peer messages' wire form.
@Suite struct PrivateDataStoreTests {
    static func directory() -> String {
        let path = NSTemporaryDirectory() + "kramaa-private-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func itemsAreKeptPrivatelyListedAndErased() throws {
        let store = try PrivateDataStore(dataDirectory: Self.directory())
        let item = PrivateDataItem.new(collection: 7, value: Array("price 12.50".utf8))
        let other = PrivateDataItem.new(collection: 8, value: [])
        try store.put(item)
        try store.put(other)
        #expect(store.get(7, item.key) == item && store.get(8, other.key) == other && store.get(7, other.key) == nil)
        #expect(Set(store.all().map { "\($0.collection)-\($0.key)" }) == ["7-\(item.key)", "8-\(other.key)"])
        #expect(try PrivateFile.exposedPermissions(path: store.path(7, item.key)) == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: store.directory)[.posixPermissions] as? Int
        #expect(mode == 0o700)

        #expect(store.erase(7, item.key) && !store.erase(7, item.key))
        #expect(store.get(7, item.key) == nil && store.all().map(\.collection) == [8])
    }

    @Test func messagesRoundTripAndMalformedOnesAreRefused() throws {
        let item = PrivateDataItem.new(collection: 1 << 40, value: Array(repeating: 0xAB, count: 1000))
        for message in [PrivateDataMessage.item(item), .held(collection: 3, key: item.key), .want(collection: 4, key: item.key)] {
            #expect(try PrivateDataMessage(type: message.type, payload: message.payload) == message)
        }
        let payload = PrivateDataMessage.item(item).payload
        #expect(throws: PrivateDataError.self) { try PrivateDataMessage(type: MessageType.privateItem, payload: Array(payload.dropLast())) }
        #expect(throws: PrivateDataError.self) { try PrivateDataMessage(type: MessageType.privateWant, payload: [1, 2, 3]) }
        #expect(throws: PrivateDataError.self) { try PrivateDataMessage(type: 0x7F, payload: payload) }
        #expect(throws: PrivateDataError.self) { try PrivateDataMessage(type: MessageType.privateItem, payload: Array(payload.prefix(60))) }
    }
}
