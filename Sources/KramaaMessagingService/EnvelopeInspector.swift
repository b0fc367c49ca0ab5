import KramaaBroker
import KramaaEVM
import KramaaMessaging
import KramaaPrimitives

/// What a node checks on a device's inbox before taking a publication (docs/MESSAGING.md,
/// "What a node checks before relaying"): on `devices/{recipient}/inbox` (and below) only
/// envelopes are taken — parsed, signed by the sender device's current key (the outer signature
/// of a sealed one, which the node cannot open), sealed to the recipient's usable agreement
/// key, addressed to that recipient, sent by the publishing device itself, and not replayed.
/// Refused: 0x99 (payload format invalid) for what is not a well-formed envelope for this
/// inbox, 0x87 (not authorised) for forgeries, other senders and replays. Nothing refused is
/// stored or relayed, and a refusal does not move the replay guard.
final class EnvelopeInspector<Reader: ContractReader>: BrokerPayloadInspector, @unchecked Sendable {
    let chainId: UInt64
    let devices: ChainDevices<Reader>
    let clock: TimeSource
    /// Runs on the broker's loop only.
    var replay: ReplayGuard
    /// Signatures the server verified ahead, off the loop (nil: all verified here).
    let signatures: EnvelopeSignatureChecks<Reader>?

    init(chainId: UInt64, devices: ChainDevices<Reader>, clock: TimeSource = SystemTime.shared, replay: ReplayGuard = ReplayGuard(),
         signatures: EnvelopeSignatureChecks<Reader>? = nil) {
        self.chainId = chainId
        self.devices = devices
        self.clock = clock
        self.replay = replay
        self.signatures = signatures
    }

    func inspect(_ principal: Principal, topic: String, payload: [UInt8]) -> Refusal? {
        guard let recipient = DeviceTopicPolicy.inboxRecipient(topic) else { return nil }
        let envelope: Envelope
        do { envelope = try Envelope.parse(payload) } catch {
            return Refusal(0x99, "not an envelope for \(topic): \(error)")
        }
        // Addressing and sender first: a refusal must leave the replay guard as it was, and the
        // guard is admitted into last, in place.
        let addressed: Address? = switch envelope {
        case .signed(let e): if case .device(let d) = e.recipient { d } else { nil }
        case .sealed(let e): e.recipient
        }
        guard addressed == recipient else { return Refusal(0x99, "the envelope is not addressed to \(recipient), whose inbox \(topic) is") }
        guard principal.group == DeviceTopicPolicy.operatorGroup || envelope.origin.sender.lowercased == principal.name else {
            return Refusal(0x87, "the envelope's sender \(envelope.origin.sender) is not the publishing client \(principal)")
        }
        let now = UInt64(clock.sinceEpoch.inNanoseconds / 1_000_000)
        let verified = signatures?.take(payload, senderKey: envelope.origin.senderKey) ?? false
        do {
            try EnvelopeAdmission.admit(envelope, chainId: chainId, now: now, replay: &replay,
                                        senderKey: devices.senderKey, recipientKey: devices.usableAgreementKey, signatureVerified: verified)
        } catch {
            return Refusal(0x87, "envelope refused on \(topic): \(error)")
        }
        return nil
    }
}
