import Foundation
import KramaaAPI
import KramaaChain
import KramaaNode
import KramaaPlatform
import KramaaPrimitives

/// The settings that shape a devnet's genesis. A setting given on the command line must agree
/// with the chain already in the data folder (it cannot change an existing chain): a difference
/// is refused with a message naming `--fresh`, never silently ignored. A setting not given takes
/// the folder's value, or the default for a new devnet.
struct DevnetSettings: Equatable {
    var validators = 4
    var accounts = 10
    /// Ether per dev account.
    var balance: UInt64 = 10_000
    var chainId: UInt64 = 1337
    var blockTime: UInt64 = 0
    var gasLimit: UInt64 = 60_000_000
    /// Seconds without a heartbeat before a storage node stops counting as a file's holder.
    var filesHeartbeatTimeout: UInt64 = FileRegistry.heartbeatTimeout

    /// What the user gave; nil where the option was left out.
    struct Given {
        var validators: Int?
        var accounts: Int?
        var balance: UInt64?
        var chainId: UInt64?
        var blockTime: UInt64?
        var gasLimit: UInt64?
        var filesHeartbeatTimeout: UInt64?
    }

    static let wei = UInt256(1_000_000_000_000_000_000 as UInt64)

    /// The settings of the devnet in `directory`, read from its genesis; nil when there is none.
    static func existing(in directory: URL) throws -> DevnetSettings? {
        let shared = directory.appendingPathComponent("genesis.json")
        let document: Data
        let singleNode: Bool
        if Node.isInitialized(dataDirectory: directory) {
            do { document = try Node.genesisDocument(dataDirectory: directory) } catch { throw CLIFailure("\(directory.path): \(error)") }
            singleNode = true
        } else if let data = FileManager.default.contents(atPath: shared.path),
                  Node.isInitialized(dataDirectory: directory.appendingPathComponent("validator-0")) {
            document = data
            singleNode = false
        } else {
            return nil
        }
        let genesis: Genesis
        do { genesis = try Genesis.parse(document) } catch { throw CLIFailure("the devnet's genesis in \(directory.path): \(error)") }
        var settings = DevnetSettings()
        settings.validators = singleNode ? 1 : genesis.config.validators.count
        settings.chainId = genesis.config.chainId
        settings.blockTime = genesis.config.blockPeriodSeconds
        settings.gasLimit = genesis.gasLimit
        if let configured = genesis.alloc[FileRegistry.address]?.storage[FileRegistry.Slot.heartbeatTimeout]?.uint64Value, configured > 0 {
            settings.filesHeartbeatTimeout = configured
        }
        let dev = DevAccounts.derived(count: min(genesis.alloc.count, 1000)).keys.map(\.publicKey.address)
        settings.accounts = dev.prefix { genesis.alloc[$0] != nil }.count
        if let first = dev.first, let balance = genesis.alloc[first]?.balance {
            settings.balance = (balance / wei).uint64Value ?? 0
        }
        return settings
    }

    /// The settings to run with: each given value, else the existing chain's, else the default.
    /// - Throws: `CLIFailure` listing every given value that differs from the existing chain's.
    static func resolve(_ given: Given, existing: DevnetSettings?, directory: URL) throws -> DevnetSettings {
        let base = existing ?? DevnetSettings()
        var out = base
        var conflicts: [String] = []
        func take<T: Equatable>(_ value: T?, _ key: WritableKeyPath<DevnetSettings, T>, _ flag: String) {
            guard let value else { return }
            if existing != nil && value != base[keyPath: key] { conflicts.append("\(flag) \(value) (it has \(base[keyPath: key]))") }
            out[keyPath: key] = value
        }
        take(given.validators, \.validators, "--validators")
        take(given.accounts, \.accounts, "--accounts")
        take(given.balance, \.balance, "--balance")
        take(given.chainId, \.chainId, "--chain-id")
        take(given.blockTime, \.blockTime, "--block-time")
        take(given.gasLimit, \.gasLimit, "--gas-limit")
        take(given.filesHeartbeatTimeout, \.filesHeartbeatTimeout, "--files-heartbeat-timeout")
        guard conflicts.isEmpty else {
            throw CLIFailure("the devnet in \(directory.path) was made with other settings: \(conflicts.joined(separator: ", ")); "
                             + "they apply only to a new chain: add --fresh to start over (deletes its data), give another --datadir, or leave them out")
        }
        return out
    }

    /// The genesis of a new devnet with these settings: the dev accounts (and validators) funded.
    func genesisDocument(_ dev: DevAccounts, validators: [Address]? = nil) -> Data {
        let wei = UInt256(balance) &* Self.wei
        let funded = dev.addresses + (validators ?? []).filter { !dev.addresses.contains($0) }
        var alloc = funded.map { "\"\($0)\": {\"balance\": \"\(Hex.encode(wei.minimalBigEndianBytes))\"}" }
        // The file registry's heartbeat timeout, a consortium setting kept in its storage.
        alloc.append("\"\(FileRegistry.address)\": {\"storage\": {\"\(Hex.encode(FileRegistry.Slot.heartbeatTimeout.minimalBigEndianBytes))\": "
                     + "\"\(Hex.encode(UInt256(filesHeartbeatTimeout).minimalBigEndianBytes))\"}}")
        return Data("""
            {"config": {"chainId": \(chainId), "kramaa": {"blockPeriodSeconds": \(blockTime), "emptyBlocks": false, "historyCommitment": true,
             "validators": [\((validators ?? [dev.addresses[0]]).map { "\"\($0)\"" }.joined(separator: ", "))], "feePolicy": "eip1559"}},
             "gasLimit": "0x\(String(gasLimit, radix: 16))", "timestamp": "0x\(String(UInt64(Date().timeIntervalSince1970), radix: 16))",
             "alloc": {\(alloc.joined(separator: ", "))}}
            """.utf8)
    }
}
