import Foundation
import KramaaNFC

/// `tag-counters.log`: the read counters of genuine taps, made durable before the tap is
/// answered, between checkpoints into `tags.sqlite`.
///
/// Why not write `tags.sqlite` on every commit: a SQLite WAL commit with `synchronous=FULL`
/// costs about twice an `fdatasync` of data overwritten in place (measured here: ~200 µs
/// against ~90 µs), and a tap waits for it. So the file has a fixed size, zero-filled once, and
/// a commit overwrites the next records and syncs only data: no block allocation, no size
/// change, no journal transaction of the file system.
///
/// Records are 16 bytes: `0x4B`, the 7-byte UID, the counter (big-endian `UInt32`) and a 32-bit
/// FNV-1a of those 12 bytes. 16 divides a 512-byte sector, so a record is never split by a torn
/// write. Reading stops at the first record that is zero or fails its check. When the file is
/// full, the counters it holds go into `tags.sqlite` (one durable transaction) and the file is
/// zeroed; a crash between the two replays records the database holds already, which changes
/// nothing because a counter only ever goes up.
final class CounterLog {
    static let fileName = "tag-counters.log"
    static let recordSize = 16
    static let marker: UInt8 = 0x4B

    let path: String
    /// Bytes of the file: its record capacity times 16.
    let capacity: Int
    private let fd: Int32
    /// Where the next record goes: the end of the valid records.
    private(set) var position = 0
    private var buffer: [UInt8] = []

    /// Opens (or creates, 0600, zero-filled and synced) the log of `capacity` bytes at `path`.
    init(path: String, capacity: Int = 1 << 20) throws(TagStoreError) {
        precondition(capacity > 0 && capacity % Self.recordSize == 0)
        self.path = path
        self.capacity = capacity
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure("open", path) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { defer { close(fd) }; throw Self.failure("stat", path) }
        if Int(status.st_size) < capacity {
            let zeros = [UInt8](repeating: 0, count: capacity - Int(status.st_size))
            let written = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(status.st_size)) }
            guard written == zeros.count, fsync(fd) == 0 else { defer { close(fd) }; throw Self.failure("extend", path) }
        }
    }

    deinit { close(fd) }

    /// The valid records from the start, the highest counter per UID; moves `position` past them.
    func replay() throws(TagStoreError) -> [TagUID: UInt32] {
        var bytes = [UInt8](repeating: 0, count: capacity)
        let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard read >= 0 else { throw Self.failure("read", path) }
        var counters: [TagUID: UInt32] = [:]
        position = 0
        while position + Self.recordSize <= read, let (uid, counter) = Self.decode(bytes[position..<(position + Self.recordSize)]) {
            counters[uid] = max(counters[uid] ?? 0, counter)
            position += Self.recordSize
        }
        return counters
    }

    /// How many more records fit before the file must be checkpointed and zeroed.
    var room: Int { (capacity - position) / Self.recordSize }

    /// Writes the records at `position` and syncs them; only then do they count. On failure
    /// `position` stays, so the next batch overwrites what may have been written.
    func append(_ records: some Collection<(uid: TagUID, counter: UInt32)>) throws(TagStoreError) {
        precondition(records.count <= room, "checkpoint the counter log before it overflows")
        buffer.removeAll(keepingCapacity: true)
        for record in records { Self.encode(record.uid, record.counter, into: &buffer) }
        let written = buffer.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(position)) }
        guard written == buffer.count, fdatasync(fd) == 0 else { throw Self.failure("write", path) }
        position += buffer.count
    }

    /// Zeroes the records written so far (after they are safe elsewhere) and starts again.
    func reset() throws(TagStoreError) {
        guard position > 0 else { return }
        let zeros = [UInt8](repeating: 0, count: position)
        let written = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == zeros.count, fdatasync(fd) == 0 else { throw Self.failure("zero", path) }
        position = 0
    }

    static func encode(_ uid: TagUID, _ counter: UInt32, into out: inout [UInt8]) {
        let start = out.count
        out.append(marker)
        out.append(contentsOf: uid.bytes)
        withUnsafeBytes(of: counter.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: checksum(out[start...]).bigEndian) { out.append(contentsOf: $0) }
    }

    static func decode(_ record: ArraySlice<UInt8>) -> (TagUID, UInt32)? {
        let start = record.startIndex
        guard record.count == recordSize, record[start] == marker else { return nil }
        let sum = record[(start + 12)..<(start + 16)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard sum == checksum(record[start..<(start + 12)]), let uid = try? TagUID(Array(record[(start + 1)..<(start + 8)])) else { return nil }
        return (uid, record[(start + 8)..<(start + 12)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }

    /// 32-bit FNV-1a: finds torn or stray bytes (not an adversary: the file is the node's own, 0600).
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }
    }

    private static func failure(_ operation: String, _ path: String) -> TagStoreError {
        .database("tag counter log \(path): \(operation) failed (\(String(cString: strerror(errno)))); taps are not answered genuine until it is writable")
    }
}
