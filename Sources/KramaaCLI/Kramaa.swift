import ArgumentParser
import Foundation
import KramaaPrimitives

/// The `kramaa` command: node, devnet, API server and client in one binary.
@main
struct Kramaa: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kramaa",
        abstract: "Identity and history of physical assets and IoT devices on a hybrid blockchain.",
        discussion: """
            One binary is the node, the devnet, the API server and the command-line client.
            Run `kramaa help <command>` for the details of a command.
            """,
        version: KramaaVersion.string,
        subcommands: [DevnetCommand.self, FileCommand.self, InitCommand.self, NodeCommand.self, ValidatorsCommand.self, PermissionsCommand.self, OrgCommand.self, CollectionCommand.self, DeviceCommand.self,
                      AssetCommand.self, EventCommand.self, MsgCommand.self, StorageCommand.self, TagCommand.self, TokenCommand.self, VersionCommand.self,
                      KeysCommand.self, BackupCommand.self, SnapshotCommand.self, EVMCommand.self, AgentCommand.self, DemoCommand.self, AnchorCommand.self]
    )

    /// No command given: the help, on standard error, and exit 64 (EX_USAGE).
    func run() async throws {
        FileHandle.standardError.write(Data((Self.helpMessage() + "\n").utf8))
        throw ExitCode(64)
    }
}

/// Release identity of this build.
enum KramaaVersion {
    static let string = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version of this kramaa binary.")

    func run() throws {
        print("kramaa \(KramaaVersion.string)")
    }
}
