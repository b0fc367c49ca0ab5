import ArgumentParser

/// `kramaa keys ...`: device and account key management.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create and inspect key files (secp256k1, P-256, Ed25519).",
        subcommands: [])
}
