import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a private file could not be read or written.
public enum PrivateFileError: Error, Equatable, CustomStringConvertible {
    /// `create` found the file there already.
    case alreadyExists(path: String)
    /// A secret file is readable or writable by group or others (its permission bits).
    case exposed(path: String, mode: UInt16)
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .alreadyExists(let path): return "\(path) already exists"
        case .exposed(let path, let mode): return "\(path) is accessible to group or others (mode 0\(String(mode, radix: 8))); chmod 600 it"
        case .io(let path, let operation, let code): return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// Files only their owner may read (keys, token digests, journals): created with mode 0600 from
/// the moment they exist and synced before they are relied on; replaced atomically. One place
/// for what key files, the token store, the tag keys and the pool journal all need.
public enum PrivateFile {
    /// Creates `path` exclusively with mode 0600 and writes `content` durably; a partly written
    /// file is removed.
    public static func create(path: String, content: [UInt8]) throws(PrivateFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .alreadyExists(path: path) }
            throw .io(path: path, operation: "create", errno: errno)
        }
        func fail(_ operation: String, _ code: Int32 = errno) -> PrivateFileError {
            close(fd)
            unlink(path)
            return .io(path: path, operation: operation, errno: code)
        }
        // The umask can only have removed bits; make the mode exactly 0600.
        guard fchmod(fd, 0o600) == 0 else { throw fail("set permissions of") }
        if let code = writeAll(content, to: fd) { throw fail("write", code) }
        guard fsync(fd) == 0 else { throw fail("sync") }
        guard close(fd) == 0 else {
            let code = errno
            unlink(path)
            throw .io(path: path, operation: "close", errno: code)
        }
    }

    /// Replaces `path` (or creates it) atomically: the content goes to a new private file beside
    /// it, synced, renamed over it, and the directory synced, so a reader (or a crash) sees the
    /// old file or the new one, never a part.
    public static func replace(path: String, content: [UInt8]) throws(PrivateFileError) {
        var random = SystemRandomNumberGenerator()
        let temporary = path + ".tmp-\(String(random.next() as UInt64, radix: 36))"
        try create(path: temporary, content: content)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io(path: path, operation: "replace", errno: code)
        }
        let directory = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                             O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// The permission bits of `path` that give access to group or others (0 when private).
    public static func exposedPermissions(path: String) throws(PrivateFileError) -> UInt16 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        return UInt16(info.st_mode & 0o077)
    }

    /// The content of the secret file at `path`, nil when there is none; refuses a file others
    /// can reach (`exposed`), so a leaked copy is noticed rather than used.
    public static func readSecret(path: String) throws(PrivateFileError) -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let exposed = try exposedPermissions(path: path)
        guard exposed == 0 else { throw .exposed(path: path, mode: exposed) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, operation: "read", errno: errno) }
        return Array(data)
    }

    /// Writes all of `bytes` to `fd` (retrying short writes and EINTR); the errno on failure.
    public static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return nil
    }
}
