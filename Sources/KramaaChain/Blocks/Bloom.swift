import KramaaEVM
import KramaaPrimitives

/// The 2048-bit logs bloom of receipts and headers (Yellow Paper §4.3.1): for every log
/// address and topic, three bits chosen by the first three byte pairs of its Keccak hash.
public struct Bloom: Equatable, Hashable, Sendable {
    public private(set) var bytes: [UInt8]

    public static let byteCount = 256
    public static var empty: Bloom { Bloom() }

    public init() { bytes = [UInt8](repeating: 0, count: Bloom.byteCount) }

    /// A bloom from its 256 bytes.
    public init(bytes: some Collection<UInt8>) throws(RLPError) {
        guard bytes.count == Bloom.byteCount else { throw .wrongLength(at: 0, expected: Bloom.byteCount, actual: bytes.count) }
        self.bytes = Array(bytes)
    }

    /// The bloom of a list of logs.
    public init(logs: some Collection<Log>) {
        self.init()
        guard logs.count > 1 else {
            for log in logs { add(log) }
            return
        }
        // Logs of one transaction often repeat their emitter and topics (an event per item of a
        // batch): each distinct value is hashed once, as across a block's receipts.
        var memo = Memo()
        self.init(logs: logs, memo: &memo)
    }

    /// The bloom of a list of logs, taking the bits of values seen before from `memo`: the
    /// receipts of one block repeat their emitters and event topics (every transfer of a token
    /// has the token's address and the Transfer topic), so a block's receipts hash each once.
    public init(logs: some Collection<Log>, memo: inout Memo) {
        self.init()
        for log in logs {
            setBits(memo.bits(of: log.address))
            for topic in log.topics { setBits(memo.bits(of: topic)) }
        }
    }

    /// The three bit positions of values already hashed, for ``init(logs:memo:)``; holds at most
    /// `Memo.capacity` values (then hashes the rest each time), so a block of distinct values
    /// costs no more memory than that.
    public struct Memo {
        static let capacity = 4096
        private var addresses: [Address: SIMD3<UInt16>] = [:]
        private var topics: [Bytes32: SIMD3<UInt16>] = [:]

        public init() {}

        mutating func bits(of address: Address) -> SIMD3<UInt16> {
            let room = addresses.count + topics.count < Self.capacity
            return Self.bits(of: address, in: &addresses, room: room) { address.withUnsafeBytes { Bloom.bits(of: $0) } }
        }

        mutating func bits(of topic: Bytes32) -> SIMD3<UInt16> {
            let room = addresses.count + topics.count < Self.capacity
            return Self.bits(of: topic, in: &topics, room: room) { topic.withUnsafeBytes { Bloom.bits(of: $0) } }
        }

        /// The remembered bits of `value`, or `hash()` (kept when there is `room`).
        private static func bits<Key: Hashable>(of value: Key, in known: inout [Key: SIMD3<UInt16>], room: Bool,
                                                hash: () -> SIMD3<UInt16>) -> SIMD3<UInt16> {
            if let bits = known[value] { return bits }
            let bits = hash()
            if room { known[value] = bits }
            return bits
        }
    }

    public mutating func add(_ log: Log) {
        log.address.withUnsafeBytes { add(raw: $0) }
        for topic in log.topics { topic.withUnsafeBytes { add(raw: $0) } }
    }

    mutating func add(raw: UnsafeRawBufferPointer) { setBits(Self.bits(of: raw)) }

    /// The three bits a value sets: the first three byte pairs of its Keccak hash, mod 2048.
    static func bits(of raw: UnsafeRawBufferPointer) -> SIMD3<UInt16> {
        Keccak256.hash(raw).withUnsafeBytes { h in
            SIMD3(UInt16(h[0]) << 8 | UInt16(h[1]), UInt16(h[2]) << 8 | UInt16(h[3]), UInt16(h[4]) << 8 | UInt16(h[5])) & 2047
        }
    }

    private mutating func setBits(_ bits: SIMD3<UInt16>) {
        for i in 0..<3 {
            let bit = Int(bits[i])
            bytes[Bloom.byteCount - 1 - bit / 8] |= 1 << UInt8(bit % 8)
        }
    }

    /// Adds every bit of `other`.
    public mutating func formUnion(_ other: Bloom) {
        for i in 0..<Bloom.byteCount { bytes[i] |= other.bytes[i] }
    }

    /// Whether `value` (an address or topic) may be in the set; false means surely not.
    public func mayContain(_ value: some Collection<UInt8>) -> Bool {
        var probe = Bloom()
        Array(value).withUnsafeBytes { probe.add(raw: $0) }
        for i in 0..<Bloom.byteCount where probe.bytes[i] & bytes[i] != probe.bytes[i] { return false }
        return true
    }
}
