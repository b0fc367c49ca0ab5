import Foundation
import KramaaFiles

/// Where a block lies in a pack file: the pack's name and the block's bytes.
struct PackLocation: Sendable {
    var pack: String
    var offset: UInt64
    var length: UInt32
}

/// Pack files: the new blocks of one upload in one file, framed as CAR sections (varint length,
/// CID, block) with no header. A GiB imported is then one file instead of 4,096, which spares the
/// file system an inode, a directory entry and a rename per block (docs/DATA.md, "Files").
/// A pack is written in its upload's directory and renamed into `files/packs` whole once
/// durable, so a pack there is always complete; its index is rebuilt by scanning it at start.
enum PackFile {
    static let suffix = ".pack"

    /// Appends sections to a pack being written. Sections are gathered in an aligned buffer and
    /// written with O_DIRECT: a large import then does not fill the page cache (on this kind of
    /// machine, copying into fresh page-cache pages cost more than the rest of the import). The
    /// last partial page stays in the buffer and is written again, padded, by each `sync`; the
    /// padding is cut off by `finish`. Where the file system refuses O_DIRECT the same writes go
    /// through the page cache.
    final class Writer: @unchecked Sendable {
        let path: String
        private let fd: Int32
        private let lock = NSLock()
        /// Bytes of sections appended: where the next one starts.
        private var end: UInt64 = 0
        /// The buffer holds the file from `bufferStart` (a multiple of `alignment`) to `end`.
        private var bufferStart: UInt64 = 0
        private let buffer: UnsafeMutableRawPointer
        static let alignment = 4096
        static let capacity = 4 << 20

        init(path: String) throws {
            self.path = path
            var descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | directIOFlag, 0o644)
            if descriptor < 0 && errno == EINVAL { descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
            guard descriptor >= 0 else { throw FileStoreError.io("cannot create \(path): \(String(cString: strerror(errno)))") }
            fd = descriptor
            buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.capacity, alignment: Self.alignment)
        }

        deinit {
            close(fd)
            buffer.deallocate()
        }

        private var filled: Int { Int(end - bufferStart) }

        /// Appends `block` as one section; returns where its bytes lie. Durable after `sync`.
        func append(_ cid: CID, _ block: ArraySlice<UInt8>) throws -> (offset: UInt64, length: UInt32) {
            var head: [UInt8] = []
            let cidBytes = cid.bytes
            Varint.write(UInt64(cidBytes.count + block.count), to: &head)
            head += cidBytes
            return try lock.withLock {
                try head.withUnsafeBytes { try copyIn($0) }
                let offset = end
                try block.withUnsafeBytes { try copyIn($0) }
                return (offset, UInt32(block.count))
            }
        }

        /// Copies `bytes` into the buffer, writing out its whole pages whenever it is full.
        private func copyIn(_ bytes: UnsafeRawBufferPointer) throws {
            var taken = 0
            while taken < bytes.count {
                if filled == Self.capacity { try writeBuffer() }
                let n = min(bytes.count - taken, Self.capacity - filled)
                (buffer + filled).copyMemory(from: bytes.baseAddress! + taken, byteCount: n)
                taken += n
                end += UInt64(n)
            }
        }

        /// Writes the buffer at `bufferStart`, its last page padded with zeros, then drops the
        /// whole pages from the buffer, keeping the partial one at its front.
        private func writeBuffer() throws {
            let length = (filled + Self.alignment - 1) / Self.alignment * Self.alignment
            memset(buffer + filled, 0, length - filled)
            var done = 0
            while done < length {
                let n = pwrite(fd, buffer + done, length - done, off_t(bufferStart) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EINVAL && done == 0 && dropDirectIO() { continue }
                guard n > 0 else { throw FileStoreError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
                done += n
            }
            let whole = filled / Self.alignment * Self.alignment
            if whole > 0 {
                buffer.copyMemory(from: buffer + whole, byteCount: filled - whole)
                bufferStart += UInt64(whole)
            }
        }

        /// Turns O_DIRECT off for a file system that accepted it at open and refuses it now.
        private func dropDirectIO() -> Bool {
            let flags = fcntl(fd, F_GETFL)
            guard flags >= 0, flags & directIOFlag != 0 else { return false }
            return fcntl(fd, F_SETFL, flags & ~directIOFlag) == 0
        }

        /// Makes everything appended so far durable before a batch is acknowledged.
        func sync() throws {
            try lock.withLock {
                try writeBuffer()
                guard fdatasync(fd) == 0 else { throw FileStoreError.io("cannot sync \(path): \(String(cString: strerror(errno)))") }
            }
        }

        /// Writes and syncs everything and cuts the last page's padding: the pack is complete.
        func finish() throws {
            try lock.withLock {
                try writeBuffer()
                guard ftruncate(fd, off_t(end)) == 0, fdatasync(fd) == 0 else {
                    throw FileStoreError.io("cannot finish \(path): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Every section of the pack at `path`: the key of its block and where the block lies. A
    /// section cut short or unreadable ends the scan; blocks before it stay usable.
    static func scan(path: String, name: String, _ body: (String, PackLocation) -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileStoreError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileStoreError.io("cannot stat \(path)") }
        let size = UInt64(st.st_size)
        var offset: UInt64 = 0
        var head = [UInt8](repeating: 0, count: 96)
        while offset < size {
            let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, off_t(offset)) }
            guard n > 0 else { return }
            let bytes = Array(head[..<n])
            var at = 0
            guard let length = try? Varint.read(bytes, at: &at), let cid = try? CID.read(bytes, at: &at) else { return }
            let cidLength = UInt64(cid.bytes.count)
            let sectionEnd = offset + UInt64(at) - cidLength + length
            guard length >= cidLength, sectionEnd <= size, length - cidLength <= UInt64(CAR.maximumSection) else { return }
            body(BlockStore.key(cid.multihash), PackLocation(pack: name, offset: offset + UInt64(at), length: UInt32(length - cidLength)))
            offset = sectionEnd
        }
    }

    /// The block at `location` in the pack at `path`, or nil if the pack is gone (collected).
    static func read(path: String, _ location: PackLocation) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw FileStoreError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: Int(location.length))
        var done = 0
        try out.withUnsafeMutableBytes { raw in
            while done < raw.count {
                let n = pread(fd, raw.baseAddress! + done, raw.count - done, off_t(location.offset) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw FileStoreError.io("short read of \(path) at \(location.offset)") }
                done += n
            }
        }
        return out
    }
}

#if os(Linux) && arch(arm64)
/// O_DIRECT (the Glibc module leaves it out: it is a _GNU_SOURCE name).
private let directIOFlag: Int32 = 0o200000
#elseif os(Linux)
private let directIOFlag: Int32 = 0o40000
#else
private let directIOFlag: Int32 = 0
#endif
