import ArgumentParser
import Foundation
import KramaaNetwork
import KramaaPrimitives

/// Options of the peer network: the node's key, where it listens and whom it dials.
struct P2POptions: ParsableArguments {
    @Option(name: .customLong("key"),
            help: "The node's secp256k1 key file (`kramaa keys new --type secp256k1`); a validator's key makes it sign.")
    var keyFile: String?

    @Option(name: .customLong("p2p-host"), help: "Address the peer network listens on.")
    var host = "127.0.0.1"

    @Option(name: .customLong("p2p-port"), help: "Port of the peer network (TLS 1.3, mutual authentication).")
    var port = 30303

    @Option(name: .customLong("bootnode"), help: "A peer to dial: ADDRESS@HOST:PORT or HOST:PORT (repeatable).")
    var bootnodes: [String] = []

    /// The key from `--key`, or nil when not given.
    func key() throws -> Secp256k1.PrivateKey? {
        try keyFile.map(readSecp256k1Key)
    }

    func parsedBootnodes() throws -> [Bootnode] {
        try bootnodes.map { try Self.parse($0) }
    }

    static func parse(_ text: String) throws -> Bootnode {
        var rest = Substring(text)
        var address: Address?
        if let at = rest.firstIndex(of: "@") {
            do { address = try Address(hex: rest[..<at]) } catch { throw ValidationError("bootnode \(text): \(error)") }
            rest = rest[rest.index(after: at)...]
        }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
            throw ValidationError("bootnode \(text): expected ADDRESS@HOST:PORT or HOST:PORT")
        }
        return Bootnode(host: String(rest[..<colon]), port: port, address: address)
    }
}

/// Reads a secp256k1 key file (a node's or an account's key), with a clear error otherwise.
func readSecp256k1Key(_ path: String) throws -> Secp256k1.PrivateKey {
    do { return try AnchorConfiguration.readKey(path, requirePrivateMode: false) } catch { throw CLIFailure(error.description) }
}
