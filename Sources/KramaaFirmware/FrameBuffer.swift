/// Why a frame could not be built.
public enum FrameError: Error, Equatable {
    /// The output buffer is too small for the frame.
    case bufferTooSmall
    /// A field outside what its format allows (a topic with a wildcard, a content type over 255 bytes…).
    case invalidField
}

/// A writer over memory the caller owns (a static buffer on a device): frames are built in
/// place, with no allocation. Writing past the end sets ``overflowed``; builders check it and
/// throw ``FrameError/bufferTooSmall``.
public struct FrameBuffer: ByteSink {
    public let base: UnsafeMutablePointer<UInt8>
    public let capacity: Int
    public private(set) var count = 0
    public private(set) var overflowed = false

    public init(_ memory: UnsafeMutableBufferPointer<UInt8>) {
        base = memory.baseAddress!
        capacity = memory.count
    }

    public mutating func update(_ byte: UInt8) {
        guard count < capacity else { overflowed = true; return }
        base[count] = byte
        count += 1
    }

    /// The bytes written so far.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// The bytes from `start` on.
    public func bytes(from start: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + start, count: count - start) }

    public mutating func reset() {
        count = 0
        overflowed = false
    }

    /// Throws when something did not fit.
    public func check() throws(FrameError) {
        if overflowed { throw .bufferTooSmall }
    }

    /// Makes room for `length` bytes at `position` by moving what follows it; the caller fills
    /// them (length prefixes written after their content).
    mutating func open(_ length: Int, at position: Int) -> Bool {
        guard count + length <= capacity else { overflowed = true; return false }
        var i = count
        while i > position {
            i -= 1
            base[i + length] = base[i]
        }
        count += length
        return true
    }

    /// The memory after what is written, for a frame built inside another (``adopt(_:)`` then
    /// counts what was written there).
    var rest: UnsafeMutableBufferPointer<UInt8> { UnsafeMutableBufferPointer(start: base + count, count: capacity - count) }

    /// Counts `length` bytes written into ``rest`` as written.
    mutating func adopt(_ length: Int) {
        guard count + length <= capacity else { overflowed = true; return }
        count += length
    }

    /// Removes `length` bytes at `position`.
    mutating func close(_ length: Int, at position: Int) {
        for i in position..<(count - length) { base[i] = base[i + length] }
        count -= length
    }

    /// Truncates to `length` bytes.
    mutating func truncate(to length: Int) { count = min(count, length) }
}

/// Hex digits, lower case.
public enum HexText {
    @inline(__always) public static func digit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }

    /// Writes each byte as two lower-case hex digits.
    public static func write<S: ByteSink>(_ bytes: UnsafeRawBufferPointer, to sink: inout S) {
        for b in bytes {
            sink.update(digit(b >> 4))
            sink.update(digit(b & 0x0f))
        }
    }
}

/// Unpadded base64url (RFC 4648 §5), for the MQTT token's text form.
public enum Base64URLText {
    private static func symbol(_ v: UInt32) -> UInt8 {
        let v = UInt8(v & 63)
        switch v {
        case 0..<26: return 0x41 + v
        case 26..<52: return 0x61 + v - 26
        case 52..<62: return 0x30 + v - 52
        case 62: return 0x2d
        default: return 0x5f
        }
    }

    public static func write<S: ByteSink>(_ bytes: UnsafeRawBufferPointer, to sink: inout S) {
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            sink.update(symbol(v >> 18)); sink.update(symbol(v >> 12)); sink.update(symbol(v >> 6)); sink.update(symbol(v))
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            sink.update(symbol(v >> 18)); sink.update(symbol(v >> 12))
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            sink.update(symbol(v >> 18)); sink.update(symbol(v >> 12)); sink.update(symbol(v >> 6))
        }
    }

    /// The length of the encoding of `count` bytes.
    public static func encodedLength(_ count: Int) -> Int { count / 3 * 4 + (count % 3 == 0 ? 0 : count % 3 + 1) }
}

/// Counts bytes: a sink to measure an encoding before writing it.
public struct ByteCounter: ByteSink {
    public private(set) var count = 0
    public init() {}
    public mutating func update(_ byte: UInt8) { count += 1 }
}
