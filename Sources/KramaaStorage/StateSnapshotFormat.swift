import KramaaChain
import KramaaPrimitives
import KramaaState

/// What a state snapshot says about itself: the chain and height, the block at that height with
/// its receipts and the commit certificate that made it final, the hashes of the blocks before it
/// (BLOCKHASH reads 256 back) and the history accumulator's peaks, and the hash of every chunk of
/// state that follows. The header's state root binds the chunks; the certificate binds the header.
/// Its hash (`id`) names the snapshot on the peer network.
public struct SnapshotManifest: Sendable, Equatable {
    public static let formatVersion: UInt64 = 1

    public var chainId: UInt64
    public var genesisHash: Bytes32
    /// Block `height`, encoded (header and body).
    public var block: [UInt8]
    /// Its receipts as the chain store keeps them.
    public var receipts: [UInt8]
    /// The commit certificate of `block` (RLP); empty on a chain without consensus.
    public var certificate: [UInt8]
    /// Headers of up to 256 blocks before `height`, the newest first (each the parent of the one
    /// before): BLOCKHASH reads their hashes, checked link by link from the certified block.
    public var ancestorHeaders: [[UInt8]]
    /// The history accumulator's peaks over blocks `0..<height` (``HistoryAccumulator``).
    public var historyPeaks: [Bytes32]
    public var accountCount: UInt64
    /// Keccak-256 of each chunk's bytes, in order.
    public var chunkHashes: [Bytes32]

    public init(chainId: UInt64, genesisHash: Bytes32, block: [UInt8], receipts: [UInt8], certificate: [UInt8],
                ancestorHeaders: [[UInt8]], historyPeaks: [Bytes32], accountCount: UInt64, chunkHashes: [Bytes32]) {
        self.chainId = chainId
        self.genesisHash = genesisHash
        self.block = block
        self.receipts = receipts
        self.certificate = certificate
        self.ancestorHeaders = ancestorHeaders
        self.historyPeaks = historyPeaks
        self.accountCount = accountCount
        self.chunkHashes = chunkHashes
    }

    public var encoded: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            w.append(uint: Self.formatVersion)
            w.append(uint: chainId)
            w.append(bytes32: genesisHash)
            w.append(bytes: block)
            w.append(bytes: receipts)
            w.append(bytes: certificate)
            w.appendList { w in for header in ancestorHeaders { w.append(bytes: header) } }
            w.appendList { w in for hash in historyPeaks { w.append(bytes32: hash) } }
            w.append(uint: accountCount)
            w.appendList { w in for hash in chunkHashes { w.append(bytes32: hash) } }
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(SnapshotError) {
        do {
            var outer = RLPReader(bytes)
            var r = try outer.readList()
            let version = try r.readUInt64()
            guard version == Self.formatVersion else { throw SnapshotError.unsupportedVersion(version) }
            chainId = try r.readUInt64()
            genesisHash = try r.readBytes32()
            block = Array(try r.readBytes())
            receipts = Array(try r.readBytes())
            certificate = Array(try r.readBytes())
            func hashes(_ r: inout RLPReader) throws(RLPError) -> [Bytes32] {
                var list = try r.readList()
                var out: [Bytes32] = []
                while !list.isAtEnd { out.append(try list.readBytes32()) }
                return out
            }
            var headers = try r.readList()
            ancestorHeaders = []
            while !headers.isAtEnd { ancestorHeaders.append(Array(try headers.readBytes())) }
            historyPeaks = try hashes(&r)
            accountCount = try r.readUInt64()
            chunkHashes = try hashes(&r)
            try outer.finish()
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw .malformed("the manifest does not decode: \(error)")
        }
    }

    /// The snapshot's name: Keccak-256 of the encoded manifest.
    public var id: Bytes32 { Keccak256.hash(encoded) }

    /// The block's number, read from its header.
    public var height: UInt64 { (try? Block.decode(block).number) ?? 0 }
}

/// One piece of a snapshot's state: accounts (with their code) and storage slots, in address
/// order. An account's storage may span chunks, so no chunk grows past the size asked for.
public struct SnapshotChunk: Sendable, Equatable {
    public struct Slot: Sendable, Equatable {
        public var slot: UInt256
        public var value: UInt256
    }

    public enum Entry: Sendable, Equatable {
        case account(Address, nonce: UInt64, balance: UInt256, code: [UInt8])
        case storage(Address, [Slot])
    }

    public var entries: [Entry] = []

    public init(entries: [Entry] = []) { self.entries = entries }

    public var encoded: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            for entry in entries {
                w.appendList { w in
                    switch entry {
                    case .account(let address, let nonce, let balance, let code):
                        w.append(uint: UInt64(0))
                        w.append(address: address)
                        w.append(uint: nonce)
                        w.append(uint: balance)
                        w.append(bytes: code)
                    case .storage(let address, let slots):
                        w.append(uint: UInt64(1))
                        w.append(address: address)
                        w.appendList { w in
                            for entry in slots {
                                w.append(uint: entry.slot)
                                w.append(uint: entry.value)
                            }
                        }
                    }
                }
            }
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(SnapshotError) {
        do {
            var outer = RLPReader(bytes)
            var list = try outer.readList()
            while !list.isAtEnd {
                var item = try list.readList()
                let kind = try item.readUInt64()
                let address = try item.readAddress()
                switch kind {
                case 0:
                    entries.append(.account(address, nonce: try item.readUInt64(), balance: try item.readUInt256(),
                                            code: Array(try item.readBytes())))
                case 1:
                    var pairs = try item.readList()
                    var slots: [Slot] = []
                    while !pairs.isAtEnd { slots.append(Slot(slot: try pairs.readUInt256(), value: try pairs.readUInt256())) }
                    entries.append(.storage(address, slots))
                default:
                    throw SnapshotError.malformed("a chunk entry of unknown kind \(kind)")
                }
            }
            try outer.finish()
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw .malformed("a chunk does not decode: \(error)")
        }
    }

    /// Cuts `state` into chunks of about `targetBytes` each, in address and slot order.
    public static func chunks(of state: InMemoryState, targetBytes: Int = 1 << 20) -> [SnapshotChunk] {
        var chunks: [SnapshotChunk] = []
        var current = SnapshotChunk()
        var size = 0
        func flush() {
            if !current.entries.isEmpty { chunks.append(current) }
            current = SnapshotChunk()
            size = 0
        }
        for address in state.accounts.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            let account = state.accounts[address]!
            let code = state.code(hash: account.info.codeHash)
            current.entries.append(.account(address, nonce: account.info.nonce, balance: account.info.balance, code: code))
            size += 64 + code.count
            var slots: [Slot] = []
            for slot in account.storage.keys.sorted() {
                slots.append(Slot(slot: slot, value: account.storage[slot]!))
                size += 66
                if size >= targetBytes {
                    current.entries.append(.storage(address, slots))
                    slots = []
                    flush()
                }
            }
            if !slots.isEmpty { current.entries.append(.storage(address, slots)) }
            if size >= targetBytes { flush() }
        }
        flush()
        return chunks
    }

    /// Adds the chunk's accounts and slots to `state` (accounts come before their storage).
    public func apply(to state: InMemoryState) throws(SnapshotError) {
        for entry in entries {
            switch entry {
            case .account(let address, let nonce, let balance, let code):
                guard state.accounts[address] == nil else { throw .malformed("account \(address) appears twice") }
                state.set(address, nonce: nonce, balance: balance, code: code, storage: [:])
            case .storage(let address, let slots):
                guard let account = state.accounts[address] else { throw .malformed("storage of \(address) before its account") }
                var storage = account.storage
                for entry in slots where !entry.value.isZero { storage[entry.slot] = entry.value }
                state.set(address, nonce: account.info.nonce, balance: account.info.balance,
                          code: state.code(hash: account.info.codeHash), storage: storage)
            }
        }
    }
}

/// Why a snapshot was refused; nothing is written when any of these is thrown.
public enum SnapshotError: Error, Equatable, CustomStringConvertible {
    case unsupportedVersion(UInt64)
    case malformed(String)
    case chunkMismatch(index: Int, expected: Bytes32, got: Bytes32)
    /// The snapshot is of another chain than the node's genesis.
    case wrongChain(String)
    /// The state does not give the header's state root, or the header is not the certified one.
    case notCertified(String)
    case unavailable(String)
    case io(String)

    public var description: String {
        switch self {
        case .unsupportedVersion(let v): return "snapshot format version \(v) is not supported (this node reads version \(SnapshotManifest.formatVersion))"
        case .malformed(let why): return "the snapshot is malformed: \(why)"
        case .chunkMismatch(let index, let expected, let got):
            return "chunk \(index) has hash \(got), the manifest lists \(expected): corrupt or altered"
        case .wrongChain(let why): return "the snapshot is of another chain: \(why)"
        case .notCertified(let why): return "the snapshot does not match a certified header: \(why)"
        case .unavailable(let why): return "no snapshot can be had: \(why)"
        case .io(let why): return "snapshot file: \(why)"
        }
    }
}
