import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KramaaJSON
import KramaaMessaging
import KramaaPrimitives

/// What a device needs to know of other devices, from the chain's device registry: the key a
/// sender signs with, and the agreement key to seal to a recipient.
public protocol DeviceDirectory: Sendable {
    /// The current signing key of `device` when it is registered and active; throws
    /// ``DeviceMessagingError/unknownSender(sender:key:reason:)`` otherwise.
    func signingKey(of device: Address) async throws(DeviceMessagingError) -> PublicKey
    /// The agreement key envelopes to `device` may be sealed to (nil: none usable).
    func agreementKey(of device: Address) async throws(DeviceMessagingError) -> AgreementPublicKey?
}

/// The device registry through a node's REST API: `GET /api/v1/devices/{address}` (status,
/// current key, its type and public key) and `GET /api/v1/devices/{address}/agreement-key`.
/// Answers are kept for `cacheSeconds` (a rotation or revocation is seen after that).
public actor RESTDeviceDirectory: DeviceDirectory {
    public let baseURL: URL
    public let cacheSeconds: Double
    private var signing: [Address: (PublicKey, Date)] = [:]

    /// `url`: the node's HTTP URL (what `--rpc` takes), e.g. `http://127.0.0.1:8545`.
    public init(url: String, cacheSeconds: Double = 30) throws(DeviceMessagingError) {
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
            throw .directory("the node URL must be http(s)://host:port, not \(url)")
        }
        self.baseURL = base
        self.cacheSeconds = cacheSeconds
    }

    public func signingKey(of device: Address) async throws(DeviceMessagingError) -> PublicKey {
        if let (key, at) = signing[device], Date().timeIntervalSince(at) < cacheSeconds { return key }
        let (status, record) = try await get("/api/v1/devices/\(device.checksummed)")
        guard status == 200 else {
            throw .unknownSender(sender: device, key: device, reason: status == 404 ? "not a registered device" : "the node answered HTTP \(status)")
        }
        let current = (try? Address(hex: record["currentKey"]?.stringValue ?? "")) ?? device
        guard record["status"]?.stringValue == "active" else {
            throw .unknownSender(sender: device, key: current, reason: "the device is \(record["status"]?.stringValue ?? "not active")")
        }
        guard let typeName = record["keyType"]?.stringValue, let type = try? KeyType(parsing: typeName),
              let hex = record["publicKey"]?.stringValue, let bytes = try? Hex.decode(hex), let key = try? PublicKey(type: type, bytes: bytes) else {
            throw .directory("the node's record of \(device) has no readable keyType and publicKey")
        }
        signing[device] = (key, Date())
        return key
    }

    public func agreementKey(of device: Address) async throws(DeviceMessagingError) -> AgreementPublicKey? {
        let (status, record) = try await get("/api/v1/devices/\(device.checksummed)/agreement-key")
        guard status == 200 else { throw .directory("the agreement key of \(device): HTTP \(status) \(record["detail"]?.stringValue ?? "")") }
        guard record["usable"]?.boolValue == true, let typeName = record["keyType"]?.stringValue,
              let hex = record["publicKey"]?.stringValue else { return nil }
        do { return try AgreementPublicKey(type: try AgreementKeyType(parsing: typeName), bytes: try Hex.decode(hex)) } catch {
            throw .directory("the node's agreement key of \(device) is not readable: \(error)")
        }
    }

    private func get(_ path: String) async throws(DeviceMessagingError) -> (Int, JSON) {
        var request = URLRequest(url: URL(string: path, relativeTo: baseURL)!.absoluteURL, timeoutInterval: 15)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard let json = try? JSON.parse(Array(data)) else { throw DeviceMessagingError.directory("HTTP \(status) without JSON from \(path)") }
            return (status, json)
        } catch let error as DeviceMessagingError {
            throw error
        } catch {
            throw .directory("cannot reach the node at \(baseURL.absoluteString): \(error.localizedDescription)")
        }
    }
}
