/// The tag's identity and read counter as mirrored into a SUN message (NT4H2421Gx §9.3,
/// AN12196 §3): decrypted from encrypted PICCData, or taken from plain mirroring.
public struct PICCData: Sendable, Equatable {
    /// The PICCDataTag byte (bit 7 UID mirrored, bit 6 counter mirrored, low nibble UID
    /// length); nil for plain mirroring, which has no tag byte.
    public let tagByte: UInt8?
    /// The UID, when mirrored.
    public let uid: TagUID?
    /// SDMReadCtr, when mirrored (24 bits).
    public let readCounter: UInt32?
    /// PICCRand of LRP-mode PICCData (8 bytes), nil in AES mode.
    public let piccRand: [UInt8]?

    /// Plain mirroring: the UID and counter as they appear in the URL.
    public init(uid: TagUID?, readCounter: UInt32?) throws(SUNError) {
        guard uid != nil || readCounter != nil else { throw .missing(.piccData) }
        if let readCounter, readCounter > 0xFF_FFFF {
            throw .wrongLength(.readCounter, expected: "3 bytes (at most FFFFFF)", actual: 4)
        }
        tagByte = nil
        self.uid = uid
        self.readCounter = readCounter
        piccRand = nil
    }

    /// Interprets decrypted PICCData: `PICCDataTag ‖ [UID] ‖ [SDMReadCtr, LSB first] ‖ padding`.
    public init(plaintext: [UInt8], piccRand: [UInt8]? = nil) throws(SUNError) {
        guard plaintext.count == 16 else { throw .wrongLength(.piccData, expected: "16 bytes decrypted", actual: plaintext.count) }
        try self.init(block: Block128(padding: plaintext), piccRand: piccRand)
    }

    init(block plaintext: Block128, piccRand: [UInt8]?) throws(SUNError) {
        let tag = plaintext[0]
        let uidMirrored = tag & 0x80 != 0
        let counterMirrored = tag & 0x40 != 0
        let uidLength = tag & 0x0F
        // Bits 5-4 are RFU; a UID that is mirrored must be the 7-byte NTAG 424 UID.
        guard tag & 0x30 == 0, uidMirrored || counterMirrored,
              uidMirrored ? uidLength == 7 : (uidLength == 0 || uidLength == 7) else {
            throw .unknownPICCDataTag(tag)
        }
        var offset = 1
        if uidMirrored {
            uid = TagUID(unchecked: (1..<8).lazy.map { plaintext[$0] })
            offset = 8
        } else {
            uid = nil
        }
        if counterMirrored {
            readCounter = UInt32(plaintext[offset]) | UInt32(plaintext[offset + 1]) << 8 | UInt32(plaintext[offset + 2]) << 16
        } else {
            readCounter = nil
        }
        tagByte = tag
        self.piccRand = piccRand
    }

    /// Decrypts encrypted PICCData with the SDM meta read key: 16 bytes of AES-128 (CBC,
    /// zero IV, one block) in AES mode; `PICCRand(8) ‖ 16 bytes` of LRICB (updated key 0,
    /// counter PICCRand, no padding) in LRP mode.
    public init(decrypting encrypted: [UInt8], key: SDMKey, mode: SDMMode) throws(SUNError) {
        switch mode {
        case .aes:
            guard encrypted.count == 16 else {
                throw .wrongLength(.piccData, expected: "16 bytes (32 hex digits) in AES mode", actual: encrypted.count)
            }
            var block = Block128(padding: encrypted)
            AESBlock.decrypt(&block, key: key.aes.key)
            try self.init(block: block, piccRand: nil)
        case .lrp:
            guard encrypted.count == 24 else {
                throw .wrongLength(.piccData, expected: "24 bytes (48 hex digits: PICCRand and ciphertext) in LRP mode", actual: encrypted.count)
            }
            guard let lrp = key.lrp else { throw .missing(.sdmMetaReadKey) }
            var data = Array(encrypted[8...])
            let rand = Array(encrypted[..<8])
            lrp.cipher.crypt(&data, key: lrp.cipher.updatedKeys[0], counter: Block128(padding: rand), counterLength: 8, encrypting: false)
            try self.init(plaintext: data, piccRand: rand)
        }
    }

    /// The mirrored UID and counter bytes as they enter the session vectors (counter LSB first).
    var mirroredBytes: (block: Block128, count: Int) {
        var block = Block128(repeating: 0)
        var count = 0
        if let uid {
            for i in 0..<7 { block[count] = UInt8(truncatingIfNeeded: uid.value >> (8 * (6 - i))); count += 1 }
        }
        if let readCounter {
            Self.write(counter: readCounter, into: &block, at: count)
            count += 3
        }
        return (block, count)
    }

    /// The read counter LSB first, then zeros: the start of the file-data IV (AES) or counter (LRP).
    func counterBlock() throws(SUNError) -> Block128 {
        guard let readCounter else { throw .missing(.readCounter) }
        var block = Block128(repeating: 0)
        Self.write(counter: readCounter, into: &block, at: 0)
        return block
    }

    private static func write(counter: UInt32, into block: inout Block128, at offset: Int) {
        for i in 0..<3 { block[offset + i] = UInt8(truncatingIfNeeded: counter >> (8 * i)) }
    }
}
