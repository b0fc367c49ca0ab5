import KramaaFirmware
import KramaaPrimitives

/// Conversions between the firmware's fixed-size values and the node's arrays.
extension InlineArray where Element == UInt8 {
    var array: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }

    init(_ bytes: [UInt8]) {
        precondition(bytes.count == Self.count, "expected \(Self.count) bytes, got \(bytes.count)")
        self.init(repeating: 0)
        for i in 0..<bytes.count { self[i] = bytes[i] }
    }
}

extension FrameBuffer {
    var array: [UInt8] { Array(bytes) }
}

/// Runs `body` with a firmware frame buffer of `capacity` bytes.
func withFrameBuffer<R>(capacity: Int = 4096, _ body: (inout FrameBuffer) throws -> R) rethrows -> R {
    let memory = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: capacity)
    defer { memory.deallocate() }
    var buffer = FrameBuffer(memory)
    return try body(&buffer)
}

/// Random bytes from KramaaPrimitives' seeded generator: inputs a failure message can reproduce.
extension SplitMix64 {
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// An entropy source that replays fixed bytes (host tests only).
struct ScriptedEntropy: EntropySource {
    var bytes: [UInt8]
    var failing = false
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        if failing { return false }
        for i in 0..<buffer.count { buffer[i] = bytes[i % bytes.count] }
        bytes = bytes.map { $0 &+ 1 }
        return true
    }
}

/// The firmware key and the node's key for the same 32 secret bytes.
func keyPair(_ typeCode: UInt8, _ secret: [UInt8]) throws -> (KramaaFirmware.DeviceKey, SigningKey) {
    let firmware = try KramaaFirmware.DeviceKey(typeCode: typeCode, secret: KramaaFirmware.Bytes32(secret))
    let node = try SigningKey(type: typeCode == 2 ? .p256 : .ed25519, rawRepresentation: secret)
    return (firmware, node)
}

/// A random valid secret for a key type (a P-256 scalar must be below n: retry the rare miss).
func randomSecret(_ typeCode: UInt8, _ rng: inout SplitMix64) -> [UInt8] {
    while true {
        let secret = rng.bytes(32)
        if (try? KramaaFirmware.DeviceKey(typeCode: typeCode, secret: KramaaFirmware.Bytes32(secret))) != nil { return secret }
    }
}

/// Lower-case hex without a prefix.
func hex(_ bytes: some Sequence<UInt8>) -> String { Hex.encode(bytes, prefix: false) }
