import Foundation

/// Writes that are on disk before they are acknowledged: write a temporary file, fsync it,
/// rename it over the target, fsync the directory (docs/DATA.md, "Files").
enum DurableFile {
    /// Writes `bytes` to `path` durably; `temporary` must be on the same file system. A nil
    /// `temporary` writes `path` in place: only for files a crash discards whole (an upload's
    /// staging area, deleted at start).
    /// `syncFile: false` leaves the file's fsync to the caller, who makes many writes durable at
    /// once with ``syncFileSystem(of:)`` before acknowledging any of them.
    /// `startWriteback` asks the kernel to start writing the file out now (sync_file_range), so
    /// the batch's later sync finds most of it on its way to disk already.
    static func write(_ bytes: some ContiguousBytes, to path: String, temporary: String?, syncFile: Bool = true, syncDirectory: Bool = true,
                      startWriteback: Bool = false) throws {
        let written = temporary ?? path
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
        if ok && syncFile && fsync(fd) != 0 { ok = false }
        if ok && !syncFile && startWriteback { _ = systemStartWriteback(fd, 0, 0, 2 /* SYNC_FILE_RANGE_WRITE */) }
        let code = errno
        close(fd)
        guard ok else {
            unlink(written)
            throw FileStoreError.io("cannot write \(written): \(String(cString: strerror(code)))")
        }
        if let temporary { try rename(temporary, to: path) }
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

    /// Flushes everything written on the file system holding `path` (syncfs(2)): one call for a
    /// batch of files instead of an fsync each.
    static func syncFileSystem(of path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileStoreError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard systemSyncFileSystem(fd) == 0 else { throw FileStoreError.io("cannot sync the file system of \(path): \(String(cString: strerror(errno)))") }
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

#if os(Linux)
/// glibc's syncfs(2), which Swift's Glibc module does not export.
@_silgen_name("syncfs") private func systemSyncFileSystem(_ fd: Int32) -> Int32
/// glibc's sync_file_range(2) (a GNU extension the Glibc module does not export).
@_silgen_name("sync_file_range") private func systemStartWriteback(_ fd: Int32, _ offset: Int64, _ count: Int64, _ flags: UInt32) -> Int32
#else
/// Elsewhere: nothing; the later sync writes everything.
private func systemStartWriteback(_ fd: Int32, _ offset: Int64, _ count: Int64, _ flags: UInt32) -> Int32 { 0 }
/// Elsewhere: sync(2), every file system.
private func systemSyncFileSystem(_ fd: Int32) -> Int32 {
    sync()
    return 0
}
#endif
