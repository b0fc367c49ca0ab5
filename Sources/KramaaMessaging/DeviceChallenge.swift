import KramaaPrimitives

/// Why an MQTT 5 enhanced-authentication exchange was refused.
public enum DeviceChallengeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The CONNECT's authentication data is not a hello of this method.
    case malformedHello(String)
    /// The device's answer is not a 64-byte signature.
    case malformedResponse(length: Int)
    /// The key in the hello is not the key the chain has registered and active for the device.
    case keyNotTheDevices(hello: Address, registered: Address)
    /// The answer is not the registered key's signature of this challenge.
    case badSignature

    public var description: String {
        switch self {
        case .malformedHello(let why): return "the \(DeviceChallenge.method) authentication data is not a hello: \(why)"
        case .malformedResponse(let length): return "the answer to the challenge is \(length) bytes, a signature is 64"
        case .keyNotTheDevices(let hello, let registered):
            return "the device answers with key \(hello), but its registered active key is \(registered)"
        case .badSignature: return "the answer is not the device key's signature of the challenge"
        }
    }
}

/// MQTT 5 enhanced authentication with a signed challenge (method `kramaa-device-v1`;
/// docs/MESSAGING.md, "Challenge-response").
///
/// 1. CONNECT: user name = device address; Authentication Method `kramaa-device-v1`;
///    Authentication Data = the ``Hello`` (version 1 ‖ device 20 ‖ key address 20).
/// 2. AUTH (0x18 continue) from the server: Authentication Data = a fresh random 32-byte challenge.
/// 3. AUTH (0x18) from the device: Authentication Data = its 64-byte signature over
///    `SigningDomain.mqttChallenge.message(chainId, challenge ‖ device)`.
/// 4. CONNACK success, or 0x87 (not authorized) on a bad answer, 0x8C (bad authentication method).
///
/// The challenge is used once: the server keeps it only for the connection that asked.
public enum DeviceChallenge {
    public static let method = "kramaa-device-v1"
    public static let challengeLength = 32
    public static let responseLength = 64

    /// What the device says first: who it is and which of its keys will answer.
    public struct Hello: Sendable, Equatable {
        public static let version: UInt8 = 1
        public static let length = 41
        public var device: Address
        public var key: Address

        public init(device: Address, key: Address) {
            self.device = device
            self.key = key
        }

        public var bytes: [UInt8] { [Self.version] + device.bytes + key.bytes }

        public init(parsing data: [UInt8]) throws(DeviceChallengeError) {
            guard data.count == Self.length else { throw .malformedHello("\(data.count) bytes, a hello has \(Self.length)") }
            guard data[0] == Self.version else { throw .malformedHello("version \(data[0]) is not \(Self.version)") }
            device = try! Address(data[1..<21])
            key = try! Address(data[21..<41])
        }
    }

    /// A fresh challenge (server side).
    public static func newChallenge() -> [UInt8] { MessagingRandom.bytes(challengeLength) }

    /// What the device signs.
    public static func message(challenge: [UInt8], device: Address, chainId: UInt64) -> [UInt8] {
        SigningDomain.mqttChallenge.message(chainId: chainId, challenge + device.bytes)
    }

    /// The device's answer to `challenge` (device side).
    public static func respond(to challenge: [UInt8], key: SigningKey, device: Address, chainId: UInt64) -> [UInt8] {
        key.signature(for: message(challenge: challenge, device: device, chainId: chainId))
    }

    /// Checks the device's answer (server side): `registeredKey` is the key the chain has as the
    /// current key of `hello.device`, an active device.
    public static func verify(response: [UInt8], to challenge: [UInt8], hello: Hello, chainId: UInt64,
                              registeredKey: PublicKey) throws(DeviceChallengeError) {
        guard response.count == responseLength else { throw .malformedResponse(length: response.count) }
        guard hello.key == registeredKey.address else { throw .keyNotTheDevices(hello: hello.key, registered: registeredKey.address) }
        guard registeredKey.isValidSignature(response, for: message(challenge: challenge, device: hello.device, chainId: chainId)) else {
            throw .badSignature
        }
    }
}
