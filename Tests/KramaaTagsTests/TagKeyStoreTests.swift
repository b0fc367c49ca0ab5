import Foundation
import KramaaNFC
import KramaaPrimitives
import KramaaTags
import Testing

@Suite struct TagKeyStoreTests {
    static let meta: [UInt8] = Array(0x10...0x1F)
    static let file: [UInt8] = Array(0xA0...0xAF)
    static let uid = try! TagUID(hex: "04C767F2066180")

    static func registration(uid: TagUID = uid) throws -> TagRegistration {
        try TagRegistration(uid: uid, mode: .aes, metaReadKey: meta, fileReadKey: file, macInputStart: .empty, organisation: 3)
    }

    /// Every byte the store wrote: the database, its log and the key file.
    static func filesOf(_ directory: URL) throws -> [(String, [UInt8])] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).map { name in
            (name, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    @Test func keysAreSealedAtRestAndTheKeyFileIsPrivate() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try TagKeyStore(directory: dir.url)
            try store.register(Self.registration())
            #expect(try store.tag(Self.uid)?.keys.fileRead.bytes == Self.file)
        }
        let files = try Self.filesOf(dir.url)
        #expect(files.contains { $0.0 == TagKeyStore.databaseName })
        for (name, bytes) in files where name != TagKeyStore.keyFileName {
            #expect(!Self.contains(bytes, Self.meta), "\(name) holds the meta read key in clear")
            #expect(!Self.contains(bytes, Self.file), "\(name) holds the file read key in clear")
            #expect(!Self.contains(bytes, Array(Hex.encode(Self.file, prefix: false).uppercased().utf8)), "\(name) holds the key as hex")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.url.appendingPathComponent(TagKeyStore.keyFileName).path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // Reopened, the same keys come back.
        #expect(try TagKeyStore(directory: dir.url).tag(Self.uid)?.keys.metaRead?.bytes == Self.meta)
    }

    @Test func theCounterSurvivesReopeningAndAReplayAfterARestartIsRefused() async throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try TagKeyStore(directory: dir.url)
            try store.register(Self.registration())
            #expect(store.classify(uid: Self.uid, readCounter: 5, macIsValid: true) == .genuine(uid: Self.uid, readCounter: 5))
            try await store.commit(uid: Self.uid, readCounter: 5)
            #expect(store.classify(uid: Self.uid, readCounter: 9, macIsValid: true) == .genuine(uid: Self.uid, readCounter: 9))
            try await store.commit(uid: Self.uid, readCounter: 9)
        }
        let reopened = try TagKeyStore(directory: dir.url)
        #expect(reopened.record(Self.uid)?.lastReadCounter == 9)
        #expect(reopened.classify(uid: Self.uid, readCounter: 9, macIsValid: true)
                == .replayed(uid: Self.uid, readCounter: 9, lastReadCounter: 9))
        #expect(reopened.classify(uid: Self.uid, readCounter: 3, macIsValid: true)
                == .replayed(uid: Self.uid, readCounter: 3, lastReadCounter: 9))
        #expect(reopened.classify(uid: Self.uid, readCounter: 10, macIsValid: false) == .tampered(uid: Self.uid))
        #expect(reopened.record(Self.uid)?.lastReadCounter == 9)
    }

    @Test func concurrentCommitsKeepTheHighestCounter() async throws {
        let dir = try TemporaryDirectory()
        let store = try TagKeyStore(directory: dir.url)
        try store.register(Self.registration())
        await withTaskGroup(of: Void.self) { group in
            for counter in (1...200).shuffled() {
                group.addTask { try? await store.commit(uid: Self.uid, readCounter: UInt32(counter)) }
            }
        }
        #expect(try TagKeyStore(directory: dir.url).record(Self.uid)?.lastReadCounter == 200)
    }

    @Test func aUIDIsRegisteredOnce() throws {
        let dir = try TemporaryDirectory()
        let store = try TagKeyStore(directory: dir.url)
        try store.register(Self.registration())
        #expect(throws: TagStoreError.alreadyRegistered("04C767F2066180")) { try store.register(Self.registration()) }
        #expect(store.count == 1)
    }

    @Test func badRegistrationsNameTheField() throws {
        #expect(throws: TagStoreError.self) {
            try TagRegistration(uid: Self.uid, mode: .aes, metaReadKey: [1, 2], fileReadKey: Self.file, macInputStart: .empty, organisation: 1)
        }
        #expect(throws: TagStoreError.invalid(field: "mode", "'des' is not a tag mode; use aes or lrp")) { try SDMMode(parsing: "des") }
        #expect(throws: TagStoreError.self) { try MACInputStartName.parse("middle") }
        #expect(throws: TagStoreError.self) { try MACInputStartName.parse("-3") }
        #expect(try MACInputStartName.parse("42") == .offset(42))
        for start in [SDMMACInputStart.empty, .piccData, .encFileData, .conventional, .afterScheme, .offset(7)] {
            #expect(try MACInputStartName.parse(MACInputStartName.name(start)) == start)
        }
    }

    @Test func aKeyFileReadableByOthersOrOfTheWrongSizeIsRefused() throws {
        let dir = try TemporaryDirectory()
        _ = try TagKeyStore(directory: dir.url)
        let path = dir.url.appendingPathComponent(TagKeyStore.keyFileName).path
        chmod(path, 0o644)
        #expect(throws: TagStoreError.self) { try TagKeyStore(directory: dir.url) }
        chmod(path, 0o600)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        #expect(throws: TagStoreError.keyFile("\(path) holds 3 bytes, not a 32-byte key")) { try TagKeyStore(directory: dir.url) }
    }

    @Test func keysSealedUnderAnotherKeyEncryptionKeyDoNotOpen() throws {
        let dir = try TemporaryDirectory()
        try TagKeyStore(directory: dir.url).register(Self.registration())
        let path = dir.url.appendingPathComponent(TagKeyStore.keyFileName)
        try FileManager.default.removeItem(at: path)
        let store = try TagKeyStore(directory: dir.url)  // makes a new key file
        #expect(throws: TagStoreError.undecryptable(uid: "04C767F2066180")) { try store.tag(Self.uid) }
    }
}
