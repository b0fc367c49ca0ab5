import KramaaPrimitives

/// Where system contracts keep their variables, laid out as Solidity lays out mappings and
/// dynamic arrays, so the slots are easy to reason about and to read with `eth_getStorageAt`.
public enum StorageSlot {
    /// The root slot of a named variable: keccak256(name).
    public static func named(_ name: String) -> UInt256 {
        UInt256(Keccak256.hash(Array(name.utf8)))
    }

    /// The slot of `mapping[key]` for a mapping rooted at `base`: keccak256(key ‖ base).
    /// Hashed from a 64-byte stack buffer: the pool's device gate and every system contract
    /// take one per mapping read.
    public static func mapping(_ base: UInt256, _ key: UInt256) -> UInt256 {
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { buffer in
            key.storeBigEndian(to: buffer.baseAddress!)
            base.storeBigEndian(to: buffer.baseAddress! + 32)
            return UInt256(Keccak256.hash(UnsafeRawBufferPointer(buffer)))
        }
    }

    public static func mapping(_ base: UInt256, _ key: Address) -> UInt256 { mapping(base, UInt256(key)) }
    public static func mapping(_ base: UInt256, _ key: Bytes32) -> UInt256 { mapping(base, UInt256(key)) }

    /// The slot `index` places after `base` (a struct's field, an array's element area).
    public static func offset(_ base: UInt256, _ index: Int) -> UInt256 { base &+ UInt256(UInt64(index)) }

    /// Where the elements of a dynamic array whose length is at `base` start: keccak256(base).
    public static func elements(_ base: UInt256) -> UInt256 {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { buffer in
            base.storeBigEndian(to: buffer.baseAddress!)
            return UInt256(Keccak256.hash(UnsafeRawBufferPointer(buffer)))
        }
    }
}

/// Reads storage slots: a system call (metered) or a plain state read (the node answering
/// "who are the validators of height h" outside any transaction).
public protocol StorageReader {
    func load(_ slot: UInt256) throws(SystemCallError) -> UInt256
}

extension StorageReader {
    public func loadAddress(_ slot: UInt256) throws(SystemCallError) -> Address { Address(word: try load(slot)) }
    public func loadBool(_ slot: UInt256) throws(SystemCallError) -> Bool { !(try load(slot)).isZero }
    public func loadUInt64(_ slot: UInt256) throws(SystemCallError) -> UInt64 { (try load(slot)).uint64Value ?? .max }

    /// A dynamic array of words: its length at `base`, its elements from keccak256(base).
    public func loadWordArray(_ base: UInt256) throws(SystemCallError) -> [UInt256] {
        let count = Int(min(try loadUInt64(base), 1 << 16))
        let first = StorageSlot.elements(base)
        var out: [UInt256] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(try load(StorageSlot.offset(first, i))) }
        return out
    }

    /// A dynamic array of addresses, laid out as ``loadWordArray(_:)``.
    public func loadAddressArray(_ base: UInt256) throws(SystemCallError) -> [Address] {
        try loadWordArray(base).map { Address(word: $0) }
    }

    /// A byte string: its length at `base`, its bytes in 32-byte words from keccak256(base).
    public func loadBytes(_ base: UInt256) throws(SystemCallError) -> [UInt8] {
        let length = Int(min(try loadUInt64(base), 1 << 20))
        let first = StorageSlot.elements(base)
        var out: [UInt8] = []
        out.reserveCapacity(length + 31)
        for i in 0 ..< (length + 31) / 32 { out += (try load(StorageSlot.offset(first, i))).bigEndianBytes }
        return Array(out.prefix(length))
    }

    public func loadString(_ base: UInt256) throws(SystemCallError) -> String {
        String(decoding: try loadBytes(base), as: UTF8.self)
    }
}

extension SystemCall: StorageReader {
    public func load(_ slot: UInt256) throws(SystemCallError) -> UInt256 { try load(slot, of: address) }
}

extension SystemCall {
    public func store(_ slot: UInt256, _ address: Address) throws(SystemCallError) { try store(slot, UInt256(address)) }
    public func store(_ slot: UInt256, _ flag: Bool) throws(SystemCallError) { try store(slot, flag ? .one : .zero) }
    public func store(_ slot: UInt256, _ value: UInt64) throws(SystemCallError) { try store(slot, UInt256(value)) }

    /// Replaces the word array at `base` (clearing elements past the new length).
    public func storeWordArray(_ base: UInt256, _ words: [UInt256]) throws(SystemCallError) {
        let old = Int(min(try loadUInt64(base), 1 << 16))
        let first = StorageSlot.elements(base)
        for (i, word) in words.enumerated() { try store(StorageSlot.offset(first, i), word) }
        if old > words.count { for i in words.count..<old { try store(StorageSlot.offset(first, i), UInt256.zero) } }
        try store(base, UInt64(words.count))
    }

    /// Replaces the address array at `base`.
    public func storeAddressArray(_ base: UInt256, _ addresses: [Address]) throws(SystemCallError) {
        try storeWordArray(base, addresses.map { UInt256($0) })
    }

    /// Writes a byte string at `base` (clearing words past the new end).
    public func storeBytes(_ base: UInt256, _ bytes: [UInt8]) throws(SystemCallError) {
        let oldWords = (Int(min(try loadUInt64(base), 1 << 20)) + 31) / 32
        let first = StorageSlot.elements(base)
        let words = (bytes.count + 31) / 32
        for i in 0..<words {
            var word = [UInt8](repeating: 0, count: 32)
            let chunk = bytes[(32 * i)..<min(32 * i + 32, bytes.count)]
            word.replaceSubrange(0..<chunk.count, with: chunk)
            try store(StorageSlot.offset(first, i), UInt256(try! Bytes32(word)))
        }
        if oldWords > words { for i in words..<oldWords { try store(StorageSlot.offset(first, i), UInt256.zero) } }
        try store(base, UInt64(bytes.count))
    }

    public func storeString(_ base: UInt256, _ text: String) throws(SystemCallError) { try storeBytes(base, Array(text.utf8)) }
}

/// Storage read outside any call, through a closure over a state (the node reading a system
/// contract's variables between blocks).
public struct SlotReader: StorageReader {
    private let read: (UInt256) -> UInt256
    public init(_ read: @escaping (UInt256) -> UInt256) { self.read = read }
    public func load(_ slot: UInt256) throws(SystemCallError) -> UInt256 { read(slot) }
}

/// Another contract's storage read through a call (metered like SLOAD): how system contracts
/// consult each other (the asset registry checking roles in the organisation registry).
public struct ForeignStorage: StorageReader {
    let call: SystemCall
    let account: Address
    public func load(_ slot: UInt256) throws(SystemCallError) -> UInt256 { try call.load(slot, of: account) }
}

extension SystemCall {
    /// `account`'s storage, read through this call.
    public func reading(_ account: Address) -> ForeignStorage { ForeignStorage(call: self, account: account) }
}
