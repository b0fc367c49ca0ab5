import KramaaEVM
import KramaaPrimitives

/// One account's storage read through the view of the state the protocol's hooks get (the
/// transaction gate, the block hook), as a `StorageReader` the system contracts' helpers take.
struct AccountStorage: StorageReader {
    let storage: GateStorage
    let account: Address

    init(_ storage: GateStorage, _ account: Address) {
        self.storage = storage
        self.account = account
    }

    func load(_ slot: UInt256) throws(SystemCallError) -> UInt256 { storage.read(account, slot) }
}
