import KramaaPrimitives

/// Accounts whose keys the node holds and signs with (eth_sendTransaction, eth_sign): only a
/// development chain has them. The devnet derives them from a fixed seed so their addresses
/// and keys are the same on every run, and prints them at start (as anvil does).
public struct DevAccounts: Sendable {
    public let keys: [Secp256k1.PrivateKey]
    private let byAddress: [Address: Int]

    public init(keys: [Secp256k1.PrivateKey]) {
        self.keys = keys
        var byAddress: [Address: Int] = [:]
        for (i, key) in keys.enumerated() { byAddress[key.publicKey.address] = i }
        self.byAddress = byAddress
    }

    /// `count` keys: keccak256("kramaa devnet account " ‖ index), stable across runs.
    public static func derived(count: Int) -> DevAccounts {
        DevAccounts(keys: (0..<count).map { i in
            var digest = Keccak256.hash(Array("kramaa devnet account \(i)".utf8))
            while true {
                if let key = try? Secp256k1.PrivateKey(digest) { return key }
                digest = Keccak256.hash(digest.bytes)  // out of range: vanishingly rare, still handled
            }
        })
    }

    public var addresses: [Address] { keys.map(\.publicKey.address) }

    public func key(for address: Address) -> Secp256k1.PrivateKey? { byAddress[address].map { keys[$0] } }

    /// EIP-191 personal message signature: r ‖ s ‖ v (27/28) over
    /// keccak256("\u{19}Ethereum Signed Message:\n" ‖ len ‖ message).
    public static func signMessage(_ message: [UInt8], with key: Secp256k1.PrivateKey) -> [UInt8] {
        let prefix = Array("\u{19}Ethereum Signed Message:\n\(message.count)".utf8)
        let signature = key.sign(digest: Keccak256.hash(prefix + message))
        return signature.r.bytes + signature.s.bytes + [27 + signature.recoveryId]
    }
}
