import KramaaPrimitives

/// Why a node refused to relay an envelope.
public enum EnvelopeRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// Malformed, another chain, or a bad signature.
    case envelope(EnvelopeError)
    /// The sender is no active device, or `senderKey` is not its current key.
    case unknownSender(sender: Address, key: Address)
    /// Sealed to a key that is not the recipient's usable agreement key (none registered, an old
    /// or revoked one, or the recipient is not active).
    case recipientKeyNotUsable(recipient: Address, keyHash: Bytes32)
    /// Replayed (or not distinguishable from a replay).
    case replay(ReplayError)

    public var description: String {
        switch self {
        case .envelope(let error): return "\(error)"
        case .unknownSender(let sender, let key): return "sender \(sender) is not an active device whose current key is \(key)"
        case .recipientKeyNotUsable(let recipient, let hash):
            return "sealed to key \(hash), which is not the usable agreement key of \(recipient)"
        case .replay(let error): return "\(error)"
        }
    }
}

/// What a node does with an envelope before relaying it (docs/MESSAGING.md, "What a node checks
/// before relaying"), in that order: parse; the sender's registered key signed it (the outer
/// signature of a sealed envelope, without opening it); a sealed envelope is sealed to the
/// recipient's usable agreement key; then the replay guard, which only ever sees verified origins.
public enum EnvelopeAdmission {
    /// Admits `bytes` at `now` (unix ms) or throws without changing `replay`.
    /// - `senderKey`: the public key of `origin.senderKey` when it is the current key of the
    ///   active device `origin.sender` (the chain: `DeviceClient.device` and `.key`), else nil.
    /// - `recipientKey`: the device's usable agreement key (`DeviceClient.usableAgreementKey(of:)`), else nil.
    public static func admit(_ bytes: [UInt8], chainId: UInt64, now: UInt64, replay: inout ReplayGuard,
                             senderKey: (EnvelopeOrigin) -> PublicKey?,
                             recipientKey: (Address) -> AgreementPublicKey?) throws(EnvelopeRefusal) -> Envelope {
        let envelope: Envelope
        do { envelope = try Envelope.parse(bytes) } catch { throw .envelope(error) }
        try admit(envelope, chainId: chainId, now: now, replay: &replay, senderKey: senderKey, recipientKey: recipientKey)
        return envelope
    }

    /// The checks after parsing, for a caller that parsed the envelope already (to look at its
    /// addressing first). `signatureVerified`: the caller verified this very envelope's
    /// signature with the key `senderKey(origin)` answers (ahead of time, off its loop); every
    /// other check is still made.
    public static func admit(_ envelope: Envelope, chainId: UInt64, now: UInt64, replay: inout ReplayGuard,
                             senderKey: (EnvelopeOrigin) -> PublicKey?,
                             recipientKey: (Address) -> AgreementPublicKey?, signatureVerified: Bool = false) throws(EnvelopeRefusal) {
        let origin = envelope.origin
        guard origin.chainId == chainId else { throw .envelope(.wrongChain(expected: chainId, envelope: origin.chainId)) }
        guard let key = senderKey(origin) else { throw .unknownSender(sender: origin.sender, key: origin.senderKey) }
        if !signatureVerified {
            do { try envelope.verify(chainId: chainId, senderKey: key) } catch { throw .envelope(error) }
        }
        if case .sealed(let sealed) = envelope {
            guard let usable = recipientKey(sealed.recipient), sealed.isSealed(to: usable) else {
                throw .recipientKeyNotUsable(recipient: sealed.recipient, keyHash: sealed.recipientKeyHash)
            }
        }
        do { try replay.admit(origin, now: now) } catch { throw .replay(error) }
    }
}
