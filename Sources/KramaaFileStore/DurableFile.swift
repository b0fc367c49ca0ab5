import Foundation

/// Writes that are on disk before they are acknowledged: write a temporary file, fsync it,
/// rename it over the target, fsync the directory (docs/DATA.md, "Files").
enum DurableFile {
    /// Writes `bytes` to `path` durably; `temporary` must be on the same file system.
    static func write(_ bytes: some ContiguousBytes, to path: String, temporary: String, syncDirectory: Bool = true) throws {
        let written = temporary
        let fd = open(written, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileStoreError.io("cannot create \(written): \(String(cString: strerror(errno)))") }
        var ok = true
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { if errno == EINTR { continue }; ok = false; return }
                offset += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false }
        let code = errno
        close(fd)
        guard ok else {
            unlink(written)
            throw FileStoreError.io("cannot write \(written): \(String(cString: strerror(code)))")
        }
        try rename(temporary, to: path)
        if syncDirectory { try syncDirectoryOf(path) }
    }

    static func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw FileStoreError.io("cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }

    /// fsyncs the directory holding `path`, so a rename into it survives a crash.
    static func syncDirectoryOf(_ path: String) throws {
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileStoreError.io("cannot open \(directory): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileStoreError.io("cannot fsync \(directory): \(String(cString: strerror(errno)))") }
    }

    /// The whole file, or nil if it does not exist.
    static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw FileStoreError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileStoreError.io("cannot stat \(path)") }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var offset = 0
        try out.withUnsafeMutableBytes { raw in
            while offset < size {
                let n = Foundation.read(fd, raw.baseAddress! + offset, size - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw FileStoreError.io("short read of \(path)") }
                offset += n
            }
        }
        return out
    }
}
