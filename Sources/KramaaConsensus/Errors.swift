import KramaaPrimitives

/// Why bytes are not a valid encoding of a consensus type.
public enum ConsensusDecodingError: Error, Equatable, CustomStringConvertible {
    /// Not canonical RLP, or not the expected shape (list vs string, missing or extra fields).
    case rlp(RLPError)
    /// A vote kind other than 1 (prevote) or 2 (precommit).
    case unknownVoteKind(UInt64)
    /// A round step other than 0 (propose), 1 (prevote) or 2 (precommit).
    case unknownStep(UInt64)
    /// A message type other than 1 (proposal) or 2 (vote).
    case unknownMessageType(UInt64)
    /// A round number above `ConsensusLimits.maxRound` (or a valid round not below its round).
    case roundOutOfRange(UInt64)
    /// A block hash that is neither empty (nil) nor 32 bytes.
    case badBlockHash(length: Int)
    /// A signature that is not 65 bytes `r ‖ s ‖ recoveryId` with `r`, `s` in range and low S.
    case badSignature(SignatureError)
    /// An encoded validator set that breaks a `ValidatorSet` rule.
    case badValidatorSet(ValidatorSetError)
    /// An optional field encoded as a list of more than one element.
    case badOptional

    public var description: String {
        switch self {
        case .rlp(let e): return "consensus: \(e)"
        case .unknownVoteKind(let k): return "consensus: unknown vote kind \(k) (1 prevote, 2 precommit)"
        case .unknownStep(let s): return "consensus: unknown round step \(s) (0 propose, 1 prevote, 2 precommit)"
        case .unknownMessageType(let t): return "consensus: unknown message type \(t) (1 proposal, 2 vote)"
        case .roundOutOfRange(let r): return "consensus: round \(r) out of range"
        case .badBlockHash(let n): return "consensus: a block hash is empty (nil) or 32 bytes, got \(n)"
        case .badSignature(let e): return "consensus: bad signature: \(e)"
        case .badValidatorSet(let e): return "consensus: bad validator set: \(e)"
        case .badOptional: return "consensus: an optional field is a list of zero or one element"
        }
    }
}

/// Limits shared by the codecs and the core.
public enum ConsensusLimits {
    /// The largest round a message may carry (rounds beyond are refused when decoding and ignored by the core).
    public static let maxRound = Int(Int32.max)
    /// The largest total voting power of a validator set (so that `3 × power` never overflows).
    public static let maxTotalPower: UInt64 = 1 << 62
}

/// Typed-throw helpers over `RLPReader`: every RLP error becomes `ConsensusDecodingError.rlp`.
extension RLPReader {
    mutating func list() throws(ConsensusDecodingError) -> RLPReader {
        do { return try readList() } catch { throw .rlp(error) }
    }
    mutating func uint64() throws(ConsensusDecodingError) -> UInt64 {
        do { return try readUInt64() } catch { throw .rlp(error) }
    }
    mutating func address() throws(ConsensusDecodingError) -> Address {
        do { return try readAddress() } catch { throw .rlp(error) }
    }
    mutating func bytes32() throws(ConsensusDecodingError) -> Bytes32 {
        do { return try readBytes32() } catch { throw .rlp(error) }
    }
    mutating func byteArray() throws(ConsensusDecodingError) -> [UInt8] {
        do { return Array(try readBytes()) } catch { throw .rlp(error) }
    }
    /// A round: an integer no larger than `ConsensusLimits.maxRound`.
    mutating func round() throws(ConsensusDecodingError) -> Int {
        let r = try uint64()
        guard r <= UInt64(ConsensusLimits.maxRound) else { throw .roundOutOfRange(r) }
        return Int(r)
    }
    /// A round that may be -1, written as round + 1 (0 = none).
    mutating func optionalRound() throws(ConsensusDecodingError) -> Int {
        let r = try uint64()
        guard r <= UInt64(ConsensusLimits.maxRound) + 1 else { throw .roundOutOfRange(r) }
        return Int(r) - 1
    }
    /// An optional block hash: the empty string for nil, else 32 bytes.
    mutating func optionalHash() throws(ConsensusDecodingError) -> Bytes32? {
        let b = try byteArray()
        if b.isEmpty { return nil }
        guard b.count == 32 else { throw .badBlockHash(length: b.count) }
        return try! Bytes32(b)
    }
    mutating func signature() throws(ConsensusDecodingError) -> Secp256k1.RecoverableSignature {
        let b = try byteArray()
        let sig: Secp256k1.RecoverableSignature
        do { sig = try Secp256k1.RecoverableSignature(rawRepresentation: b) } catch { throw .badSignature(error) }
        guard sig.recoveryId <= 1 else { throw .badSignature(.invalidRecoveryId(UInt64(sig.recoveryId))) }
        guard Secp256k1.isLowS(sig.s) else { throw .badSignature(.highS) }
        return sig
    }
    func end() throws(ConsensusDecodingError) {
        do { try finish() } catch { throw .rlp(error) }
    }
}

extension RLPWriter {
    mutating func append(round: Int) { append(uint: UInt64(round)) }
    mutating func append(optionalRound r: Int) { append(uint: UInt64(r + 1)) }
    mutating func append(optionalHash h: Bytes32?) {
        if let h { append(bytes32: h) } else { append(bytes: [UInt8]()) }
    }
    mutating func append(signature s: Secp256k1.RecoverableSignature) { append(bytes: s.rawRepresentation) }
}

/// Decodes exactly one value spanning all of `bytes` with `body`.
func decodeWhole<T>(_ bytes: [UInt8], _ body: (inout RLPReader) throws(ConsensusDecodingError) -> T) throws(ConsensusDecodingError) -> T {
    var reader = RLPReader(bytes)
    if bytes.isEmpty { throw .rlp(.emptyInput) }
    let value = try body(&reader)
    try reader.end()
    return value
}

/// A consensus value with an RLP form that nests inside other lists (votes inside a safety
/// state or a message, proposals inside a message): each type writes and reads its own list,
/// and gets its standalone encoding and decoding from here.
public protocol ConsensusRLP {
    /// Appends this value as one RLP item.
    func append(to w: inout RLPWriter)
    /// Reads one item written by `append(to:)`.
    init(reader r: inout RLPReader) throws(ConsensusDecodingError)
}

extension ConsensusRLP {
    /// The standalone RLP encoding.
    public var encoded: [UInt8] {
        var w = RLPWriter()
        append(to: &w)
        return w.bytes
    }

    /// Decodes exactly one value from `bytes` (trailing bytes are an error).
    public init(rlp bytes: [UInt8]) throws(ConsensusDecodingError) {
        self = try decodeWhole(bytes) { (r: inout RLPReader) throws(ConsensusDecodingError) in try Self(reader: &r) }
    }
}
