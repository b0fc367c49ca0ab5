import ArgumentParser
import Foundation
import KramaaAPI
import KramaaMessaging
import KramaaPrimitives

/// `kramaa keys ...`: device and account key management.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create and inspect key files (signing: secp256k1, P-256, Ed25519; key agreement: X25519, P-256).",
        subcommands: [New.self, Show.self, Dev.self])

    /// The lines printed for a key: its type, public key, address and did:key.
    static func summary(of key: PublicKey) -> String {
        var lines = [
            "type:         \(key.type)",
            "public key:   \(Hex.encode(key.bytes))",
        ]
        switch key {
        case .secp256k1(let k): lines.append("uncompressed: \(Hex.encode(k.uncompressedRepresentation))")
        case .p256(let k): lines.append("uncompressed: \(Hex.encode(k.uncompressedRepresentation))")
        case .ed25519: break
        }
        lines.append("address:      \(key.address)")
        lines.append("did:          \(key.didKey)")
        return lines.joined(separator: "\n")
    }

    /// Writes `key` to the key file `out` (0600) and prints its summary.
    static func write(_ key: SigningKey, to out: String, force: Bool) throws {
        try KeyFile(key).write(to: out, overwrite: force)
        print(summary(of: key.publicKey))
        print("key file:     \(out)")
    }

    /// The lines printed for a key-agreement key.
    static func summary(of key: AgreementPublicKey) -> String {
        ["type:         \(key.type) (HPKE KEM 0x\(String(key.type.rawValue, radix: 16)))", "public key:   \(Hex.encode(key.bytes))",
         "key hash:     \(key.keyHash)"].joined(separator: "\n")
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

extension KeysCommand {
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Generate a key and write it to a key file readable only by you.",
            discussion: """
                The key file is JSON with the key type, the private key and the public key in hex, \
                created with permissions 0600. Without --out the key file goes to standard output \
                (a file made by redirection gets your umask, so prefer --out) and the summary to \
                standard error.

                The address of a secp256k1 key is its Ethereum address. For p256 and ed25519 keys \
                it is the last 20 bytes of keccak256 of the multicodec-prefixed public key (as in \
                did:key), which is how Kramaa names such devices on chain.

                x25519 and p256-kem make a key-agreement key instead: the HPKE key others seal \
                envelopes to (`kramaa device agreement-key set`, docs/MESSAGING.md). An X25519 key \
                is derived from an Ed25519 seed kept in the file, which proves its possession.
                """)

        @Option(help: "Key type: secp256k1, p256 or ed25519 (signing); x25519 or p256-kem (key agreement).")
        var type: String

        @Option(help: "The key file to create.")
        var out: String?

        @Flag(help: "Replace the key file if it exists.")
        var force = false

        func run() throws {
            guard let type = try? KeyType(parsing: type) else { return try writeAgreementKey() }
            let key = SigningKey(generating: type)
            let file = KeyFile(key)
            guard let out else {
                KeysCommand.printError(KeysCommand.summary(of: key.publicKey))
                FileHandle.standardOutput.write(Data(file.encoded()))
                return
            }
            try KeysCommand.write(key, to: out, force: force)
        }

        private func writeAgreementKey() throws {
            let agreementType: AgreementKeyType
            do { agreementType = try AgreementKeyType(parsing: type) } catch {
                throw ValidationError("unknown key type '\(type)'; use secp256k1, p256 or ed25519 (signing), x25519 or p256-kem (key agreement)")
            }
            let key = AgreementPrivateKey(generating: agreementType)
            guard let out else {
                KeysCommand.printError(KeysCommand.summary(of: key.publicKey))
                FileHandle.standardOutput.write(Data(AgreementKeyFile(key).encoded()))
                return
            }
            try AgreementKeyFiles.write(key, to: out, force: force)
            print(KeysCommand.summary(of: key.publicKey))
            print("key file:     \(out)")
        }
    }

    struct Dev: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dev",
            abstract: "Write the key file of devnet account N (dev0, dev1, …: publicly known keys, for development only).")

        @Argument(help: "The account's index (0 for dev0).") var index: Int
        @Option(help: "The key file to create.") var out: String
        @Flag(help: "Replace the key file if it exists.") var force = false

        func run() throws {
            guard (0..<1000).contains(index) else { throw ValidationError("the index is 0 to 999") }
            try KeysCommand.write(.secp256k1(DevAccounts.derived(count: index + 1).keys[index]), to: out, force: force)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the public key, address and did:key of a key file.")

        @Argument(help: "The key file.")
        var file: String

        func run() throws {
            if AgreementKeyFiles.names(file) { return print(KeysCommand.summary(of: try AgreementKeyFiles.read(file).publicKey)) }
            let keyFile = try KeyFile.read(path: file)
            let exposed = try KeyFile.exposedPermissions(path: file)
            if exposed != 0 {
                KeysCommand.printError(
                    "warning: \(file) is accessible to group or others (permission bits 0\(String(exposed, radix: 8, uppercase: false))); run chmod 600 \(file)")
            }
            print(KeysCommand.summary(of: keyFile.key.publicKey))
        }
    }
}

/// Key-agreement key files on disk: created 0600 (`PrivateFile`), read only when private.
enum AgreementKeyFiles {
    static func write(_ key: AgreementPrivateKey, to path: String, force: Bool) throws {
        do {
            let content = AgreementKeyFile(key).encoded()
            if force { try PrivateFile.replace(path: path, content: content) } else { try PrivateFile.create(path: path, content: content) }
        } catch .alreadyExists(let path) {
            throw ValidationError("\(path) already exists; refusing to overwrite a key (pass --force to replace it)")
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Whether the file at `path` says it holds a key-agreement key (its `type`), so its errors
    /// are reported as an agreement key file's.
    static func names(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024,
              let type = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["type"] as? String else { return false }
        return (try? AgreementKeyType(parsing: type)) != nil
    }

    /// The key in the file at `path`; refuses a file others can read.
    static func read(_ path: String) throws -> AgreementPrivateKey {
        do {
            guard let content = try PrivateFile.readSecret(path: path) else { throw ValidationError("\(path): no such file") }
            return try AgreementKeyFile(decoding: content).key
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }
}
