import KramaaNFC
import KramaaPrimitives

/// One registered NTAG 424 DNA tag as the node keeps it: how its SUN messages are laid out,
/// which organisation it belongs to, and the last read counter accepted. The SDM keys are
/// kept apart (encrypted in the store, `SDMKeys` in memory) and never leave the node.
public struct TagRecord: Sendable, Equatable {
    public let uid: TagUID
    public let mode: SDMMode
    /// Where the tag's SDMMACInputOffset points in its URL.
    public let macInputStart: SDMMACInputStart
    /// The URL the tag is programmed with, when its taps are read by position rather than by
    /// parameter names (see `SUNURLLayout`).
    public let urlLayout: SUNURLLayout?
    /// The on-chain organisation id that owns the tag.
    public let organisation: UInt64
    /// Whether PICCData is encrypted (a meta read key was registered) or mirrored in plain.
    public let encryptedPICCData: Bool
    /// The read counter of the last genuine tap; nil until the first.
    public var lastReadCounter: UInt32?
    /// Seconds since 1970 when the tag was registered.
    public let registeredAt: UInt64
}

/// What `POST /api/v1/tags` and `kramaa tag register` give: the tag and its SDM keys.
public struct TagRegistration: Sendable {
    public let uid: TagUID
    public let mode: SDMMode
    /// SDMMetaReadKey (16 bytes); nil when the tag mirrors UID and counter in plain.
    public let metaReadKey: [UInt8]?
    /// SDMFileReadKey (16 bytes).
    public let fileReadKey: [UInt8]
    public let macInputStart: SDMMACInputStart
    /// The URL template the tag is programmed with (`SUNURLLayout`); nil reads taps by parameter names.
    public let urlLayout: SUNURLLayout?
    public let organisation: UInt64

    /// Checks the keys against the mode (16 bytes each) and the layout against the mode before
    /// anything is stored.
    public init(uid: TagUID, mode: SDMMode, metaReadKey: [UInt8]?, fileReadKey: [UInt8],
                macInputStart: SDMMACInputStart, urlLayout: String? = nil, organisation: UInt64) throws(TagStoreError) {
        do { _ = try SDMKeys(mode: mode, metaReadKey: metaReadKey, fileReadKey: fileReadKey) } catch {
            throw .invalid(field: "keys", error.description)
        }
        if case .offset(let offset) = macInputStart, offset < 0 {
            throw .invalid(field: "macInputStart", "an offset is a position in the URL, 0 or more")
        }
        self.uid = uid
        self.mode = mode
        self.metaReadKey = metaReadKey
        self.fileReadKey = fileReadKey
        do { self.urlLayout = try urlLayout.map { template throws(SUNError) in try SUNURLLayout(template, mode: mode) } } catch {
            throw .invalid(field: "urlLayout", error.description)
        }
        self.macInputStart = macInputStart
        self.organisation = organisation
    }
}

/// Names for `SDMMACInputStart` in JSON, the database and the CLI: `empty`, `piccData`,
/// `encFileData`, `conventional`, `afterScheme`, or a decimal UTF-8 offset into the tag's URL.
public enum MACInputStartName {
    public static func name(_ start: SDMMACInputStart) -> String {
        switch start {
        case .empty: return "empty"
        case .piccData: return "piccData"
        case .encFileData: return "encFileData"
        case .conventional: return "conventional"
        case .afterScheme: return "afterScheme"
        case .offset(let offset): return String(offset)
        }
    }

    public static func parse(_ text: String) throws(TagStoreError) -> SDMMACInputStart {
        switch text {
        case "empty": return .empty
        case "piccData": return .piccData
        case "encFileData": return .encFileData
        case "conventional": return .conventional
        case "afterScheme": return .afterScheme
        default:
            guard let offset = Int(text), offset >= 0 else {
                throw .invalid(field: "macInputStart", "'\(text)' is not one of empty, piccData, encFileData, conventional, afterScheme or an offset (0 or more)")
            }
            return .offset(offset)
        }
    }
}

extension SDMMode {
    /// `aes` or `lrp`, in any case.
    public init(parsing text: String) throws(TagStoreError) {
        switch text.lowercased() {
        case "aes": self = .aes
        case "lrp": self = .lrp
        default: throw .invalid(field: "mode", "'\(text)' is not a tag mode; use aes or lrp")
        }
    }
}

/// Why the tag store refused or failed.
public enum TagStoreError: Error, Equatable, CustomStringConvertible {
    /// A registration field is wrong; the text says what is accepted.
    case invalid(field: String, String)
    /// The UID is registered already (keys are never replaced silently).
    case alreadyRegistered(String)
    /// The key-encryption key file is missing, unreadable, of the wrong size or readable by others.
    case keyFile(String)
    /// Stored keys do not decrypt under the key-encryption key (another node's file, or tampering).
    case undecryptable(uid: String)
    /// SQLite failed.
    case database(String)

    public var description: String {
        switch self {
        case .invalid(let field, let why): return "invalid \(field): \(why)"
        case .alreadyRegistered(let uid): return "tag \(uid) is registered already; its keys are not replaced"
        case .keyFile(let why): return "tag key-encryption key: \(why)"
        case .undecryptable(let uid):
            return "the stored keys of tag \(uid) do not decrypt with this data directory's key-encryption key (tag-keys.kek replaced or the database edited)"
        case .database(let why): return "tag database: \(why)"
        }
    }
}
