import KramaaPrimitives

/// Reads transaction fields from an RLP list, naming the field in every error.
struct TransactionFieldReader {
    var reader: RLPReader

    mutating func run<T>(_ field: String, _ body: (inout RLPReader) throws(RLPError) -> T) throws(TransactionError) -> T {
        do {
            return try body(&reader)
        } catch .integerTooLarge {
            throw .fieldOverflow(field: field)
        } catch {
            throw .malformed(field: field, error)
        }
    }

    mutating func uint256(_ field: String) throws(TransactionError) -> UInt256 {
        try run(field) { r throws(RLPError) in try r.readUInt256() }
    }

    mutating func uint64(_ field: String) throws(TransactionError) -> UInt64 {
        let v = try uint256(field)
        guard let small = v.uint64Value else { throw .fieldOverflow(field: field) }
        return small
    }

    mutating func bytes(_ field: String) throws(TransactionError) -> [UInt8] {
        try run(field) { r throws(RLPError) in Array(try r.readBytes()) }
    }

    mutating func recipient() throws(TransactionError) -> Address? {
        let b = try bytes("to")
        if b.isEmpty { return nil }
        guard b.count == 20 else { throw .invalidRecipientLength(b.count) }
        return try! Address(b)
    }

    mutating func accessList() throws(TransactionError) -> [AccessListEntry] {
        try run("accessList") { r throws(RLPError) in
            var list = try r.readList()
            var entries: [AccessListEntry] = []
            while !list.isAtEnd {
                var entry = try list.readList()
                let address = try entry.readAddress()
                var keysReader = try entry.readList()
                var keys: [Bytes32] = []
                while !keysReader.isAtEnd { keys.append(try keysReader.readBytes32()) }
                try entry.finish()
                entries.append(AccessListEntry(address: address, storageKeys: keys))
            }
            return entries
        }
    }

    mutating func hashes(_ field: String) throws(TransactionError) -> [Bytes32] {
        try run(field) { r throws(RLPError) in
            var list = try r.readList()
            var out: [Bytes32] = []
            while !list.isAtEnd { out.append(try list.readBytes32()) }
            return out
        }
    }
}

extension Transaction {
    /// Fields in the RLP list of each type, signature included.
    static func fieldCount(_ type: TransactionType) -> Int {
        switch type {
        case .legacy: return 9
        case .accessList: return 11
        case .dynamicFee: return 12
        case .blob: return 14
        case .device: return DeviceAuthorization.fieldCount
        case .system: return 9
        }
    }

    /// Decodes the wire form: an RLP list (legacy) or a type byte followed by an RLP list (EIP-2718).
    /// Structure and field sizes are checked here; signature and chain rules by `validate`.
    public static func decode(_ raw: [UInt8]) throws(TransactionError) -> Transaction {
        guard let first = raw.first else { throw .empty }
        let type: TransactionType
        var outer: RLPReader
        if first >= 0xc0 {
            type = .legacy
            outer = RLPReader(raw)
        } else if first <= 0x7f {
            guard let t = TransactionType(rawValue: first), t != .legacy else { throw .typeNotSupported(first) }
            type = t
            outer = RLPReader(Array(raw.dropFirst()))
        } else {
            throw .malformed(field: "envelope", .expectedList(at: 0))
        }
        var list: RLPReader
        do {
            list = try outer.readList()
            try outer.finish()
        } catch {
            throw .malformed(field: "envelope", error)
        }
        var count = 0
        var counter = list
        while !counter.isAtEnd {
            do { _ = try counter.readHeader() } catch { throw .malformed(field: "envelope", error) }
            count += 1
        }
        guard count == fieldCount(type) else {
            throw .wrongFieldCount(type: type, expected: fieldCount(type), actual: count)
        }
        var f = TransactionFieldReader(reader: list)
        var tx: Transaction
        if type == .legacy {
            let nonce = try f.uint64("nonce")
            let gasPrice = try f.uint256("gasPrice")
            let gas = try f.uint64("gasLimit")
            let to = try f.recipient()
            let value = try f.uint256("value")
            let data = try f.bytes("data")
            let v = try f.uint256("v")
            tx = Transaction(
                type: .legacy, chainId: nil, nonce: nonce, maxFeePerGas: gasPrice, gasLimit: gas,
                to: to, value: value, data: data)
            tx.signature = TransactionSignature(v: v, r: try f.uint256("r"), s: try f.uint256("s"))
            if let v64 = v.uint64Value, v64 >= 35 { tx.chainId = (v64 - 35) / 2 }
        } else {
            let chainId = try f.uint64("chainId")
            let nonce = try f.uint64("nonce")
            var priority = UInt256.zero
            if type != .accessList { priority = try f.uint256("maxPriorityFeePerGas") }
            let maxFee = try f.uint256(type == .accessList ? "gasPrice" : "maxFeePerGas")
            let gas = try f.uint64("gasLimit")
            let to = try f.recipient()
            let value = try f.uint256("value")
            let data = try f.bytes("data")
            let accessList = try f.accessList()
            tx = Transaction(
                type: type, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: priority,
                maxFeePerGas: maxFee, gasLimit: gas, to: to, value: value, data: data, accessList: accessList)
            if type == .blob {
                tx.maxFeePerBlobGas = try f.uint256("maxFeePerBlobGas")
                tx.blobVersionedHashes = try f.hashes("blobVersionedHashes")
            }
            if type == .device {
                tx.device = try f.deviceAuthorization()
            } else if type != .system {
                let parity = try f.uint256("yParity")
                tx.signature = TransactionSignature(v: parity, r: try f.uint256("r"), s: try f.uint256("s"))
            }
        }
        return tx
    }

    /// The wire form (what `eth_sendRawTransaction` takes and the transaction hash covers).
    public var encoded: [UInt8] { encode(includingSignature: true) }

    /// Keccak-256 of the wire form.
    public var hash: Bytes32 { Keccak256.hash(encoded) }

    /// The digest a sender signs: the payload without signature, with EIP-155 fields for
    /// protected legacy transactions and the type byte for typed ones.
    public var signingHash: Bytes32 { Keccak256.hash(encode(includingSignature: false)) }

    func encode(includingSignature: Bool) -> [UInt8] {
        var w = RLPWriter(reservingCapacity: data.count + 128)
        w.appendList { w in
            if type != .legacy { w.append(uint: chainId ?? 0) }
            w.append(uint: nonce)
            if type == .dynamicFee || type == .blob || type == .device || type == .system { w.append(uint: maxPriorityFeePerGas) }
            w.append(uint: maxFeePerGas)
            w.append(uint: gasLimit)
            if let to { w.append(address: to) } else { w.append(bytes: [UInt8]()) }
            w.append(uint: value)
            w.append(bytes: data)
            if type != .legacy {
                w.appendList { w in
                    for e in accessList {
                        w.appendList { w in
                            w.append(address: e.address)
                            w.appendList { w in for k in e.storageKeys { w.append(bytes32: k) } }
                        }
                    }
                }
            }
            if type == .blob {
                w.append(uint: maxFeePerBlobGas)
                w.appendList { w in for h in blobVersionedHashes { w.append(bytes32: h) } }
            }
            if type == .device { DeviceAuthorization.append(device, to: &w, includingSignature: includingSignature) }
            if includingSignature, type != .system, let sig = signature {
                w.append(uint: sig.v)
                w.append(uint: sig.r)
                w.append(uint: sig.s)
            } else if !includingSignature, type == .legacy, let chainId {
                w.append(uint: chainId)
                w.append(uint: UInt64(0))
                w.append(uint: UInt64(0))
            }
        }
        return type == .legacy ? w.bytes : [type.rawValue] + w.bytes
    }
}
