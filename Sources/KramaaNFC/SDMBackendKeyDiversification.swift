import Crypto

/// The key diversification of the open-source `nfc-developer/sdm-backend` project, so that
/// tags personalised with its tools can be verified here. It is that project's own scheme,
/// not an NXP standard (in particular not AN10922).
///
/// An all-zero master key (factory keys) maps to all-zero keys. Otherwise the undiversified
/// key is `HMAC-SHA256(master, "PICCDataKey")[0..<16]` and the key number `n` of a tag is
/// `AES-CMAC(HMAC-SHA256(master, "SlotMasterKey" ‖ n)[0..<16], 01 ‖ HMAC-SHA256(HMAC-SHA256(master, "DivBaseKey"), UID)[0..<16])`.
public enum SDMBackendKeyDiversification {
    /// The key shared by all tags (the SDM meta read key in that project's setup).
    public static func undiversifiedKey(master: [UInt8]) throws(SUNError) -> [UInt8] {
        try checkMaster(master)
        if master.allSatisfy({ $0 == 0 }) { return master }
        return hmac(master, Array("PICCDataKey".utf8))
    }

    /// Key number `keyNumber` of the tag with `uid`.
    public static func tagKey(master: [UInt8], uid: TagUID, keyNumber: UInt8) throws(SUNError) -> [UInt8] {
        try checkMaster(master)
        if master.allSatisfy({ $0 == 0 }) { return master }
        let slotKey = hmac(master, Array("SlotMasterKey".utf8) + [keyNumber])
        let divBase = hmac(master, Array("DivBaseKey".utf8), length: 32)
        let message = [0x01] + hmac(divBase, uid.bytes)
        return try AESCMAC(key: slotKey).mac(message)
    }

    private static func checkMaster(_ master: [UInt8]) throws(SUNError) {
        guard master.count == 16 else { throw .wrongLength(.masterKey, expected: "16 bytes", actual: master.count) }
    }

    private static func hmac(_ key: [UInt8], _ message: [UInt8], length: Int = 16) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)).prefix(length))
    }
}
