import Crypto
import Foundation
import GRDB
import KramaaNFC
import KramaaPrimitives

/// The tags this node verifies, in its data directory: `tags.sqlite` (one row per tag UID:
/// mode, MAC input start, organisation, last accepted read counter, and the SDM keys sealed
/// with AES-256-GCM) and `tag-keys.kek`, the 32-byte key-encryption key (0600, made on first
/// use). See docs/DATA.md.
///
/// Every row is loaded at open; a tag's keys are decrypted on its first tap and kept in memory
/// as prepared `SDMKeys`. The counter rule is applied in memory under one lock (so two taps of
/// the same URL racing each other give one genuine and one replayed), and a genuine tap is
/// answered only once its counter is on disk (`commit`), written by group commit to the log.
public final class TagKeyStore: @unchecked Sendable {
    public static let databaseName = "tags.sqlite"
    public static let keyFileName = "tag-keys.kek"

    private struct Entry {
        var record: TagRecord
        let sealedKeys: [UInt8]
        /// Keyed fingerprint of the meta read key: tags sharing one are tried with one decryption.
        let metaKeyID: [UInt8]?
        var keys: SDMKeys?
    }

    private let database: DatabaseQueue
    private let kek: SymmetricKey
    private let lock = NSLock()
    private var entries: [TagUID: Entry] = [:]
    /// One prepared meta read key per distinct key and mode, with the tags that use it.
    private var metaKeys: [[UInt8]: (mode: SDMMode, key: SDMKey?)] = [:]
    /// `metaReadKeys(mode:)`'s answer, until the next registration.
    private var metaKeyLists: [SDMMode: [SDMKey]] = [:]
    /// `layouts()`'s answer, until the next registration.
    private var layoutList: [(layout: SUNURLLayout, uids: [TagUID])]?
    private let committer: CounterCommitter

    /// Opens (or creates) the store in `directory`; `counterLogCapacity` is the size of
    /// `tag-counters.log` in bytes (16 per counter), checkpointed into the table when full.
    public init(directory: URL, counterLogCapacity: Int = 1 << 20) throws(TagStoreError) {
        guard counterLogCapacity > 0, counterLogCapacity % CounterLog.recordSize == 0 else {
            throw .invalid(field: "counterLogCapacity", "a positive multiple of 16 bytes (one counter record), not \(counterLogCapacity)")
        }
        kek = try Self.loadOrCreateKEK(directory.appendingPathComponent(Self.keyFileName))
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            database = try DatabaseQueue(path: directory.appendingPathComponent(Self.databaseName).path, configuration: configuration)
            try database.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS tags (
                        uid TEXT PRIMARY KEY NOT NULL,
                        mode TEXT NOT NULL,
                        mac_input_start TEXT NOT NULL,
                        organisation INTEGER NOT NULL,
                        sealed_keys BLOB NOT NULL,
                        meta_key_id BLOB,
                        last_read_counter INTEGER,
                        registered_at INTEGER NOT NULL)
                    """)
                // Stores made before URL layouts gain the column (NULL: taps read by parameter names).
                if try !db.columns(in: "tags").contains(where: { $0.name == "url_layout" }) {
                    try db.execute(sql: "ALTER TABLE tags ADD COLUMN url_layout TEXT")
                }
            }
            // Counters a previous run made durable in the log go into the table before it is read.
            committer = try CounterCommitter(database: database, logPath: directory.appendingPathComponent(CounterLog.fileName).path,
                                             logCapacity: counterLogCapacity)
            let rows = try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM tags") }
            for row in rows {
                let entry = try Self.entry(row)
                entries[entry.record.uid] = entry
            }
        } catch let error as TagStoreError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }

    deinit { committer.stop() }

    // MARK: Registration

    /// Stores a new tag with its keys sealed; refuses a UID that is registered already.
    @discardableResult
    public func register(_ registration: TagRegistration, now: UInt64 = UInt64(Date().timeIntervalSince1970)) throws(TagStoreError) -> TagRecord {
        let uidText = registration.uid.description
        let plain = [registration.metaReadKey == nil ? 0 : 1] + (registration.metaReadKey ?? []) + registration.fileReadKey
        let sealed: [UInt8]
        do {
            sealed = Array(try AES.GCM.seal(plain, using: kek, authenticating: Self.associatedData(registration.uid)).combined!)
        } catch {
            throw .database("cannot seal the keys: \(error)")
        }
        let metaKeyID = registration.metaReadKey.map { fingerprint($0, mode: registration.mode) }
        let record = TagRecord(uid: registration.uid, mode: registration.mode, macInputStart: registration.macInputStart,
                               urlLayout: registration.urlLayout, organisation: registration.organisation, encryptedPICCData: registration.metaReadKey != nil,
                               lastReadCounter: nil, registeredAt: now)
        lock.lock()
        defer { lock.unlock() }
        guard entries[registration.uid] == nil else { throw .alreadyRegistered(uidText) }
        do {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO tags (uid, mode, mac_input_start, organisation, sealed_keys, meta_key_id, last_read_counter,
                                      registered_at, url_layout)
                    VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)
                    """, arguments: [uidText, registration.mode.rawValue, MACInputStartName.name(registration.macInputStart),
                                     Int64(bitPattern: registration.organisation), Data(sealed), metaKeyID.map { Data($0) },
                                     Int64(bitPattern: now), registration.urlLayout?.template])
            }
        } catch {
            throw .database("\(error)")
        }
        entries[registration.uid] = Entry(record: record, sealedKeys: sealed, metaKeyID: metaKeyID, keys: nil)
        metaKeyLists.removeAll()
        layoutList = nil
        return record
    }

    /// The registration of `uid` (no keys), with its current counter; nil if unknown.
    public func record(_ uid: TagUID) -> TagRecord? {
        lock.lock()
        defer { lock.unlock() }
        return entries[uid]?.record
    }

    /// How many tags are registered.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }

    // MARK: Verification

    /// The tag's record and prepared keys, decrypting them on first use.
    public func tag(_ uid: TagUID) throws(TagStoreError) -> (record: TagRecord, keys: SDMKeys)? {
        lock.lock()
        defer { lock.unlock() }
        guard var entry = entries[uid] else { return nil }
        if let keys = entry.keys { return (entry.record, keys) }
        let keys = try unseal(entry)
        entry.keys = keys
        entries[uid] = entry
        return (entry.record, keys)
    }

    /// The distinct URL layouts tags are registered with, each with its tags: a tap is matched against
    /// them before the tag is known (a deployment has one per product line, not one per tag).
    public func layouts() -> [(layout: SUNURLLayout, uids: [TagUID])] {
        lock.lock()
        defer { lock.unlock() }
        if let layoutList { return layoutList }
        var byTemplate: [String: (layout: SUNURLLayout, uids: [TagUID])] = [:]
        for (uid, entry) in entries {
            guard let layout = entry.record.urlLayout else { continue }
            byTemplate[layout.template + "\u{0}" + entry.record.mode.rawValue, default: (layout, [])].uids.append(uid)
        }
        let list = byTemplate.keys.sorted().map { byTemplate[$0]! }
        layoutList = list
        return list
    }

    /// The distinct meta read keys of registered tags in `mode`, prepared, for decrypting
    /// PICCData before the UID is known (a deployment usually has one per organisation).
    public func metaReadKeys(mode: SDMMode) throws(TagStoreError) -> [SDMKey] {
        lock.lock()
        defer { lock.unlock() }
        if let cached = metaKeyLists[mode] { return cached }
        var out: [SDMKey] = []
        var seen: Set<[UInt8]> = []
        for entry in entries.values where entry.record.mode == mode {
            guard let id = entry.metaKeyID, seen.insert(id).inserted else { continue }
            if let cached = metaKeys[id]?.key {
                out.append(cached)
                continue
            }
            let keys: SDMKeys
            if let prepared = entry.keys { keys = prepared } else { keys = try unseal(entry) }
            entries[entry.record.uid]?.keys = keys
            metaKeys[id] = (mode, keys.metaRead)
            if let meta = keys.metaRead { out.append(meta) }
        }
        metaKeyLists[mode] = out
        return out
    }

    /// Applies the counter rule to a tap of a registered tag and, when genuine, moves the
    /// counter in memory at once (later taps compare against it). Nil for an unknown UID.
    /// The caller then `commit`s a genuine verdict before answering.
    public func classify(uid: TagUID, readCounter: UInt32, macIsValid: Bool) -> TapVerdict? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[uid] else { return nil }
        let verdict = TagAuthenticator.verdict(uid: uid, readCounter: readCounter, macIsValid: macIsValid,
                                               lastReadCounter: entry.record.lastReadCounter)
        if let counter = verdict.newLastReadCounter { entries[uid]?.record.lastReadCounter = counter }
        return verdict
    }

    /// Makes a genuine tap's counter durable: returns once it is written and synced (taps that
    /// arrive during one sync share the next). A crash before that loses only taps that were
    /// never answered genuine.
    public func commit(uid: TagUID, readCounter: UInt32) async throws(TagStoreError) {
        try await committer.commit(uid: uid, counter: readCounter)
    }

    // MARK: Keys at rest

    private func unseal(_ entry: Entry) throws(TagStoreError) -> SDMKeys {
        let uid = entry.record.uid
        let plain: [UInt8]
        do {
            let box = try AES.GCM.SealedBox(combined: entry.sealedKeys)
            plain = Array(try AES.GCM.open(box, using: kek, authenticating: Self.associatedData(uid)))
        } catch {
            throw .undecryptable(uid: uid.description)
        }
        let hasMeta = plain.first == 1
        guard plain.count == (hasMeta ? 33 : 17) else { throw .undecryptable(uid: uid.description) }
        do {
            return try SDMKeys(mode: entry.record.mode, metaReadKey: hasMeta ? Array(plain[1..<17]) : nil,
                               fileReadKey: Array(plain[(hasMeta ? 17 : 1)...]))
        } catch {
            throw .undecryptable(uid: uid.description)
        }
    }

    /// The sealed keys are bound to their UID: a row's keys copied onto another UID do not open.
    private static func associatedData(_ uid: TagUID) -> [UInt8] { Array("kramaa-tag-keys:".utf8) + uid.bytes }

    private func fingerprint(_ key: [UInt8], mode: SDMMode) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array("kramaa-meta-key:\(mode.rawValue):".utf8) + key, using: kek).prefix(16))
    }

    private static func entry(_ row: Row) throws -> Entry {
        let uidText: String = row["uid"]
        let modeText: String = row["mode"]
        guard let uid = try? TagUID(hex: uidText), let mode = SDMMode(rawValue: modeText) else {
            throw TagStoreError.database("row '\(uidText)' has an invalid UID or mode '\(modeText)'")
        }
        let counter: Int64? = row["last_read_counter"]
        let organisation: Int64 = row["organisation"]
        let registeredAt: Int64 = row["registered_at"]
        let sealed: Data = row["sealed_keys"]
        let metaKeyID: Data? = row["meta_key_id"]
        let layoutText: String? = row["url_layout"]
        let layout: SUNURLLayout?
        do { layout = try layoutText.map { text throws(SUNError) in try SUNURLLayout(text, mode: mode) } } catch {
            throw TagStoreError.database("row '\(uidText)' has an invalid URL layout: \(error)")
        }
        let record = TagRecord(uid: uid, mode: mode, macInputStart: try MACInputStartName.parse(row["mac_input_start"]),
                               urlLayout: layout, organisation: UInt64(bitPattern: organisation), encryptedPICCData: metaKeyID != nil,
                               lastReadCounter: counter.map { UInt32(truncatingIfNeeded: $0) },
                               registeredAt: UInt64(bitPattern: registeredAt))
        return Entry(record: record, sealedKeys: Array(sealed), metaKeyID: metaKeyID.map { Array($0) }, keys: nil)
    }

    /// Reads the key-encryption key, or makes one (32 random bytes, mode 0600) if the file is absent.
    static func loadOrCreateKEK(_ url: URL) throws(TagStoreError) -> SymmetricKey {
        SymmetricKey(data: try loadOrCreateSecret(path: url.path, size: 32) { SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) } })
    }

    /// A secret file of `size` bytes: read (refused when others can reach it or its size is
    /// wrong), or made with `make` (mode 0600, synced) when absent.
    static func loadOrCreateSecret(path: String, size: Int, make: () -> [UInt8]) throws(TagStoreError) -> [UInt8] {
        do {
            if let bytes = try PrivateFile.readSecret(path: path) {
                guard bytes.count == size else { throw TagStoreError.keyFile("\(path) holds \(bytes.count) bytes, not a \(size)-byte key") }
                return bytes
            }
            let bytes = make()
            try PrivateFile.create(path: path, content: bytes)
            return bytes
        } catch let error as TagStoreError {
            throw error
        } catch let error as PrivateFileError {
            throw .keyFile(error.description)
        } catch {
            throw .keyFile("\(error)")
        }
    }
}
