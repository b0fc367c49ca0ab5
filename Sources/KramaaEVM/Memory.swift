#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KramaaPrimitives

/// A frame's byte-addressed memory: grows in 32-byte words, zero-filled, one buffer.
struct Memory: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer
    /// Active size in bytes (always a multiple of 32): what MSIZE reports.
    private(set) var size: Int = 0
    private var capacity: Int

    init() {
        capacity = 4096
        base = Memory.reallocate(nil, capacity)
    }

    deinit { free(base) }

    /// `realloc`, which extends a large block in place or moves its pages instead of copying
    /// them into fresh ones: memory growing to megabytes (snailtracer's) otherwise spends more
    /// time copying and faulting pages in than running instructions. 16-byte aligned, as malloc is.
    private static func reallocate(_ block: UnsafeMutableRawPointer?, _ byteCount: Int) -> UnsafeMutableRawPointer {
        guard let block = realloc(block, byteCount) else { fatalError("EVM memory: cannot allocate \(byteCount) bytes") }
        return block
    }

    /// Grows the active size to cover `end` bytes (rounded up to a word), zero-filling.
    mutating func grow(to end: Int) {
        let newSize = (end + 31) & ~31
        guard newSize > size else { return }
        if newSize > capacity {
            var newCapacity = capacity * 2
            while newCapacity < newSize { newCapacity *= 2 }
            base = Memory.reallocate(base, newCapacity)
            capacity = newCapacity
        }
        (base + size).initializeMemory(as: UInt8.self, repeating: 0, count: newSize - size)
        size = newSize
    }

    /// A copy of `count` bytes at `offset` (which must be inside the active size).
    func bytes(_ offset: Int, _ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: base + offset, count: count))
    }

    /// Copies `count` bytes from `source` (zero-padded past its end, starting at `sourceOffset`) to `offset`.
    func write(_ source: [UInt8], sourceOffset: UInt256, count: Int, at offset: Int) {
        guard count > 0 else { return }
        let start = sourceOffset.fitsInUInt64 && sourceOffset.low64 < UInt64(source.count) ? Int(sourceOffset.low64) : source.count
        let copied = min(count, source.count - start)
        if copied > 0 {
            source.withUnsafeBytes { (base + offset).copyMemory(from: $0.baseAddress! + start, byteCount: copied) }
        }
        (base + offset + copied).initializeMemory(as: UInt8.self, repeating: 0, count: count - copied)
    }
}
