import KramaaJSON
import ArgumentParser
import Foundation
import KramaaAuth
import KramaaPrimitives
import KramaaRPC

/// `kramaa token create|list|revoke`: the bearer tokens a node accepts for writes, managed in
/// its data directory (the running node picks up changes at its next request).
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke the bearer tokens a node accepts for writes.",
        discussion: """
            A token acts as one account and may use the roles it was given: \
            \(AccessRole.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")). \
            Only the token's SHA-256 is stored (DATADIR/\(TokenStore.fileName), mode 0600); the \
            token itself is printed once by `create`. Clients send it as `Authorization: Bearer \
            <token>`; the CLI takes --token or KRAMAA_TOKEN.
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Store: ParsableArguments {
        @Option(help: "The node's data directory.") var datadir: String

        func open() throws -> TokenStore {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: datadir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIFailure("no data directory at \(datadir); give the --datadir of the node (made by `kramaa init` or the devnet)")
            }
            return TokenStore(directory: URL(fileURLWithPath: datadir))
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; prints it once (it cannot be shown again).")
        @Option(help: "The account the token acts as: 0x… or dev0, dev1, ….") var account: String
        @Option(help: "Comma-separated roles (\(AccessRole.allCases.map(\.rawValue).joined(separator: ", ")), or all); default: all but admin.")
        var roles: String?
        @Option(help: "A note for operators (who holds it).") var label = ""
        @OptionGroup var store: Store

        func run() throws {
            let address = try AccountName.resolve(account, option: "--account")
            let granted: Set<AccessRole>
            do { granted = try roles.map(AccessRole.parseList) ?? AccessRole.defaultGrant } catch { throw CLIFailure(error.description) }
            let (record, token) = try CLIFailure.wrap { try store.open().create(account: address, roles: granted, label: label) }
            FileHandle.standardError.write(Data("token \(record.id) for \(record.account), roles \(record.roles.sorted().map(\.rawValue).joined(separator: ",")); keep it secret, it is shown once:\n".utf8))
            print(token)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (ids, accounts, roles; never the secrets).")
        @Flag(help: "One JSON object per line.") var json = false
        @OptionGroup var store: Store

        func run() throws {
            for record in try CLIFailure.wrap({ try store.open().list() }) {
                let roles = record.roles.sorted().map(\.rawValue)
                if json {
                    let line: JSON = ["id": .string(record.id), "account": .string(record.account.checksummed),
                                      "roles": .array(roles.map(JSON.string)), "label": .string(record.label),
                                      "createdAt": .string(record.createdAt), "revokedAt": record.revokedAt.map(JSON.string) ?? .null]
                    print(String(decoding: line.serialized(), as: UTF8.self))
                } else {
                    print("\(record.id)  \(record.account)  \(roles.joined(separator: ","))  created \(record.createdAt)\(record.revokedAt.map { "  REVOKED \($0)" } ?? "")  \(record.label)")
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id; the node refuses it from its next request.")
        @Argument(help: "The token id (`kramaa token list`), or the token itself.") var id: String
        @OptionGroup var store: Store

        func run() throws {
            let tokenID = id.hasPrefix(BearerToken.prefix) ? try CLIFailure.wrap { try BearerToken(parsing: id).id } : id
            let record = try CLIFailure.wrap { try store.open().revoke(id: tokenID) }
            print("revoked \(record.id) (\(record.account)) at \(record.revokedAt ?? "?")")
        }
    }
}

/// An error that is not a usage error: one line on standard error and exit status 1, without
/// the usage text ArgumentParser prints for `ValidationError`.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// Runs `body`, turning its error into a one-line failure.
    static func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let failure as CLIFailure { throw failure } catch {
            throw CLIFailure("\(error)")
        }
    }
}
