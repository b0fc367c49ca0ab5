import Foundation

#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// Why a key file could not be read, parsed or written.
public enum KeyFileError: Error, Equatable, CustomStringConvertible {
    /// The content is not a JSON object with string fields `type`, `privateKey` and `publicKey`.
    case malformed(String)
    /// A field is not valid hex.
    case invalidHex(field: String, HexError)
    /// The type is unknown or the private key is not valid for it.
    case invalidKey(KeyError)
    /// `publicKey` is not the public key of `privateKey`: the file was edited or corrupted.
    case publicKeyMismatch(stored: String, derived: String)
    /// The target exists and overwriting was not asked for.
    case alreadyExists(path: String)
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .malformed(let why):
            return "not a Kramaa key file: \(why); expected JSON {\"type\", \"privateKey\", \"publicKey\"}"
        case .invalidHex(let field, let e):
            return "key file field '\(field)' is not valid hex: \(e)"
        case .invalidKey(let e):
            return "key file holds an invalid key: \(e)"
        case .publicKeyMismatch(let stored, let derived):
            return "key file's publicKey \(stored) does not match its private key (which gives \(derived)); the file is corrupt or was edited"
        case .alreadyExists(let path):
            return "\(path) already exists; refusing to overwrite a key (pass --force to replace it)"
        case .io(let path, let operation, let code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// A private key as Kramaa stores it: a small JSON file, readable only by its owner.
///
/// ```json
/// {
///   "type": "secp256k1",
///   "privateKey": "0x…",
///   "publicKey": "0x…"
/// }
/// ```
/// `publicKey` is ``PublicKey/bytes`` (compressed for the ECDSA curves) and is checked
/// against the private key when the file is read.
public struct KeyFile: Sendable {
    /// The key held in the file.
    public let key: SigningKey

    /// Files larger than this are not key files.
    static let maximumSize = 64 * 1024

    public init(_ key: SigningKey) { self.key = key }

    /// The JSON text of the file.
    public func encoded() -> [UInt8] {
        let text = """
            {
              "type": "\(key.type.rawValue)",
              "privateKey": "\(Hex.encode(key.rawRepresentation))",
              "publicKey": "\(Hex.encode(key.publicKey.bytes))"
            }

            """
        return Array(text.utf8)
    }

    /// Parses and checks the JSON text of a key file.
    public init(decoding bytes: some Collection<UInt8>) throws(KeyFileError) {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch { throw .malformed("not JSON") }
        guard let fields = object as? [String: Any] else { throw .malformed("not a JSON object") }
        func field(_ name: String) throws(KeyFileError) -> String {
            guard let value = fields[name] as? String else { throw .malformed("missing string field '\(name)'") }
            return value
        }
        let typeName = try field("type")
        let type: KeyType
        do { type = try KeyType(parsing: typeName) } catch { throw .invalidKey(error) }
        let privateHex = try field("privateKey"), publicHex = try field("publicKey")
        let secret: [UInt8], stored: [UInt8]
        do { secret = try Hex.decode(privateHex) } catch { throw .invalidHex(field: "privateKey", error) }
        do { stored = try Hex.decode(publicHex) } catch { throw .invalidHex(field: "publicKey", error) }
        do { key = try SigningKey(type: type, rawRepresentation: secret) } catch { throw .invalidKey(error) }
        let derived = key.publicKey
        guard (try? PublicKey(type: type, bytes: stored)) == derived else {
            throw .publicKeyMismatch(stored: publicHex, derived: Hex.encode(derived.bytes))
        }
    }

    /// Reads and checks the key file at `path`.
    public static func read(path: String) throws(KeyFileError) -> KeyFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var content = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            content.append(contentsOf: chunk[0..<n])
            guard content.count <= maximumSize else { throw .malformed("file is larger than \(maximumSize) bytes") }
        }
        return try KeyFile(decoding: content)
    }

    /// The permission bits of `path` that give access to group or others (0 when the file
    /// is private to its owner), so callers can warn about an exposed key.
    public static func exposedPermissions(path: String) throws(KeyFileError) -> UInt16 {
        do { return try PrivateFile.exposedPermissions(path: path) } catch { throw KeyFileError(error) }
    }

    /// Writes the file with permissions 0600 from the moment it exists.
    ///
    /// Without `overwrite`, an existing file is an error (``KeyFileError/alreadyExists(path:)``).
    /// With it, the key is written to a new private file beside `path` and renamed over
    /// it, so a reader never sees a partial key and the old file is replaced atomically.
    public func write(to path: String, overwrite: Bool) throws(KeyFileError) {
        do {
            if overwrite { try PrivateFile.replace(path: path, content: encoded()) } else { try PrivateFile.create(path: path, content: encoded()) }
        } catch {
            throw KeyFileError(error)
        }
    }
}

extension KeyFileError {
    /// A private-file failure as a key-file error.
    init(_ error: PrivateFileError) {
        switch error {
        case .alreadyExists(let path): self = .alreadyExists(path: path)
        case .io(let path, let operation, let code): self = .io(path: path, operation: operation, errno: code)
        case .exposed(let path, _): self = .io(path: path, operation: "use (readable by others)", errno: EACCES)
        }
    }
}
