import KramaaBroker
import KramaaEVM
import KramaaMessaging
import KramaaMQTT
import KramaaPlatform
import KramaaPrimitives

/// Authenticates MQTT clients against the device registry on chain:
///
/// - user name = the device's address, password = a device token (`kramaa device mqtt-token`)
///   signed by the device's current registered key; or
/// - MQTT 5 enhanced authentication, method `kramaa-device-v1`: CONNECT carries the device and
///   key (``DeviceChallenge/Hello``), the server answers a random challenge, the device signs it.
///
/// The device must be registered and active: a suspended device is refused with 0x87, a revoked
/// one with 0x8A (banned), bad credentials with 0x86, an unknown method with 0x8C. Clients with
/// no user name get in only when anonymous access is allowed, under `sandbox/`.
final class ChainDeviceAuthenticator<Reader: ContractReader>: BrokerAuthenticator, @unchecked Sendable {
    let chainId: UInt64
    let devices: DeviceClient<Reader>
    let allowAnonymous: Bool
    let maximumTokenLifetime: UInt64
    let clock: TimeSource

    init(chainId: UInt64, devices: DeviceClient<Reader>, allowAnonymous: Bool, maximumTokenLifetime: UInt64, clock: TimeSource = SystemTime.shared) {
        self.chainId = chainId
        self.devices = devices
        self.allowAnonymous = allowAnonymous
        self.maximumTokenLifetime = maximumTokenLifetime
        self.clock = clock
    }

    static var anonymous: Principal { Principal(name: "anonymous", mountPoint: DeviceTopicPolicy.anonymousMountPoint) }

    func authenticate(_ connect: MQTTConnect) -> AuthenticationDecision {
        if let method = connect.properties.string(.authenticationMethod) {
            guard method == DeviceChallenge.method else {
                return .refuse(reasonCode: 0x8C, reason: "authentication method \(method) is not supported; use \(DeviceChallenge.method) or a device token")
            }
            do { _ = try DeviceChallenge.Hello(parsing: connect.properties.binary(.authenticationData) ?? []) } catch {
                return .refuse(reasonCode: 0x86, reason: "\(error)")
            }
            return .challenge(method: method, data: DeviceChallenge.newChallenge())
        }
        guard let user = connect.userName, !user.isEmpty else {
            return allowAnonymous ? .accept(Self.anonymous)
                : .refuse(reasonCode: 0x87, reason: "anonymous clients are not allowed: connect with a device address and token (`kramaa device mqtt-token`)")
        }
        guard let device = try? Address(hex: user) else {
            return .refuse(reasonCode: 0x86, reason: "user name \(user) is not a device address")
        }
        guard let password = connect.password, let text = String(validating: password, as: UTF8.self) else {
            return .refuse(reasonCode: 0x86, reason: "no device token as the password; make one with `kramaa device mqtt-token`")
        }
        do {
            let token = try DeviceToken.parse(text)
            let (record, key) = try devices.activeDevice(device)
            try token.verify(device: device, chainId: chainId, registeredKey: key, now: clock.unixSeconds, maximumTTL: maximumTokenLifetime)
            return .accept(principal(record))
        } catch let refusal as Refusal {
            return .refuse(reasonCode: refusal.reasonCode, reason: refusal.reason)
        } catch {
            return .refuse(reasonCode: 0x86, reason: "device \(device): \(error)")
        }
    }

    func continueAuthentication(_ connect: MQTTConnect, method: String, data: [UInt8], challenge: [UInt8]) -> AuthenticationDecision {
        do {
            let hello = try DeviceChallenge.Hello(parsing: connect.properties.binary(.authenticationData) ?? [])
            let (record, key) = try devices.activeDevice(hello.device)
            try DeviceChallenge.verify(response: data, to: challenge, hello: hello, chainId: chainId, registeredKey: key)
            return .accept(principal(record))
        } catch let refusal as Refusal {
            return .refuse(reasonCode: refusal.reasonCode, reason: refusal.reason)
        } catch {
            return .refuse(reasonCode: 0x86, reason: "\(error)")
        }
    }

    func stillValid(_ principal: Principal) -> Bool {
        guard principal.mountPoint.isEmpty, principal.group != DeviceTopicPolicy.operatorGroup else { return true }
        guard let device = try? Address(hex: principal.name) else { return false }
        return (try? devices.activeDevice(device)) != nil
    }

    private func principal(_ record: DeviceRecord) -> Principal {
        Principal(name: record.device.lowercased, group: String(record.organization))
    }
}

extension DeviceClient {
    /// The device's record and current key, if it is registered and active; else a ``Refusal``
    /// with the MQTT reason code (0x86 unknown, 0x87 suspended, 0x8A revoked).
    func activeDevice(_ device: Address) throws -> (DeviceRecord, PublicKey) {
        let record: DeviceRecord
        do { record = try self.device(device) } catch {
            throw Refusal(0x86, "device \(device) is not registered: \(error)")
        }
        switch record.status {
        case .active?: break
        case .suspended?: throw Refusal(0x87, "device \(device) is suspended")
        case .revoked?: throw Refusal(0x8A, "device \(device) is revoked")
        case nil: throw Refusal(0x86, "device \(device) is not registered")
        }
        let keyRecord = try key(record.currentKey)
        guard let type = DeviceKeyType.type(keyRecord.keyTypeCode) else { throw Refusal(0x86, "device \(device) has a key of unknown type") }
        return (record, try PublicKey(type: type, bytes: keyRecord.publicKey))
    }
}
