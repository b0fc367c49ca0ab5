import Foundation
import KramaaBroker
import KramaaEVM
import KramaaMessaging
import KramaaPlatform
import KramaaPrimitives

/// The device registry as messaging asks it: is a device active, with which current key, and
/// which agreement key may be sealed to. Refusals carry the MQTT reason code to answer with.
/// Answers are cached (every envelope on an inbox asks for its sender's key) and forgotten for
/// the devices a block changes (``forget(_:)``).
struct ChainDevices<Reader: ContractReader>: Sendable {
    let client: DeviceClient<Reader>
    let cache = DeviceAnswerCache()

    /// Forgets what was read of these devices (their registry entries changed).
    func forget(_ devices: Set<Address>) { cache.forget(devices) }

    /// The device's record and current key, if it is registered and active: else a refusal
    /// (0x86 unknown, 0x87 suspended, 0x8A revoked).
    func active(_ device: Address) throws -> (DeviceRecord, PublicKey) {
        let found = try lookup(device)
        return (found.record, found.key)
    }

    private func lookup(_ device: Address) throws -> ActiveDevice {
        if let hit = cache.lookup(device) { return try hit.get() }
        let answer = Result { try read(device) }
        cache.store(device, answer)
        return try answer.get()
    }

    private func read(_ device: Address) throws -> ActiveDevice {
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
        guard let type = KeyType(code: keyRecord.keyTypeCode) else { throw Refusal(0x86, "device \(device) has a key of unknown type") }
        let key = try PublicKey(type: type, bytes: keyRecord.publicKey)
        return ActiveDevice(record: record, key: key, keyAddress: key.address)
    }

    /// The public key of `origin.senderKey` when it is the current key of the active device
    /// `origin.sender`.
    func senderKey(_ origin: EnvelopeOrigin) -> PublicKey? {
        guard let found = try? lookup(origin.sender), found.keyAddress == origin.senderKey else { return nil }
        return found.key
    }

    func usableAgreementKey(_ device: Address) -> AgreementPublicKey? {
        (try? client.usableAgreementKey(of: device)) ?? nil
    }
}

/// An active device as the registry describes it, with its current key's address computed once
/// (every envelope compares it; for P-256 and Ed25519 it is a Keccak-256 of the encoded key).
struct ActiveDevice {
    let record: DeviceRecord
    let key: PublicKey
    let keyAddress: Address
}

/// Registry answers by device, bounded (cleared whole past 100,000 devices).
final class DeviceAnswerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [Address: Result<ActiveDevice, any Error>] = [:]

    func lookup(_ device: Address) -> Result<ActiveDevice, any Error>? { lock.withLock { answers[device] } }

    func store(_ device: Address, _ answer: Result<ActiveDevice, any Error>) {
        lock.withLock {
            if answers.count >= 100_000 { answers.removeAll() }
            answers[device] = answer
        }
    }

    func forget(_ devices: Set<Address>) { lock.withLock { for d in devices { answers[d] = nil } } }
}
