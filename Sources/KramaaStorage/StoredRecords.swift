import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState

/// How the chain database stores a block's receipts.
extension StoredReceipts {
    /// rlp([[receipt...], [sender...], [[gasUsed, price, created, output]...]]).
    var encoded: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            w.appendList { w in for r in receipts { w.append(bytes: r.encoded) } }
            w.appendList { w in for s in senders { w.append(address: s) } }
            w.appendList { w in
                for o in outcomes {
                    w.appendList { w in
                        w.append(uint: o.gasUsed)
                        w.append(uint: o.effectiveGasPrice)
                        if let c = o.createdAddress { w.append(address: c) } else { w.append(bytes: [UInt8]()) }
                        w.append(bytes: o.output)
                    }
                }
            }
        }
        return w.bytes
    }

    static func decode(_ raw: [UInt8]) throws(RLPError) -> StoredReceipts {
        var outer = RLPReader(raw)
        var list = try outer.readList()
        var rs = try list.readList()
        var receipts: [Receipt] = []
        while !rs.isAtEnd { receipts.append(try Receipt.decode(Array(try rs.readBytes()))) }
        var ss = try list.readList()
        var senders: [Address] = []
        while !ss.isAtEnd { senders.append(try ss.readAddress()) }
        var os = try list.readList()
        var outcomes: [TransactionOutcome] = []
        while !os.isAtEnd {
            var o = try os.readList()
            let gas = try o.readUInt64()
            let price = try o.readUInt256()
            let created = try o.readBytes()
            let output = Array(try o.readBytes())
            outcomes.append(TransactionOutcome(gasUsed: gas, effectiveGasPrice: price,
                                               createdAddress: created.isEmpty ? nil : try? Address(created), output: output))
        }
        return StoredReceipts(receipts: receipts, senders: senders, outcomes: outcomes)
    }
}
extension StateUndo {
    /// rlp([[address, exists, nonce, balance, codeHash]...], [[address, [[slot, value]...]]...] ×2
    /// (changed slots, then whole storages of cleared accounts)).
    var encoded: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            StateRecord.append(accounts: accounts, to: &w)
            StateRecord.append(slots: storage, to: &w)
            StateRecord.append(slots: clearedStorage, to: &w)
        }
        return w.bytes
    }

    static func decode(_ raw: [UInt8]) throws(RLPError) -> StateUndo {
        var undo = StateUndo()
        var outer = RLPReader(raw)
        var list = try outer.readList()
        undo.accounts = try StateRecord.readAccounts(&list)
        undo.storage = try StateRecord.readSlots(&list)
        undo.clearedStorage = try StateRecord.readSlots(&list)
        return undo
    }
}

extension StateChanges {
    /// A block's changes as `state_changes` keeps them (`StateChangeLog`), code aside:
    /// rlp([[address, exists, nonce, balance, codeHash]...], [address...] (cleared storages),
    /// [[address, [[slot, value]...]]...]).
    var recordEncoded: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            StateRecord.append(accounts: accounts, to: &w)
            w.appendList { w in for address in clearedStorage { w.append(address: address) } }
            StateRecord.append(slots: storage, to: &w)
        }
        return w.bytes
    }

    static func decodeRecord(_ raw: [UInt8]) throws(RLPError) -> StateChanges {
        var changes = StateChanges()
        var outer = RLPReader(raw)
        var list = try outer.readList()
        changes.accounts = try StateRecord.readAccounts(&list)
        var cleared = try list.readList()
        while !cleared.isAtEnd { changes.clearedStorage.insert(try cleared.readAddress()) }
        changes.storage = try StateRecord.readSlots(&list)
        return changes
    }
}

/// The parts undo records and change records share: account entries and slot maps.
enum StateRecord {
    static func append(accounts: [Address: AccountInfo?], to w: inout RLPWriter) {
        w.appendList { w in
            for (address, info) in accounts {
                w.appendList { w in
                    w.append(address: address)
                    w.append(uint: info == nil ? 0 as UInt64 : 1)
                    w.append(uint: info?.nonce ?? 0)
                    w.append(uint: info?.balance ?? .zero)
                    w.append(bytes32: info?.codeHash ?? AccountInfo.emptyCodeHash)
                }
            }
        }
    }

    static func append(slots map: [Address: [UInt256: UInt256]], to w: inout RLPWriter) {
        w.appendList { w in
            for (address, values) in map {
                w.appendList { w in
                    w.append(address: address)
                    w.appendList { w in
                        for (slot, value) in values { w.appendList { w in w.append(uint: slot); w.append(uint: value) } }
                    }
                }
            }
        }
    }

    static func readAccounts(_ list: inout RLPReader) throws(RLPError) -> [Address: AccountInfo?] {
        var out: [Address: AccountInfo?] = [:]
        var accounts = try list.readList()
        while !accounts.isAtEnd {
            var a = try accounts.readList()
            let address = try a.readAddress()
            let exists = try a.readUInt64() == 1
            let info = AccountInfo(nonce: try a.readUInt64(), balance: try a.readUInt256(), codeHash: try a.readBytes32())
            out[address] = .some(exists ? info : nil)
        }
        return out
    }

    static func readSlots(_ list: inout RLPReader) throws(RLPError) -> [Address: [UInt256: UInt256]] {
        var out: [Address: [UInt256: UInt256]] = [:]
        var entries = try list.readList()
        while !entries.isAtEnd {
            var e = try entries.readList()
            let address = try e.readAddress()
            var values = try e.readList()
            var map: [UInt256: UInt256] = [:]
            while !values.isAtEnd {
                var pair = try values.readList()
                map[try pair.readUInt256()] = try pair.readUInt256()
            }
            out[address] = map
        }
        return out
    }
}
