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
        // batch): each distinct value is hashed once, setting the bits every repeat would set.
        var addresses: [Address] = []
        var topics = Set<Bytes32>()
        for log in logs {
            if !addresses.contains(log.address) {
                addresses.append(log.address)
                log.address.withUnsafeBytes { add(raw: $0) }
            }
            for topic in log.topics where topics.insert(topic).inserted { topic.withUnsafeBytes { add(raw: $0) } }
        }
    }

    public mutating func add(_ log: Log) {
        log.address.withUnsafeBytes { add(raw: $0) }
        for topic in log.topics { topic.withUnsafeBytes { add(raw: $0) } }
    }

    mutating func add(raw: UnsafeRawBufferPointer) {
        let hash = Keccak256.hash(raw)
        hash.withUnsafeBytes { h in
            for i in stride(from: 0, to: 6, by: 2) {
                let bit = (Int(h[i]) << 8 | Int(h[i + 1])) & 2047
                bytes[Bloom.byteCount - 1 - bit / 8] |= 1 << UInt8(bit % 8)
            }
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
