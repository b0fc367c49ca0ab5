// The board's C functions (firmware/board/board.c) as the application sees them.

@_extern(c, "board_putc") func board_putc(_ c: UInt8)
@_extern(c, "board_ticks") func board_ticks() -> UInt64
@_extern(c, "board_paint_stack") func board_paint_stack()
@_extern(c, "board_stack_peak") func board_stack_peak() -> UInt32
@_extern(c, "board_stack_now") func board_stack_now() -> UInt32
@_extern(c, "board_allocations") func board_allocations() -> UInt32
@_extern(c, "board_unix_time") func board_unix_time() -> UInt64
@_extern(c, "board_argument") func board_argument(_ index: Int32, _ out: UnsafeMutablePointer<UInt8>, _ capacity: Int32) -> Int32
@_extern(c, "board_entropy") func board_entropy(_ buffer: UnsafeMutableRawPointer, _ length: UInt32) -> Int32
@_extern(c, "board_storage_read") func board_storage_read(_ path: UnsafePointer<UInt8>, _ buffer: UnsafeMutableRawPointer, _ length: UInt32) -> Int32
@_extern(c, "board_storage_write") func board_storage_write(_ path: UnsafePointer<UInt8>, _ buffer: UnsafeRawPointer, _ length: UInt32) -> Int32
@_extern(c, "board_exit") func board_exit(_ code: Int32)

/// The serial port as a byte sink: frames and log lines go out through it.
struct UART: ByteSink {
    mutating func update(_ byte: UInt8) { board_putc(byte) }

    mutating func line(_ text: StaticString) {
        update(ascii: text)
        update(0x0a)
    }

    mutating func decimal(_ value: UInt64) {
        var digits = InlineArray<20, UInt8>(repeating: 0)
        var v = value, n = 0
        repeat { digits[n] = UInt8(0x30 + v % 10); v /= 10; n += 1 } while v != 0
        while n > 0 { n -= 1; update(digits[n]) }
    }
}

/// The board's TRNG as the library's entropy source.
struct BoardEntropy: EntropySource {
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        board_entropy(buffer.baseAddress!, UInt32(buffer.count)) == 1
    }
}

/// One command-line argument (semihosting), NUL-terminated in `storage`.
struct Argument {
    var storage = InlineArray<96, UInt8>(repeating: 0)
    var count = 0

    init?(_ index: Int32) {
        let n = withUnsafeMutableBytes(of: &storage) { board_argument(index, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), 95) }
        guard n >= 0 else { return nil }
        count = Int(n)
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBytes(of: storage) { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    func withCString<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }

    func equals(_ text: StaticString) -> Bool {
        guard text.utf8CodeUnitCount == count else { return false }
        return text.withUTF8Buffer { t in withBytes { b in
            for i in 0..<count where t[i] != b[i] { return false }
            return true
        } }
    }

    /// The decimal number it holds, or nil.
    var number: UInt64? {
        guard count > 0 else { return nil }
        return withBytes { b in
            var v: UInt64 = 0
            for c in b {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
                guard !o1 && !o2 else { return nil }
                v = s
            }
            return v
        }
    }

    /// Its hex digits (after an optional `0x`) as exactly `out.count` bytes; false otherwise.
    func hex(into out: UnsafeMutableRawBufferPointer) -> Bool {
        withBytes { b in
            let start = b.count >= 2 && b[0] == 0x30 && (b[1] == 0x78 || b[1] == 0x58) ? 2 : 0
            guard b.count - start == 2 * out.count else { return false }
            func nibble(_ c: UInt8) -> UInt8? {
                switch c {
                case 0x30...0x39: return c - 0x30
                case 0x61...0x66: return c - 0x57
                case 0x41...0x46: return c - 0x37
                default: return nil
                }
            }
            for i in 0..<out.count {
                guard let high = nibble(b[start + 2 * i]), let low = nibble(b[start + 2 * i + 1]) else { return false }
                out[i] = high << 4 | low
            }
            return true
        }
    }
}

/// Fixed bytes as entropy (the bench mode only: the same ephemeral key every run).
struct FixedEntropy: EntropySource {
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: i &* 29 &+ 7) }
        return true
    }
}
