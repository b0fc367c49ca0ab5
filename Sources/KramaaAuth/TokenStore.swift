import Crypto
import Foundation
import KramaaPrimitives

#if canImport(Glibc)
import Glibc
#endif

/// One access token as the node keeps it: never the secret, only its SHA-256.
public struct TokenRecord: Sendable, Equatable, Codable {
    /// Public identifier (16 hex digits), shown by `kramaa token list` and in logs.
    public let id: String
    /// The account the token acts as.
    public let account: Address
    public let roles: Set<AccessRole>
    /// A note for the operator ("brand ERP", "factory gateway").
    public let label: String
    /// RFC 3339.
    public let createdAt: String
    /// SHA-256 of the secret, hex.
    let secretHash: String
    /// RFC 3339 when revoked; nil while valid.
    public var revokedAt: String?

    public var isRevoked: Bool { revokedAt != nil }

    enum CodingKeys: String, CodingKey { case id, account, roles, label, createdAt, secretHash, revokedAt }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        let text = try c.decode(String.self, forKey: .account)
        do { account = try Address(hex: text) } catch {
            throw DecodingError.dataCorruptedError(forKey: .account, in: c, debugDescription: "\(error)")
        }
        roles = Set(try c.decode([String].self, forKey: .roles).compactMap(AccessRole.init(rawValue:)))
        label = try c.decodeIfPresent(String.self, forKey: .label) ?? ""
        createdAt = try c.decode(String.self, forKey: .createdAt)
        secretHash = try c.decode(String.self, forKey: .secretHash)
        revokedAt = try c.decodeIfPresent(String.self, forKey: .revokedAt)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(account.description, forKey: .account)
        try c.encode(roles.sorted().map(\.rawValue), forKey: .roles)
        try c.encode(label, forKey: .label)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(secretHash, forKey: .secretHash)
        try c.encodeIfPresent(revokedAt, forKey: .revokedAt)
    }

    init(id: String, account: Address, roles: Set<AccessRole>, label: String, createdAt: String, secretHash: String) {
        self.id = id
        self.account = account
        self.roles = roles
        self.label = label
        self.createdAt = createdAt
        self.secretHash = secretHash
    }
}

/// A bearer token as the caller holds it: `kramaa_<id>_<secret>` (16 and 64 hex digits).
public struct BearerToken: Sendable, Equatable, CustomStringConvertible {
    public let id: String
    let secret: [UInt8]

    public static let prefix = "kramaa_"

    /// A new random token (secrets from the system's random source).
    public static func generate() -> BearerToken {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<8).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return BearerToken(id: Hex.encode(id, prefix: false), secret: secret)
    }

    init(id: String, secret: [UInt8]) {
        self.id = id
        self.secret = secret
    }

    /// Parses the token text (as given to `--token`, or after `Bearer `).
    public init(parsing text: String) throws(AccessError) {
        guard text.hasPrefix(Self.prefix) else { throw .malformedCredentials("a Kramaa token starts with \(Self.prefix)") }
        let parts = text.dropFirst(Self.prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 16, parts[1].count == 64,
              let id = try? Hex.decode(String(parts[0])), id.count == 8,
              let secret = try? Hex.decode(String(parts[1])), secret.count == 32 else {
            throw .malformedCredentials("a Kramaa token is kramaa_ followed by 16 hex digits, _ and 64 hex digits")
        }
        self.id = String(parts[0]).lowercased()
        self.secret = secret
    }

    public var description: String { Self.prefix + id + "_" + Hex.encode(secret, prefix: false) }

    var secretHash: [UInt8] { Array(SHA256.hash(data: secret)) }
}

/// The node's access tokens, in `DATADIR/access-tokens.json` (mode 0600): created and revoked
/// by `kramaa token` (even while the node runs), read by the node, which picks up changes
/// within one request of the file changing. Secrets are never stored: only their SHA-256,
/// compared in constant time.
public final class TokenStore: @unchecked Sendable {
    public static let fileName = "access-tokens.json"
    public let path: String
    private let lock = NSLock()
    private var loaded: [TokenRecord] = []
    private var loadedStamp: FileStamp?

    public init(directory: URL) {
        path = directory.appendingPathComponent(Self.fileName).path
    }

    // MARK: Checking

    /// The record of `token` when it is known, its secret matches and it is not revoked.
    public func authenticate(_ token: BearerToken) throws(AccessError) -> TokenRecord {
        let records = try current()
        let presented = token.secretHash
        var match: TokenRecord?
        for record in records where record.id == token.id {
            let stored = (try? Hex.decode(record.secretHash)) ?? []
            if Self.constantTimeEqual(stored, presented) { match = record }
        }
        guard let match else { throw .unknownToken }
        if match.isRevoked { throw .revoked(id: match.id) }
        return match
    }

    /// Equal length and bytes, in time independent of where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    // MARK: Managing (kramaa token)

    /// Every token, valid and revoked, oldest first.
    public func list() throws(AccessError) -> [TokenRecord] { try current() }

    /// Creates a token for `account` with `roles`; the returned token text is shown once and
    /// cannot be recovered.
    public func create(account: Address, roles: Set<AccessRole>, label: String, now: Date = Date()) throws(AccessError) -> (TokenRecord, BearerToken) {
        guard !roles.isEmpty else { throw .invalidRequest("a token needs at least one role") }
        let token = BearerToken.generate()
        return (try install(token, account: account, roles: roles, label: label, now: now), token)
    }

    /// Adds a token whose text is already known (the devnet's development token, written into
    /// every validator's store); returns its record. Replaces nothing: a record with the same id
    /// is left as it is.
    @discardableResult
    public func install(_ token: BearerToken, account: Address, roles: Set<AccessRole>, label: String, now: Date = Date()) throws(AccessError) -> TokenRecord {
        var record = TokenRecord(id: token.id, account: account, roles: roles, label: label, createdAt: RFC3339.string(now),
                                 secretHash: Hex.encode(token.secretHash, prefix: false))
        try update { records in
            if let existing = records.first(where: { $0.id == token.id }) { record = existing } else { records.append(record) }
        }
        return record
    }

    /// The devnet's development token, kept in `directory/dev-token` (0600) so it stays the
    /// same across runs of one devnet; made on first use.
    public static func developmentToken(in directory: URL) throws(AccessError) -> BearerToken {
        let path = directory.appendingPathComponent("dev-token").path
        let kept: [UInt8]?
        do { kept = try PrivateFile.readSecret(path: path) } catch { throw .storage(error.description) }
        if let kept, let token = try? BearerToken(parsing: String(decoding: kept, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
            return token
        }
        let token = BearerToken.generate()
        do { try PrivateFile.replace(path: path, content: Array(token.description.utf8)) } catch { throw .storage(error.description) }
        return token
    }

    /// Revokes the token `id`; revoking a revoked token changes nothing.
    @discardableResult
    public func revoke(id: String, now: Date = Date()) throws(AccessError) -> TokenRecord {
        var revoked: TokenRecord?
        try update { records in
            guard let i = records.firstIndex(where: { $0.id == id.lowercased() }) else { return }
            if records[i].revokedAt == nil { records[i].revokedAt = RFC3339.string(now) }
            revoked = records[i]
        }
        guard let revoked else { throw .invalidRequest("no token \(id) on this node (`kramaa token list` shows them)") }
        return revoked
    }

    // MARK: File

    /// The records, re-read when the file changed since the last read.
    private func current() throws(AccessError) -> [TokenRecord] {
        let stamp = FileStamp(path: path)
        lock.lock()
        defer { lock.unlock() }
        if stamp == loadedStamp { return loaded }
        loaded = try Self.read(path)
        loadedStamp = stamp
        return loaded
    }

    private static func read(_ path: String) throws(AccessError) -> [TokenRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw .storage("cannot read \(path)") }
            return []
        }
        do { return try JSONDecoder().decode(TokenFile.self, from: data).tokens } catch {
            throw .storage("\(path) is not a Kramaa token file: \(error)")
        }
    }

    /// Read-modify-write under an exclusive lock on the file's lock file; the new file is
    /// written beside it (0600), synced, and renamed over it.
    private func update(_ change: (inout [TokenRecord]) -> Void) throws(AccessError) {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storage("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw .storage("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        var records = try Self.read(path)
        change(&records)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(TokenFile(tokens: records)) } catch { throw .storage("cannot encode tokens: \(error)") }
        do { try PrivateFile.replace(path: path, content: Array(data)) } catch { throw .storage(error.description) }
        lock.withLock { loadedStamp = nil }
    }
}

/// The file's shape: `{"tokens": [...]}`.
private struct TokenFile: Codable {
    var tokens: [TokenRecord]
}

/// What tells that a file changed: inode, size and modification time (nanoseconds).
private struct FileStamp: Equatable {
    let inode: UInt64
    let size: Int64
    let seconds: Int
    let nanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        seconds = info.st_mtim.tv_sec
        nanoseconds = info.st_mtim.tv_nsec
    }
}
