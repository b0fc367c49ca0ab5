/// A tag known to the platform: its keys and the highest read counter accepted so far.
public struct RegisteredTag: Sendable {
    /// The tag's SDM keys (its file read key is per tag; the meta read key may be shared).
    public var keys: SDMKeys
    /// The counter of the last genuine tap; nil if the tag has never been tapped.
    public var lastReadCounter: UInt32?

    public init(keys: SDMKeys, lastReadCounter: UInt32?) {
        self.keys = keys
        self.lastReadCounter = lastReadCounter
    }
}

/// The platform's judgement of one tap.
public enum TapVerdict: Sendable, Equatable {
    /// The MAC is right and the counter is above every counter seen before: store `readCounter`.
    case genuine(uid: TagUID, readCounter: UInt32)
    /// The MAC is wrong: the URL was altered or forged.
    case tampered(uid: TagUID)
    /// The MAC is right but the counter is not strictly greater than the last one: an old URL
    /// presented again.
    case replayed(uid: TagUID, readCounter: UInt32, lastReadCounter: UInt32)
    /// No tag with this UID is registered.
    case unknown(uid: TagUID)

    /// The counter to store for the tag after this tap (only a genuine tap moves it).
    public var newLastReadCounter: UInt32? {
        if case .genuine(_, let counter) = self { return counter }
        return nil
    }
}

/// The verdict of a tap and the verified reading behind it (nil for unknown tags).
public struct TapResult: Sendable, Equatable {
    public let verdict: TapVerdict
    public let reading: SUNReading?
}

/// Classifies taps as genuine, tampered, replayed or unknown. Pure: the registry lookup is
/// passed in, and the caller stores `verdict.newLastReadCounter`.
public struct TagAuthenticator: Sendable {
    /// The meta read key shared by the deployment's tags, prepared for each mode.
    private let metaReadKeys: [SDMMode: SDMKey]

    /// An authenticator whose tags share `sdmMetaReadKey` (16 bytes) for encrypted PICCData;
    /// nil when tags mirror UID and counter in plain.
    public init(sdmMetaReadKey: [UInt8]?) throws(SUNError) {
        var keys: [SDMMode: SDMKey] = [:]
        if let sdmMetaReadKey {
            for mode in SDMMode.allCases { keys[mode] = try SDMKey(sdmMetaReadKey, mode: mode, field: .sdmMetaReadKey) }
        }
        metaReadKeys = keys
    }

    /// The one rule for a tag's read counter: a tap is fresh only if its counter is strictly
    /// greater than the last accepted one (any counter is fresh for a tag never tapped).
    public static func verdict(uid: TagUID, readCounter: UInt32, macIsValid: Bool, lastReadCounter: UInt32?) -> TapVerdict {
        guard macIsValid else { return .tampered(uid: uid) }
        if let lastReadCounter, readCounter <= lastReadCounter {
            return .replayed(uid: uid, readCounter: readCounter, lastReadCounter: lastReadCounter)
        }
        return .genuine(uid: uid, readCounter: readCounter)
    }

    /// Decrypts the message's PICCData, looks the UID up, verifies the MAC with the tag's keys
    /// and applies the counter rule. Throws for malformed messages, and when the tag mirrors
    /// no UID (nothing to look up) or no counter (replays could not be told apart).
    public func authenticate(_ message: SUNMessage, lookup: (TagUID) -> RegisteredTag?) throws(SUNError) -> TapResult {
        let picc: PICCData
        switch message.piccData {
        case .plain(let plain):
            picc = plain
        case .encrypted(let bytes):
            // The length tells the mode: 16 bytes for AES, PICCRand + 16 for LRP.
            let mode: SDMMode = bytes.count == 24 ? .lrp : .aes
            picc = try SUNVerifier.piccData(of: message, mode: mode, metaReadKey: metaReadKeys[mode])
        }
        guard let uid = picc.uid else { throw .missing(.uid) }
        guard let counter = picc.readCounter else { throw .missing(.readCounter) }
        guard let tag = lookup(uid) else { return TapResult(verdict: .unknown(uid: uid), reading: nil) }
        if case .encrypted(let bytes) = message.piccData, (bytes.count == 24) != (tag.keys.mode == .lrp) {
            // The tag was registered in the other mode: its MAC cannot be right.
            let reading = SUNReading(picc: picc, fileData: nil, macIsValid: false)
            return TapResult(verdict: .tampered(uid: uid), reading: reading)
        }
        let reading = try SUNVerifier.verify(message, picc: picc, keys: tag.keys)
        let verdict = Self.verdict(uid: uid, readCounter: counter, macIsValid: reading.macIsValid,
                                   lastReadCounter: tag.lastReadCounter)
        return TapResult(verdict: verdict, reading: reading)
    }
}
