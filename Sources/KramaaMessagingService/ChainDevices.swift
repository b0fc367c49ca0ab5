import KramaaBroker
import KramaaEVM
import KramaaMessaging
import KramaaPlatform
import KramaaPrimitives

/// The device registry as messaging asks it: is a device active, with which current key, and
/// which agreement key may be sealed to. Refusals carry the MQTT reason code to answer with.
struct ChainDevices<Reader: ContractReader>: Sendable {
    let client: DeviceClient<Reader>

    /// The device's record and current key, if it is registered and active: else a refusal
    /// (0x86 unknown, 0x87 suspended, 0x8A revoked).
    func active(_ device: Address) throws -> (DeviceRecord, PublicKey) {
        let record: DeviceRecord
        do { record = try client.device(device) } catch {
            throw Refusal(0x86, "device \(device) is not registered: \(error)")
        }
        switch record.status {
        case .active?: break
        case .suspended?: throw Refusal(0x87, "device \(device) is suspended")
        case .revoked?: throw Refusal(0x8A, "device \(device) is revoked")
        case nil: throw Refusal(0x86, "device \(device) is not registered")
        }
        let keyRecord = try client.key(record.currentKey)
        guard let type = DeviceKeyType.type(keyRecord.keyTypeCode) else { throw Refusal(0x86, "device \(device) has a key of unknown type") }
        return (record, try PublicKey(type: type, bytes: keyRecord.publicKey))
    }

    /// The public key of `origin.senderKey` when it is the current key of the active device
    /// `origin.sender`.
    func senderKey(_ origin: EnvelopeOrigin) -> PublicKey? {
        guard let (_, key) = try? active(origin.sender), key.address == origin.senderKey else { return nil }
        return key
    }

    func usableAgreementKey(_ device: Address) -> AgreementPublicKey? {
        (try? client.usableAgreementKey(of: device)) ?? nil
    }
}
