import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only file of checksummed records, as the node's journals keep them: a magic
/// line, then records of a 4-byte big-endian length, the first 4 bytes of keccak256 of the
/// record, and the record. A record cut short by a crash (or damaged) ends the reading; what
/// follows it is ignored. Rewritten atomically (``PrivateFile/replace(path:content:)``) when
/// compacted. One format for the pool's journal and the MQTT session journal.
public enum RecordLog {
    /// Appends one record's frame to `bytes`. `hash` is keccak256 of the record when the
    /// caller has it already.
    public static func frame(_ record: [UInt8], hash: Bytes32? = nil, into bytes: inout [UInt8]) {
        let n = UInt32(record.count)
        bytes += [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        bytes += (hash ?? Keccak256.hash(record)).bytes.prefix(4)
        bytes += record
    }

    /// The records of the file at `path` in order (none if there is no file, or it does not
    /// start with `magic`), stopping at the first cut short or damaged.
    public static func read(path: String, magic: [UInt8]) throws(PrivateFileError) -> [[UInt8]] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, operation: "read", errno: errno) }
        let bytes = [UInt8](data)
        guard bytes.starts(with: magic) else { return [] }
        var records: [[UInt8]] = []
        var at = magic.count
        while at + 8 <= bytes.count {
            let length = bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) }
            guard length > 0, at + 8 + length <= bytes.count else { break }
            let record = Array(bytes[at + 8..<at + 8 + length])
            guard Keccak256.hash(record).bytes.prefix(4).elementsEqual(bytes[at + 4..<at + 8]) else { break }
            records.append(record)
            at += 8 + length
        }
        return records
    }

    /// Replaces the file with `records` (atomically, mode 0600) and opens it for appending.
    /// Returns the descriptor and the file's size.
    public static func replace(path: String, magic: [UInt8], records: [[UInt8]]) throws(PrivateFileError) -> (fd: Int32, size: Int) {
        var bytes = magic
        for record in records { frame(record, into: &bytes) }
        try PrivateFile.replace(path: path, content: bytes)
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        return (fd, bytes.count)
    }
}
