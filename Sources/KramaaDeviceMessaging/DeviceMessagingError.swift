import KramaaMessaging
import KramaaMQTT
import KramaaMQTTClient
import KramaaPrimitives

/// Why a device could not send, or refused what it received — each case says what was wrong
/// and, where the user can act, what to do.
public enum DeviceMessagingError: Error, Sendable, CustomStringConvertible {
    /// The MQTT connection failed (refused, lost, …).
    case mqtt(MQTTClientError)
    /// The device state file (sequence numbers, replay memory) cannot be used.
    case stateFile(path: String, reason: String)
    /// The node's device registry could not be read.
    case directory(String)
    /// The sender is not an active device whose current key signed the envelope.
    case unknownSender(sender: Address, key: Address, reason: String)
    /// Malformed, for another chain, a bad signature, or a sealed payload that does not open.
    case envelope(EnvelopeError)
    /// A replay, or an envelope that cannot be told from one.
    case replay(ReplayError)
    /// Well signed, but addressed to another device (or to a topic) than this inbox's.
    case notForThisDevice(EnvelopeRecipient)
    /// A sealed envelope arrived and no agreement key was given to open it.
    case noAgreementKey
    /// `--seal` to a device that has no usable agreement key registered.
    case recipientHasNoAgreementKey(Address)
    /// The server refused the publication (MQTT reason code).
    case publishRefused(topic: String, reasonCode: UInt8, reason: String?)

    public var description: String {
        switch self {
        case .mqtt(let error): return "\(error)"
        case .stateFile(let path, let reason):
            return "device state file \(path): \(reason)"
        case .directory(let why): return "cannot read the device registry: \(why)"
        case .unknownSender(let sender, let key, let reason): return "sender \(sender) (key \(key)) is not trusted: \(reason)"
        case .envelope(let error): return "\(error)"
        case .replay(let error): return "\(error)"
        case .notForThisDevice(let recipient): return "the envelope is addressed to \(recipient), not to this device"
        case .noAgreementKey: return "a sealed envelope arrived; give this device's agreement key file (--agreement-key) to open it"
        case .recipientHasNoAgreementKey(let device):
            return "device \(device) has no usable agreement key to seal to; its manager sets one with `kramaa device agreement-key set`, or send without --seal"
        case .publishRefused(let topic, let code, let reason):
            return "the MQTT server refused the publication to \(topic) with reason code \(MQTTReasonCode.describe(code))"
                + (reason.map { ": \($0)" } ?? "") + (code == 0x87 ? " (a device may send only to devices of its own organisation)" : "")
        }
    }
}
