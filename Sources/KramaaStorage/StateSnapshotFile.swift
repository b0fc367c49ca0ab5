import Foundation
import KramaaPrimitives

/// A snapshot on disk: an 8-byte magic, the manifest, then each chunk, every part preceded by its
/// length (8 bytes, big-endian). Chunks are read one at a time and checked against the manifest's
/// hashes, so a file of any size is read in bounded memory and a flipped bit names its chunk.
public final class SnapshotFile: @unchecked Sendable {
    static let magic: [UInt8] = Array("KRSNAP".utf8) + [0, 1]
    /// No manifest or chunk is larger (a chunk holds about 1 MiB; the manifest a block and 256 headers).
    public static let maximumPartBytes = 64 << 20

    public let url: URL
    public let manifest: SnapshotManifest
    /// Where each chunk's bytes start and how long they are.
    private let chunkRanges: [(offset: UInt64, length: Int)]
    private let handle: FileHandle
    private let lock = NSLock()

    /// Opens `url` and reads its manifest and chunk table (not the chunks).
    public init(url: URL) throws(SnapshotError) {
        self.url = url
        do { handle = try FileHandle(forReadingFrom: url) } catch { throw .io("cannot open \(url.path): \(error.localizedDescription)") }
        do {
            guard try handle.read(upToCount: 8).map(Array.init) == Self.magic else {
                throw SnapshotError.malformed("\(url.lastPathComponent) is not a Kramaa state snapshot (wrong magic)")
            }
            let manifestLength = try Self.readLength(handle)
            manifest = try SnapshotManifest(decoding: try Self.readExactly(handle, manifestLength))
            var ranges: [(offset: UInt64, length: Int)] = []
            for _ in manifest.chunkHashes.indices {
                let length = try Self.readLength(handle)
                let offset = try handle.offset()
                ranges.append((offset, length))
                try handle.seek(toOffset: offset + UInt64(length))
            }
            let end = try handle.seekToEnd()
            guard end == (ranges.last.map { $0.offset + UInt64($0.length) } ?? (8 + 8 + UInt64(manifestLength))) else {
                throw SnapshotError.malformed("the file is \(end) bytes, not what its manifest and chunks add up to (truncated or appended to)")
            }
            chunkRanges = ranges
        } catch let error as SnapshotError {
            try? handle.close()
            throw error
        } catch {
            try? handle.close()
            throw .malformed("\(url.lastPathComponent) is truncated: \(error.localizedDescription)")
        }
    }

    deinit { try? handle.close() }

    /// Chunk `index`'s bytes, checked against the manifest's hash of it.
    public func chunk(_ index: Int) throws(SnapshotError) -> [UInt8] {
        guard chunkRanges.indices.contains(index) else { throw .malformed("no chunk \(index) (the snapshot has \(chunkRanges.count))") }
        let range = chunkRanges[index]
        let bytes: [UInt8]
        do {
            bytes = try lock.withLock {
                try handle.seek(toOffset: range.offset)
                return try Self.readExactly(handle, range.length)
            }
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw .io("reading chunk \(index): \(error.localizedDescription)")
        }
        let hash = Keccak256.hash(bytes)
        guard hash == manifest.chunkHashes[index] else { throw .chunkMismatch(index: index, expected: manifest.chunkHashes[index], got: hash) }
        return bytes
    }

    /// Writes a snapshot: the manifest (with `chunks`' hashes) and the chunks, to a temporary file
    /// that is synced and then renamed to `url`, so `url` is a whole snapshot or absent.
    @discardableResult
    public static func write(_ manifest: SnapshotManifest, chunks: [[UInt8]], to url: URL) throws(SnapshotError) -> SnapshotManifest {
        var manifest = manifest
        manifest.chunkHashes = chunks.map { Keccak256.hash($0) }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        do {
            FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600])
            let out = try FileHandle(forWritingTo: temporary)
            defer { try? out.close() }
            try out.truncate(atOffset: 0)
            let encoded = manifest.encoded
            try out.write(contentsOf: magic + lengthBytes(encoded.count) + encoded)
            for chunk in chunks { try out.write(contentsOf: lengthBytes(chunk.count) + chunk) }
            try out.synchronize()
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .io("cannot write \(url.path): \(error.localizedDescription)")
        }
        return manifest
    }

    private static func lengthBytes(_ count: Int) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(count) >> (UInt64($0) * 8)) }
    }

    private static func readLength(_ handle: FileHandle) throws -> Int {
        let bytes = try readExactly(handle, 8)
        let value = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard value <= UInt64(maximumPartBytes) else {
            throw SnapshotError.malformed("a part claims \(value) bytes, more than the \(maximumPartBytes) allowed")
        }
        return Int(value)
    }

    private static func readExactly(_ handle: FileHandle, _ count: Int) throws -> [UInt8] {
        let data = try handle.read(upToCount: count) ?? Data()
        guard data.count == count else { throw SnapshotError.malformed("the file ends inside a part (truncated)") }
        return Array(data)
    }
}
