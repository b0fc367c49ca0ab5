import ArgumentParser
import Foundation
import KramaaNode
import KramaaStorage

/// `kramaa backup create|verify|restore` (docs/OPERATIONS.md, "Backup and restore").
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back up a node's data directory while it runs, check a backup, restore it.",
        subcommands: [Create.self, Verify.self, Restore.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a data directory (the node may be running) into a new backup folder; prints the head it holds.",
            discussion: "Databases are copied as consistent snapshots; the folder appears under --out only once whole (manifest.json last).")
        @Option(help: "The node's data directory.") var datadir: String
        @Option(help: "The backup folder to create (must not exist).") var out: String
        @Option(name: .customLong("pause-ms"), help: "Milliseconds to pause after each file, to spare a busy node's disk.") var pauseMilliseconds: Int = 0

        func run() throws {
            let manifest = try CLIFailure.wrap {
                try DataDirectoryBackup.create(dataDirectory: URL(fileURLWithPath: datadir), output: URL(fileURLWithPath: out),
                                               pause: .milliseconds(max(0, pauseMilliseconds)))
            }
            print("backed up \(manifest.files.count) files, head block \(manifest.headNumber) \(manifest.headHash)")
            print(out)
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a backup: every file's size and SHA-256, the databases' integrity, the head.")
        @Argument var backup: String

        func run() throws {
            let manifest = try CLIFailure.wrap { try DataDirectoryBackup.verify(URL(fileURLWithPath: backup)) }
            print("ok: \(manifest.files.count) files, head block \(manifest.headNumber) \(manifest.headHash), taken \(manifest.createdAt)")
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a backup and restore it into a new data directory, then open it as a node would.",
            discussion: """
                A validator restored from a backup keeps its key: start it only where the original no longer runs. Its consensus \
                state (consensus.rlp) is the backup's; it signs nothing for heights it has not synced to, so it catches up from \
                its peers first.
                """)
        @Argument var backup: String
        @Option(help: "The data directory to create (must not exist or be empty).") var datadir: String

        func run() throws {
            let target = URL(fileURLWithPath: datadir)
            let manifest = try CLIFailure.wrap { try DataDirectoryBackup.restore(URL(fileURLWithPath: backup), to: target) }
            let node = try CLIFailure.wrap { try Node(dataDirectory: target) }
            let head = node.latest
            node.close()
            guard head.number == manifest.headNumber else {
                throw CLIFailure("the restored node opens at block \(head.number), the backup holds \(manifest.headNumber)")
            }
            print("restored \(manifest.files.count) files into \(target.path); the node opens at block \(head.number) \(head.hash)")
        }
    }
}
