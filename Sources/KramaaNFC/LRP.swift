import Crypto

/// NXP's leakage-resilient primitive (LRP, application note AN12304) for one key: the
/// 16-entry plaintext table and the updated keys, with evaluation, LRICB encryption and
/// CMAC_LRP. NTAG 424 DNA uses it instead of plain AES when the tag is switched to LRP mode.
///
/// Every evaluation step keys AES with the previous output, so LRP costs one AES key
/// expansion per input nibble; the tables are built once here and reused.
public struct LRPCipher: Sendable {
    /// The plaintexts P0…P15 (AN12304 Algorithm 1, m = 4).
    let plaintexts: [Block128]
    /// The updated keys UK0… (AN12304 Algorithm 2).
    let updatedKeys: [Block128]

    private static let fill55 = Block128(repeating: 0x55)
    private static let fillAA = Block128(repeating: 0xAA)

    /// Builds the tables for a 16-byte key with `updatedKeyCount` updated keys (4 by default).
    public init(key: [UInt8], updatedKeyCount: Int = 4) throws(SUNError) {
        guard key.count == 16 else { throw .wrongLength(.key, expected: "16 bytes", actual: key.count) }
        self.init(key: Block128(padding: key), updatedKeyCount: updatedKeyCount)
    }

    init(key: Block128, updatedKeyCount: Int = 4) {
        let baseKey = AESBlock.key(key)
        var table: [Block128] = []
        table.reserveCapacity(16)
        var h = Self.fill55
        AESBlock.encrypt(&h, key: baseKey)
        for i in 0..<16 {
            let hKey = AESBlock.key(h)
            var p = Self.fillAA
            AESBlock.encrypt(&p, key: hKey)
            table.append(p)
            if i < 15 {
                h = Self.fill55
                AESBlock.encrypt(&h, key: hKey)
            }
        }
        var keys: [Block128] = []
        keys.reserveCapacity(updatedKeyCount)
        h = Self.fillAA
        AESBlock.encrypt(&h, key: baseKey)
        for i in 0..<updatedKeyCount {
            let hKey = AESBlock.key(h)
            var uk = Self.fillAA
            AESBlock.encrypt(&uk, key: hKey)
            keys.append(uk)
            if i < updatedKeyCount - 1 {
                h = Self.fill55
                AESBlock.encrypt(&h, key: hKey)
            }
        }
        plaintexts = table
        updatedKeys = keys
    }

    /// The plaintext table P0…P15.
    public var plaintextTable: [[UInt8]] { plaintexts.map(\.byteArray) }

    /// The updated keys UK0…
    public var updatedKeyTable: [[UInt8]] { updatedKeys.map(\.byteArray) }

    private func updatedKey(_ index: Int) throws(SUNError) -> Block128 {
        guard updatedKeys.indices.contains(index) else {
            throw .updatedKeyIndexOutOfRange(index, count: updatedKeys.count)
        }
        return updatedKeys[index]
    }

    /// EvalLRP (AN12304 Algorithm 3): walks the nibbles (values 0…15, any count) from the
    /// updated key `updatedKeyIndex`, with the final all-zero step when `finalize` is true.
    public func evaluate(nibbles: [UInt8], updatedKeyIndex: Int, finalize: Bool) throws(SUNError) -> [UInt8] {
        var y = try updatedKey(updatedKeyIndex)
        for nibble in nibbles {
            guard nibble < 16 else { throw .invalidNibble(nibble) }
            step(&y, plaintext: plaintexts[Int(nibble)])
        }
        if finalize { step(&y, plaintext: Block128(repeating: 0)) }
        return y.byteArray
    }

    @inline(__always)
    private func step(_ y: inout Block128, plaintext: Block128) {
        var next = plaintext
        AESBlock.encrypt(&next, key: AESBlock.key(y))
        y = next
    }

    /// EvalLRP over the first `byteCount` bytes of `input`, high nibble first, finalized.
    @inline(__always)
    func evaluateFinal(_ input: Block128, byteCount: Int = 16, from key: Block128) -> Block128 {
        var y = key
        for i in 0..<byteCount {
            step(&y, plaintext: plaintexts[Int(input[i] >> 4)])
            step(&y, plaintext: plaintexts[Int(input[i] & 0x0F)])
        }
        step(&y, plaintext: Block128(repeating: 0))
        return y
    }

    // MARK: LRICB

    /// LRICB encryption (AN12304 Algorithm 4) with updated key `updatedKeyIndex` and a
    /// big-endian `counter` of 1…16 bytes; `padding` adds ISO/IEC 9797-1 method 2 padding,
    /// otherwise the plaintext must be whole, non-empty 16-byte blocks.
    public func encryptLRICB(_ plaintext: [UInt8], updatedKeyIndex: Int, counter: [UInt8], padding: Bool) throws(SUNError) -> [UInt8] {
        var data = plaintext
        if padding {
            data.append(0x80)
            while data.count % 16 != 0 { data.append(0) }
        }
        try crypt(&data, updatedKeyIndex: updatedKeyIndex, counter: counter, encrypting: true)
        return data
    }

    /// LRICB decryption (AN12304 Algorithm 5); with `padding` the `80 00 …` tail is checked and removed.
    public func decryptLRICB(_ ciphertext: [UInt8], updatedKeyIndex: Int, counter: [UInt8], padding: Bool) throws(SUNError) -> [UInt8] {
        var data = ciphertext
        try crypt(&data, updatedKeyIndex: updatedKeyIndex, counter: counter, encrypting: false)
        if padding {
            guard let marker = data.lastIndex(where: { $0 != 0 }), data[marker] == 0x80 else { throw .invalidPadding }
            data.removeSubrange(marker...)
        }
        return data
    }

    private func crypt(_ data: inout [UInt8], updatedKeyIndex: Int, counter: [UInt8], encrypting: Bool) throws(SUNError) {
        guard (1...16).contains(counter.count) else {
            throw .wrongLength(.lrpCounter, expected: "1 to 16 bytes", actual: counter.count)
        }
        guard !data.isEmpty, data.count % 16 == 0 else {
            throw .wrongLength(.lrpData, expected: "a non-empty multiple of 16 bytes", actual: data.count)
        }
        let key = try updatedKey(updatedKeyIndex)
        crypt(&data, key: key, counter: Block128(padding: counter), counterLength: counter.count, encrypting: encrypting)
    }

    /// LRICB over whole blocks in place; `counter` holds `counterLength` big-endian bytes.
    func crypt(_ data: inout [UInt8], key: Block128, counter start: Block128, counterLength: Int, encrypting: Bool) {
        var counter = start
        data.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let blockKey = AESBlock.key(evaluateFinal(counter, byteCount: counterLength, from: key))
                var block = Block128(padding: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 16]))
                if encrypting {
                    AESBlock.encrypt(&block, key: blockKey)
                } else {
                    AESBlock.decrypt(&block, key: blockKey)
                }
                withUnsafeBytes(of: block) { raw[offset..<offset + 16].copyBytes(from: $0) }
                Self.increment(&counter, length: counterLength)
                offset += 16
            }
        }
    }

    /// Adds one to a big-endian counter of `length` bytes, wrapping to zero.
    private static func increment(_ counter: inout Block128, length: Int) {
        var i = length - 1
        while i >= 0 {
            counter[i] &+= 1
            if counter[i] != 0 { return }
            i -= 1
        }
    }

    // MARK: CMAC_LRP

    /// CMAC_LRP (AN12304 §3.3): CMAC whose block function is EvalLRP (finalized) from updated
    /// key `updatedKeyIndex`.
    public func cmac(_ message: [UInt8], updatedKeyIndex: Int = 0) throws(SUNError) -> [UInt8] {
        let mac = try LRPCMAC(self, updatedKeyIndex: updatedKeyIndex)
        return message.withUnsafeBytes { mac.tag($0) }.byteArray
    }

    /// The CMAC_LRP subkeys K1 (complete final block) and K2 (padded final block).
    public func cmacSubkeys(updatedKeyIndex: Int = 0) throws(SUNError) -> (k1: [UInt8], k2: [UInt8]) {
        let mac = try LRPCMAC(self, updatedKeyIndex: updatedKeyIndex)
        return (mac.subkeys.k1.byteArray, mac.subkeys.k2.byteArray)
    }
}

/// EvalLRP with one updated key as a CMAC block function.
struct LRPBlockFunction: CMACBlockFunction {
    let cipher: LRPCipher
    let key: Block128

    @inline(__always)
    func apply(_ block: inout Block128) { block = cipher.evaluateFinal(block, from: key) }
}

/// CMAC_LRP with its subkeys prepared once.
struct LRPCMAC: Sendable {
    let function: LRPBlockFunction
    let subkeys: CMACSubkeys

    init(_ cipher: LRPCipher, updatedKeyIndex: Int) throws(SUNError) {
        guard cipher.updatedKeys.indices.contains(updatedKeyIndex) else {
            throw .updatedKeyIndexOutOfRange(updatedKeyIndex, count: cipher.updatedKeys.count)
        }
        function = LRPBlockFunction(cipher: cipher, key: cipher.updatedKeys[updatedKeyIndex])
        subkeys = CMACSubkeys(function)
    }

    func tag(_ message: UnsafeRawBufferPointer) -> Block128 {
        CMAC.tag(message, function: function, subkeys: subkeys)
    }

    func tag(ofBlock block: Block128) -> Block128 {
        CMAC.tag(ofBlock: block, function: function, subkeys: subkeys)
    }
}
