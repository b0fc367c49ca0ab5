import KramaaJSON
import KramaaMessaging
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// `/devices/{device}/agreement-key`: a device's key-agreement key (docs/MESSAGING.md), read,
/// set with its two proofs, revoked.
extension PlatformEndpoints {
    /// `{device, keyType, kemId, publicKey, validFromBlock, usable}`; `keyType`, `publicKey` and
    /// `validFromBlock` are null when the device has none.
    func agreementKey(_ device: Address) throws -> JSON {
        let record = try DeviceClient(calls.reader).agreementKey(of: device)
        let key = record.key
        return ["device": .account(device), "keyType": key.map { .string($0.type.name) } ?? .null, "kemId": .int(record.kemId),
                "publicKey": key.map { .data($0.bytes) } ?? .null, "validFromBlock": record.validFromBlock.map(JSON.int) ?? .null,
                "usable": .bool(record.usable)]
    }

    /// `POST …/agreement-key {keyType, publicKey, possessionProof, authorization}`.
    func setAgreementKey(_ device: Address, _ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let key: AgreementPublicKey
        do {
            key = try AgreementPublicKey(type: try AgreementKeyType(parsing: try body.string("keyType")), bytes: try body.bytes("publicKey"))
        } catch let problem as HTTPProblem {
            throw problem
        } catch {
            throw HTTPProblem.badRequest("\(error)")
        }
        let sent = try await calls.write(from: from, DeviceRegistry.address, DeviceRegistry.Method.setAgreementKey.callData([
            .address(device), .uint(UInt256(UInt64(key.type.rawValue))), .bytes(key.bytes), .bytes(try body.bytes("possessionProof")),
            .bytes(try body.bytes("authorization")),
        ]))
        return .json(try agreementKey(device).merging(sent))
    }

    /// `POST …/agreement-key/revoke`.
    func revokeAgreementKey(_ device: Address, from: Address) async throws -> HTTPResponse {
        let sent = try await calls.write(from: from, DeviceRegistry.address, DeviceRegistry.Method.revokeAgreementKey.callData([.address(device)]))
        return .json(try agreementKey(device).merging(sent))
    }
}
