import KramaaPrimitives

/// Why an envelope was refused: parse errors say which field, verification errors say what failed.
public enum EnvelopeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Larger than ``Envelope/maximumSize``.
    case tooLarge(size: Int, maximum: Int)
    /// The first byte names no envelope format this node knows (`S` signed v1, `E` sealed v1).
    case unknownFormat(UInt8?)
    /// The bytes after the format byte are not the format's RLP list.
    case malformed(String)
    /// A field is out of its range (a topic with wildcards, an unknown recipient kind, …).
    case invalidField(String, String)
    /// Made for another chain.
    case wrongChain(expected: UInt64, envelope: UInt64)
    /// Signed by a key that is not the sender device's registered active key.
    case keyNotTheSenders(envelope: Address, registered: Address)
    /// The signature is not the sender key's over this envelope.
    case badSignature
    /// Sealed with a suite Kramaa does not use.
    case unsupportedSuite(kem: UInt64, kdf: UInt64, aead: UInt64)
    /// Sealed to another key-agreement key than this one (an old or unknown key of the recipient).
    case notSealedToThisKey(envelope: Bytes32, key: Bytes32)
    /// The sealed payload does not open (wrong key, re-addressed, altered).
    case cannotOpen(HPKEBoxError)
    /// HPKE could not seal to the recipient key.
    case cannotSeal(HPKEBoxError)
    /// The opened inner envelope disagrees with the sealed one's header.
    case innerMismatch(String)

    public var description: String {
        switch self {
        case .tooLarge(let size, let maximum): return "the envelope is \(size) bytes, more than the \(maximum) allowed"
        case .unknownFormat(let byte):
            return "not a Kramaa envelope: first byte \(byte.map { Hex.encode([$0]) } ?? "missing") is neither 0x53 (signed) nor 0x45 (sealed)"
        case .malformed(let why): return "malformed envelope: \(why)"
        case .invalidField(let field, let why): return "envelope field \(field): \(why)"
        case .wrongChain(let expected, let envelope): return "the envelope is for chain \(envelope), this is chain \(expected)"
        case .keyNotTheSenders(let envelope, let registered):
            return "the envelope is signed by key \(envelope), but the sender's registered active key is \(registered)"
        case .badSignature: return "the envelope's signature is not the sender key's (forged or altered)"
        case .unsupportedSuite(let kem, let kdf, let aead):
            return "unsupported HPKE suite KEM \(kem), KDF \(kdf), AEAD \(aead); Kramaa uses KEM 0x10/0x20, KDF 1, AEAD 1 or 3"
        case .notSealedToThisKey(let envelope, let key):
            return "sealed to the agreement key with hash \(envelope), not to this key (\(key))"
        case .cannotOpen(let error): return "the sealed payload does not open: \(error)"
        case .cannotSeal(let error): return "\(error)"
        case .innerMismatch(let why): return "the opened envelope disagrees with its sealed header: \(why)"
        }
    }
}

/// Who sent an envelope and where it stands in the sender's sequence: what a node checks and
/// remembers (``ReplayGuard``) without opening it.
public struct EnvelopeOrigin: Hashable, Sendable {
    public var chainId: UInt64
    /// The sender device.
    public var sender: Address
    /// The address of the signing key (the device's current key when it signed).
    public var senderKey: Address
    /// Strictly increasing per sender, over all its envelopes.
    public var sequence: UInt64
    /// Unix milliseconds.
    public var timestamp: UInt64

    public init(chainId: UInt64, sender: Address, senderKey: Address, sequence: UInt64, timestamp: UInt64) {
        self.chainId = chainId
        self.sender = sender
        self.senderKey = senderKey
        self.sequence = sequence
        self.timestamp = timestamp
    }

    func write(_ w: inout RLPWriter) {
        w.append(uint: chainId)
        w.append(address: sender)
        w.append(address: senderKey)
        w.append(uint: sequence)
        w.append(uint: timestamp)
    }

    init(reading r: inout RLPReader) throws(EnvelopeError) {
        self.init(chainId: try r.uint64("chainId"), sender: try r.address("sender"), senderKey: try r.address("senderKey"),
                  sequence: try r.uint64("sequence"), timestamp: try r.uint64("timestamp"))
    }

    /// Checks the chain and that `senderKey` is the key that signed `message` with `signature`.
    func verify(chainId expected: UInt64, senderKey key: PublicKey, signature: [UInt8], message: [UInt8]) throws(EnvelopeError) {
        guard chainId == expected else { throw .wrongChain(expected: expected, envelope: chainId) }
        guard senderKey == key.address else { throw .keyNotTheSenders(envelope: senderKey, registered: key.address) }
        guard key.isValidSignature(signature, for: message) else { throw .badSignature }
    }
}

/// Reads of one field, naming it in the error.
extension RLPReader {
    mutating func uint64(_ name: String) throws(EnvelopeError) -> UInt64 {
        do { return try readUInt64() } catch { throw .malformed("field \(name): \(error)") }
    }

    mutating func address(_ name: String) throws(EnvelopeError) -> Address {
        do { return try readAddress() } catch { throw .malformed("field \(name): \(error)") }
    }

    mutating func bytes32(_ name: String) throws(EnvelopeError) -> Bytes32 {
        do { return try readBytes32() } catch { throw .malformed("field \(name): \(error)") }
    }

    /// A string item; of exactly `length` bytes when given.
    mutating func bytes(_ name: String, length: Int? = nil) throws(EnvelopeError) -> ArraySlice<UInt8> {
        do { return try length.map { n throws(RLPError) in try readBytes(length: n) } ?? readBytes() } catch {
            throw .malformed("field \(name): \(error)")
        }
    }
}

/// An envelope as it travels (docs/MESSAGING.md, "Envelopes"): one format byte, then an RLP list.
public enum Envelope: Sendable, Equatable {
    case signed(SignedEnvelope)
    case sealed(SealedEnvelope)

    /// The largest envelope accepted (wire bytes).
    public static let maximumSize = 1 << 20

    /// Parses either format; checks the form, not signatures.
    public static func parse(_ bytes: [UInt8]) throws(EnvelopeError) -> Envelope {
        guard bytes.count <= maximumSize else { throw .tooLarge(size: bytes.count, maximum: maximumSize) }
        switch bytes.first {
        case SignedEnvelope.format: return .signed(try SignedEnvelope(parsing: bytes))
        case SealedEnvelope.format: return .sealed(try SealedEnvelope(parsing: bytes))
        default: throw .unknownFormat(bytes.first)
        }
    }

    public var origin: EnvelopeOrigin {
        switch self {
        case .signed(let e): e.origin
        case .sealed(let e): e.origin
        }
    }

    public var wireBytes: [UInt8] {
        switch self {
        case .signed(let e): e.wireBytes
        case .sealed(let e): e.wireBytes
        }
    }

    /// keccak256 of the wire bytes: the envelope's name in proofs of delivery.
    public var envelopeHash: Bytes32 { Keccak256.hash(wireBytes) }

    /// What a node checks before relaying: the chain, that `senderKey` (the sender device's
    /// registered active key, looked up by ``EnvelopeOrigin/senderKey``) signed it, and — for a
    /// sealed envelope — its outer signature, without opening it. Then ``ReplayGuard/admit(_:now:)``.
    public func verify(chainId: UInt64, senderKey: PublicKey) throws(EnvelopeError) {
        switch self {
        case .signed(let e): try e.verify(chainId: chainId, senderKey: senderKey)
        case .sealed(let e): try e.verify(chainId: chainId, senderKey: senderKey)
        }
    }

    /// Reads the format byte and the list after it.
    static func list(_ bytes: [UInt8], format: UInt8) throws(EnvelopeError) -> RLPReader {
        guard bytes.first == format else { throw .unknownFormat(bytes.first) }
        guard bytes.count <= maximumSize else { throw .tooLarge(size: bytes.count, maximum: maximumSize) }
        var outer = RLPReader(Array(bytes.dropFirst()))
        let list: RLPReader
        do {
            list = try outer.readList()
            try outer.finish()
        } catch {
            throw .malformed("\(error)")
        }
        return list
    }

    /// Checks that the list had no more fields.
    static func finish(_ r: RLPReader) throws(EnvelopeError) {
        do { try r.finish() } catch { throw .malformed("more fields than the format has (\(error))") }
    }
}
