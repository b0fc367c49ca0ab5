import KramaaNFC
import KramaaPlatform
import KramaaPrimitives

/// The answer to one verification: a tap of an NFC tag or a scanned QR payload.
public struct Verification: Sendable {
    public enum Verdict: String, Sendable {
        /// NFC: right MAC, fresh counter. QR: valid signature by a manufacturer of the item's organisation.
        case genuine
        /// The MAC or signature is wrong: the URL was altered or forged.
        case tampered
        /// NFC: right MAC, but the counter is not above the last accepted one.
        case replayed
        /// No registered tag (NFC) or no such asset (QR).
        case unknown
        /// QR: a valid signature, by a key that is no manufacturer of the item's organisation.
        case unknownSigner
    }

    public var verdict: Verdict
    public var uid: TagUID?
    public var readCounter: UInt32?
    /// The counter the tap was compared with (replayed taps).
    public var lastReadCounter: UInt32?
    public var tag: TagRecord?
    public var asset: AssetSummary?
    public var qr: QRPayload?
}

/// Why a verification request could not be judged (HTTP 400, or 503 for `.storage`).
public enum VerificationError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case storage(TagStoreError)
    /// Too few of the organisation's nodes answered to be sure the tap is not a replay (503).
    case unconfirmed(String)

    public var description: String {
        switch self {
        case .malformed(let why): return why
        case .storage(let error): return error.description
        case .unconfirmed(let why): return why
        }
    }
}

/// Judges taps and QR payloads against the tag store and the chain. A malformed request
/// throws before anything is stored; only a genuine tap moves a counter, and it is answered
/// after the counter is durable.
public struct TagVerifier: Sendable {
    public let store: TagKeyStore
    public let assets: any AssetDirectory
    /// The organisation's other nodes, when it runs several: keys and counters kept on all.
    public let replicator: TagReplicator?

    public init(store: TagKeyStore, assets: any AssetDirectory, replicator: TagReplicator? = nil) {
        self.store = store
        self.assets = assets
        self.replicator = replicator
    }

    /// Verifies the tag URL `url` (absolute, as the tag wrote it). A URL with the layout some tags are
    /// registered with is read by position against it; any other by its parameter names.
    public func verify(sunURL url: String) async throws(VerificationError) -> Verification {
        let sun: SUNURL
        var message: SUNMessage
        let layout = store.layouts().first { $0.layout.match(url) != nil }
        do {
            if let layout { sun = try SUNURL(url, layout: layout.layout) } else { sun = try SUNURL(url) }
            message = try sun.message(macInputStart: .empty)
        } catch {
            throw .malformed(error.description)
        }
        guard let picc = try identify(message) else { return Verification(verdict: .unknown) }
        // A tag that mirrors only its counter is known by its layout, when the layout is its alone.
        let layoutUID = layout.flatMap { $0.uids.count == 1 ? $0.uids[0] : nil }
        guard let uid = picc.uid ?? layoutUID else {
            throw .malformed(SUNError.missing(.uid).description + " (a tag is looked up by its UID, or by a URL layout registered for it alone)")
        }
        guard let counter = picc.readCounter else { throw .malformed(SUNError.missing(.readCounter).description + " (replays cannot be told apart without it)") }
        let found: (record: TagRecord, keys: SDMKeys)?
        do { found = try store.tag(uid) } catch { throw .storage(error) }
        guard let (record, keys) = found else { return Verification(verdict: .unknown, uid: uid, readCounter: counter) }
        let bound = await boundAsset(uid)
        // Keys registered by an organisation other than the one whose asset the UID is bound
        // to prove nothing about that asset: never genuine, and no counter moves.
        if let bound, bound.organisation != record.organisation {
            return Verification(verdict: .unknown, uid: uid, readCounter: counter)
        }
        var macIsValid = false
        if case .encrypted(let bytes) = message.piccData, (bytes.count == 24) != (record.mode == .lrp) {
            macIsValid = false  // registered in the other mode: its MAC cannot be right
        } else {
            do {
                message.macInput = try sun.macInput(start: record.macInputStart)
                macIsValid = try SUNVerifier.verify(message, picc: picc, keys: keys).macIsValid
            } catch {
                throw .malformed(error.description)
            }
        }
        guard let verdict = store.classify(uid: uid, readCounter: counter, macIsValid: macIsValid) else {
            return Verification(verdict: .unknown, uid: uid, readCounter: counter)
        }
        var result = Verification(verdict: .unknown, uid: uid, readCounter: counter, tag: record, asset: bound)
        switch verdict {
        case .genuine:
            do { try await store.commit(uid: uid, readCounter: counter) } catch { throw .storage(error) }
            switch await replicator?.confirm(uid: uid, counter: counter, store: store) ?? .accepted(votes: 1) {
            case .accepted:
                result.verdict = .genuine
                result.tag?.lastReadCounter = counter
            case .replayed(let last):
                result.verdict = .replayed
                result.lastReadCounter = last
            case .unavailable(let votes, let needed):
                throw .unconfirmed("the read counter could be confirmed by \(votes) of the organisation's nodes, \(needed) needed; try again shortly")
            }
        case .replayed(_, _, let last):
            result.verdict = .replayed
            result.lastReadCounter = last
        case .tampered:
            result.verdict = .tampered
        case .unknown:
            result.verdict = .unknown
        }
        return result
    }

    /// The asset bound to `uid`. A read that would wait for the chain runs on the shared
    /// concurrency pool: a tap may be answered on its connection's event loop
    /// (``TagEndpoints/answersOnEventLoop(_:)``), which must never wait.
    private func boundAsset(_ uid: TagUID) async -> AssetSummary? {
        if let known = assets.assetWithoutWaiting(boundTo: uid) { return known }
        let assets = self.assets
        return await Task.detached { assets.asset(boundTo: uid) }.value
    }

    /// The mirrored UID and counter: plain ones as they are; encrypted ones decrypted with each
    /// registered meta read key of the mode their length tells (AES 16 bytes, LRP 24) until one
    /// gives a PICCDataTag an NTAG 424 DNA writes and a registered UID. Nil when none does.
    private func identify(_ message: SUNMessage) throws(VerificationError) -> PICCData? {
        switch message.piccData {
        case .plain(let picc):
            return picc
        case .encrypted(let bytes):
            let mode: SDMMode = bytes.count == 24 ? .lrp : .aes
            guard bytes.count == 16 || bytes.count == 24 else {
                throw .malformed(SUNError.wrongLength(.piccData, expected: "16 bytes (AES) or 24 bytes (LRP)", actual: bytes.count).description)
            }
            let keys: [SDMKey]
            do { keys = try store.metaReadKeys(mode: mode) } catch { throw .storage(error) }
            var candidate: PICCData?
            for key in keys {
                guard let picc = try? PICCData(decrypting: bytes, key: key, mode: mode) else { continue }
                if let uid = picc.uid, store.record(uid) != nil { return picc }
                if picc.uid == nil { candidate = candidate ?? picc }
            }
            return candidate
        }
    }

    /// Verifies a QR payload (the base64url `qr` parameter).
    public func verify(qr text: String) throws(VerificationError) -> Verification {
        let payload: QRPayload
        do { payload = try QRPayload(encoded: text) } catch { throw .malformed(error.description) }
        guard payload.signatureIsValid else { return Verification(verdict: .tampered, qr: payload) }
        guard let token = try? AssetRegistry.tokenId(epc: payload.item).0, let asset = assets.asset(tokenId: token) else {
            return Verification(verdict: .unknown, qr: payload)
        }
        let roles = assets.roles(of: payload.signer.address, in: asset.organisation)
        let manufacturer = roles & OrganizationRoles.manufacturer.rawValue != 0
        return Verification(verdict: manufacturer ? .genuine : .unknownSigner, asset: asset, qr: payload)
    }
}
