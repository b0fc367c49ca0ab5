import KramaaPrimitives

/// What a device key signs, and for what: every signature of this module is over
/// `0x19 ‖ "kramaa:" ‖ purpose ‖ 0x00 ‖ chainId (8 bytes, big-endian) ‖ body`.
///
/// - `0x19` first: no Ethereum transaction starts with it (legacy transactions are RLP lists,
///   0xc0 and up; typed ones use types 0x01–0x04 and Kramaa's device type 0x4b), and EIP-191
///   gives it no "k" version, so a messaging signature is never a valid transaction or
///   personal-message signature.
/// - the purpose, ended by 0x00 (no purpose contains it), so no message of one purpose is a
///   message of another;
/// - the chain id, so nothing signed for one chain is accepted by another.
///
/// A device key signs transactions too; this prefix is what keeps a token, an envelope or a
/// proof from being replayed as any of them.
public enum SigningDomain: String, CaseIterable, Sendable {
    /// An MQTT password token (``DeviceToken``).
    case mqttToken = "mqtt-token"
    /// The answer to an MQTT 5 enhanced-authentication challenge (``DeviceChallenge``).
    case mqttChallenge = "mqtt-challenge"
    /// A signed envelope (``SignedEnvelope``).
    case envelope = "envelope"
    /// The outer signature of a sealed envelope (``SealedEnvelope``).
    case sealedEnvelope = "sealed-envelope"
    /// The HPKE `info` of a sealed envelope (not signed: it binds the sealed payload to sender
    /// and recipient).
    case sealInfo = "seal-info"
    /// The device's signing key authorising a key-agreement key (``AgreementKeyProof``).
    case agreementKeyAuthorization = "agreement-key-authorization"
    /// The key-agreement key proving its own possession (``AgreementKeyProof``).
    case agreementKeyPossession = "agreement-key-possession"

    /// The bytes before the body: `0x19 ‖ "kramaa:" ‖ purpose ‖ 0x00 ‖ chainId`.
    public func prefix(chainId: UInt64) -> [UInt8] {
        [0x19] + Array("kramaa:\(rawValue)".utf8) + [0] + chainId.bigEndianBytes
    }

    /// The message to sign for `body` on chain `chainId`.
    public func message(chainId: UInt64, _ body: [UInt8]) -> [UInt8] { prefix(chainId: chainId) + body }
}

extension UInt64 {
    /// The 8 bytes, most significant first.
    var bigEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * UInt64($0))) } }

    /// `self + other`, or `UInt64.max` where that overflows (times far in the future).
    func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    /// The value of 8 big-endian bytes.
    init(bigEndian bytes: ArraySlice<UInt8>) {
        self = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
