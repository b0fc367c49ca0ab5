import KramaaEVM
import KramaaPrimitives
import KramaaTrie

/// A complete world state held in memory: accounts, storage and code, with the Merkle
/// Patricia state root. It backs the EVM's `JournaledState` and takes its changes back with
/// `commit(_:)`. The state tests run on it; the node will put persistence beneath it.
public final class InMemoryState: StateBackend {
    public struct Account: Equatable, Sendable {
        public var info: AccountInfo
        public var storage: [UInt256: UInt256]

        public init(info: AccountInfo, storage: [UInt256: UInt256] = [:]) {
            self.info = info
            self.storage = storage
        }
    }

    public private(set) var accounts: [Address: Account] = [:]
    private var codes: [Bytes32: [UInt8]] = [AccountInfo.emptyCodeHash: []]
    /// Block hashes BLOCKHASH may return.
    public var blockHashes: [UInt64: Bytes32] = [:]

    public init() {}

    /// Sets an account, its code and storage (genesis allocations, test pre-states).
    public func set(_ address: Address, nonce: UInt64, balance: UInt256, code: [UInt8], storage: [UInt256: UInt256]) {
        let hash = Keccak256.hash(code)
        codes[hash] = code
        accounts[address] = Account(info: AccountInfo(nonce: nonce, balance: balance, codeHash: hash),
                                    storage: storage.filter { !$0.value.isZero })
    }

    // MARK: StateBackend

    public func account(_ address: Address) -> AccountInfo? { accounts[address]?.info }

    public func storage(_ address: Address, slot: UInt256) -> UInt256 { accounts[address]?.storage[slot] ?? .zero }

    public func code(hash: Bytes32) -> [UInt8] { codes[hash] ?? [] }

    public func blockHash(_ number: UInt64) -> Bytes32? { blockHashes[number] }

    public func hasStorage(_ address: Address) -> Bool { !(accounts[address]?.storage.isEmpty ?? true) }

    // MARK: Commit and root

    /// Writes every change a `JournaledState` holds (after `finishTransaction`) into this state.
    public func commit(_ journaled: JournaledState) {
        for (address, cached) in journaled.accounts {
            guard cached.exists else {
                accounts[address] = nil
                continue
            }
            var account = cached.storageCleared ? Account(info: cached.info) : (accounts[address] ?? Account(info: cached.info))
            account.info = cached.info
            for (slot, value) in cached.storage {
                account.storage[slot] = value.isZero ? nil : value
            }
            if let code = cached.code, !code.bytes.isEmpty { codes[code.hash] = code.bytes }
            accounts[address] = account
        }
    }

    /// The root of the secure account trie: each account is rlp([nonce, balance, storageRoot, codeHash]).
    public var stateRoot: Bytes32 {
        var trie = SecureTrie()
        for (address, account) in accounts {
            var w = RLPWriter()
            w.appendList { w in
                w.append(uint: account.info.nonce)
                w.append(uint: account.info.balance)
                w.append(bytes32: InMemoryState.storageRoot(account.storage))
                w.append(bytes32: account.info.codeHash)
            }
            trie.updateValue(w.bytes, forKey: address.bytes)
        }
        return trie.rootHash
    }

    /// The root of a storage trie: key keccak256(slot), value rlp(minimal big-endian value).
    public static func storageRoot(_ storage: [UInt256: UInt256]) -> Bytes32 {
        var trie = SecureTrie()
        for (slot, value) in storage where !value.isZero {
            var w = RLPWriter()
            w.append(uint: value)
            trie.updateValue(w.bytes, forKey: slot.bigEndianBytes)
        }
        return trie.rootHash
    }
}

extension Log {
    /// keccak256(rlp(logs)), each log rlp([address, [topics], data]): the state tests' `logs` hash.
    public static func hash(_ logs: [Log]) -> Bytes32 {
        var w = RLPWriter()
        w.appendList { w in
            for log in logs {
                w.appendList { w in
                    w.append(address: log.address)
                    w.appendList { w in for t in log.topics { w.append(bytes32: t) } }
                    w.append(bytes: log.data)
                }
            }
        }
        return Keccak256.hash(w.bytes)
    }
}
