import KramaaEVM
import KramaaMessaging
import KramaaMQTTServer
import KramaaPrimitives
import NIOConcurrencyHelpers

/// Envelope signatures on device inboxes verified ahead, on the MQTT server's thread pool
/// (``PayloadPreverifier``), so that the broker's loop does not spend its time in elliptic-curve
/// arithmetic: the ``EnvelopeInspector`` takes the verdict found here instead of verifying
/// again. A verdict is keyed by the SHA-256 of the whole payload and remembers the address of
/// the sender key that verified it, so it holds only for those exact bytes and only while that
/// key is still the sender's current one. Bounded; a missing verdict only means the inspector
/// verifies itself.
final class EnvelopeSignatureChecks<Reader: ContractReader>: PayloadPreverifier, @unchecked Sendable {
    let chainId: UInt64
    let devices: ChainDevices<Reader>
    private let verdicts = NIOLockedValueBox([Bytes32: Address]())
    /// Verdicts kept at most (cleared whole beyond: a verdict nobody takes is one the broker
    /// refused before inspecting, such as a publication outside the device's rights).
    static var maximumVerdicts: Int { 10_000 }

    init(chainId: UInt64, devices: ChainDevices<Reader>) {
        self.chainId = chainId
        self.devices = devices
    }

    func wantsPreverification(topic: String, payload: [UInt8]) -> Bool {
        guard let first = payload.first, first == SignedEnvelope.format || first == SealedEnvelope.format else { return false }
        return DeviceTopicPolicy.inboxRecipient(topic) != nil
    }

    func preverify(topic: String, payload: [UInt8]) {
        guard let envelope = try? Envelope.parse(payload), let key = devices.senderKey(envelope.origin),
              (try? envelope.verify(chainId: chainId, senderKey: key)) != nil else { return }
        let digest = SHA256Digest.hash(payload)
        verdicts.withLockedValue { verdicts in
            if verdicts.count >= Self.maximumVerdicts { verdicts.removeAll(keepingCapacity: true) }
            verdicts[digest] = envelope.origin.senderKey
        }
    }

    /// Whether `payload`'s signature was verified ahead with the key whose address is
    /// `senderKey`; the verdict is used up.
    func take(_ payload: [UInt8], senderKey: Address) -> Bool {
        let digest = SHA256Digest.hash(payload)
        return verdicts.withLockedValue { $0.removeValue(forKey: digest) } == senderKey
    }
}
