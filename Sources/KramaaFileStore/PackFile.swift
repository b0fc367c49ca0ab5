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

    /// Appends sections to a pack being written. Offsets are reserved under a lock and the bytes
    /// written with `pwritev` outside it, so batches of one upload may be staged concurrently.
    final class Writer: @unchecked Sendable {
        let path: String
        private let fd: Int32
        private let lock = NSLock()
        private var end: UInt64 = 0

        init(path: String) throws {
            self.path = path
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileStoreError.io("cannot create \(path): \(String(cString: strerror(errno)))") }
        }

        deinit { close(fd) }

        /// Writes `block` as one section and starts its write-back; returns where its bytes lie.
        func append(_ cid: CID, _ block: ArraySlice<UInt8>) throws -> (offset: UInt64, length: UInt32) {
            var head: [UInt8] = []
            let cidBytes = cid.bytes
            Varint.write(UInt64(cidBytes.count + block.count), to: &head)
            head += cidBytes
            let sectionStart = lock.withLock { () -> UInt64 in
                let start = end
                end += UInt64(head.count + block.count)
                return start
            }
            try head.withUnsafeBytes { h in
                try block.withUnsafeBytes { b in
                    try writeAll([h, b], at: sectionStart)
                }
            }
            _ = systemStartWriteback(fd, Int64(sectionStart), Int64(head.count + block.count), 2 /* SYNC_FILE_RANGE_WRITE */)
            return (sectionStart + UInt64(head.count), UInt32(block.count))
        }

        private func writeAll(_ parts: [UnsafeRawBufferPointer], at start: UInt64) throws {
            var vectors = parts.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
            var remaining = parts.reduce(0) { $0 + $1.count }
            var offset = off_t(start)
            var first = 0
            while remaining > 0 {
                let n = vectors.withUnsafeMutableBufferPointer { pwritev(fd, $0.baseAddress! + first, Int32($0.count - first), offset) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw FileStoreError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
                remaining -= n
                offset += off_t(n)
                // Skip what was written: whole vectors, then the front of a partly written one.
                var done = n
                while first < vectors.count && done >= vectors[first].iov_len {
                    done -= vectors[first].iov_len
                    first += 1
                }
                if done > 0 {
                    vectors[first].iov_base += done
                    vectors[first].iov_len -= done
                }
            }
        }

        /// Makes everything appended so far durable (one fdatasync for the batch).
        func sync() throws {
            guard fdatasync(fd) == 0 else { throw FileStoreError.io("cannot sync \(path): \(String(cString: strerror(errno)))") }
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
