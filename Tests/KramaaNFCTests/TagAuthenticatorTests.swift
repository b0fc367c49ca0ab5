import Foundation
import Testing
import KramaaPrimitives
import KramaaNFC

/// Tap classification: genuine only with a right MAC and a strictly increasing counter.
@Suite struct TagAuthenticatorTests {
    static let zero = [UInt8](repeating: 0, count: 16)
    // AN12196 page-18 example: UID 04958CAA5C5E80, counter 8, all-zero keys.
    static let url = "https://www.my424dna.com/?picc_data=FD91EC264309878BE6345CBE53BADF40&enc=CEE9A53E3E463EF1F459635736738962&cmac=ECC1E7F6C6C73BF6"
    // sdm-backend LRP example: UID 042E1D222A6380, counter 123, all-zero keys, MAC input after the scheme.
    static let lrpURL = "https://any.domain/?m=65628ED36888CF9C84797E43ECACF114C6ED9A5E101EB592x4ADE304B5AB9474CB40AFFCAB0607A85x87E287E8135BFC06"

    static func registry(_ mode: SDMMode, last: UInt32?) throws -> (TagUID) -> RegisteredTag? {
        let tag = RegisteredTag(keys: try SDMKeys(mode: mode, metaReadKey: nil, fileReadKey: zero), lastReadCounter: last)
        let known: Set<TagUID> = [try TagUID(hex: "04958CAA5C5E80"), try TagUID(hex: "042E1D222A6380")]
        return { known.contains($0) ? tag : nil }
    }

    static func authenticate(_ url: String = url, start: SDMMACInputStart = .conventional, mode: SDMMode = .aes, last: UInt32?) throws -> TapResult {
        try TagAuthenticator(sdmMetaReadKey: zero).authenticate(SUNURL(url).message(macInputStart: start), lookup: registry(mode, last: last))
    }

    @Test func counterRuleIsStrictlyIncreasing() throws {
        let uid = try TagUID(hex: "04958CAA5C5E80")
        #expect(TagAuthenticator.verdict(uid: uid, readCounter: 0, macIsValid: true, lastReadCounter: nil) == .genuine(uid: uid, readCounter: 0))
        #expect(TagAuthenticator.verdict(uid: uid, readCounter: 9, macIsValid: true, lastReadCounter: 8) == .genuine(uid: uid, readCounter: 9))
        #expect(TagAuthenticator.verdict(uid: uid, readCounter: 8, macIsValid: true, lastReadCounter: 8) == .replayed(uid: uid, readCounter: 8, lastReadCounter: 8))
        #expect(TagAuthenticator.verdict(uid: uid, readCounter: 7, macIsValid: true, lastReadCounter: 8) == .replayed(uid: uid, readCounter: 7, lastReadCounter: 8))
        #expect(TagAuthenticator.verdict(uid: uid, readCounter: 9, macIsValid: false, lastReadCounter: 8) == .tampered(uid: uid))
        #expect(TagAuthenticator.verdict(uid: uid, readCounter: 9, macIsValid: false, lastReadCounter: 8).newLastReadCounter == nil)
        #expect(TagAuthenticator.verdict(uid: uid, readCounter: 9, macIsValid: true, lastReadCounter: 8).newLastReadCounter == 9)
    }

    @Test func aFreshTapIsGenuineAndMovesTheCounter() throws {
        let uid = try TagUID(hex: "04958CAA5C5E80")
        for last in [nil, 0, 7] as [UInt32?] {
            let result = try Self.authenticate(last: last)
            #expect(result.verdict == .genuine(uid: uid, readCounter: 8), "last \(String(describing: last))")
            #expect(result.verdict.newLastReadCounter == 8)
            #expect(result.reading?.fileData == Array("xxxxxxxxxxxxxxxx".utf8))
        }
    }

    @Test func anOldURLIsAReplay() throws {
        let uid = try TagUID(hex: "04958CAA5C5E80")
        #expect(try Self.authenticate(last: 8).verdict == .replayed(uid: uid, readCounter: 8, lastReadCounter: 8))
        #expect(try Self.authenticate(last: 100).verdict == .replayed(uid: uid, readCounter: 8, lastReadCounter: 100))
    }

    @Test func aChangedMACOrFileDataIsTampered() throws {
        let uid = try TagUID(hex: "04958CAA5C5E80")
        let badMAC = Self.url.replacingOccurrences(of: "ECC1E7F6C6C73BF6", with: "3CC1E7F6C6C33B33")
        #expect(try Self.authenticate(badMAC, last: nil).verdict == .tampered(uid: uid))
        let badFile = Self.url.replacingOccurrences(of: "CEE9A53E", with: "CEE9A53F")
        #expect(try Self.authenticate(badFile, last: nil).verdict == .tampered(uid: uid))
        // A tag registered in LRP mode cannot have made an AES-mode message.
        #expect(try Self.authenticate(mode: .lrp, last: nil).verdict == .tampered(uid: uid))
    }

    @Test func anUnregisteredUIDIsUnknown() throws {
        let url = "https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086"
        let result = try Self.authenticate(url, last: nil)
        #expect(result.verdict == .unknown(uid: try TagUID(hex: "04DE5F1EACC040")))
        #expect(result.reading == nil)
    }

    @Test func lrpTagsAreRecognisedByTheirPICCDataLength() throws {
        let uid = try TagUID(hex: "042E1D222A6380")
        let result = try Self.authenticate(Self.lrpURL, start: .afterScheme, mode: .lrp, last: 122)
        #expect(result.verdict == .genuine(uid: uid, readCounter: 123))
        #expect(result.reading?.fileData == Array("0102030400000000".utf8))
        #expect(try Self.authenticate(Self.lrpURL, start: .afterScheme, mode: .lrp, last: 123).verdict
                == .replayed(uid: uid, readCounter: 123, lastReadCounter: 123))
    }

    @Test func tapsWithoutUIDOrCounterCannotBeClassified() throws {
        let authenticator = try TagAuthenticator(sdmMetaReadKey: nil)
        let uidOnly = try SUNMessage(uidHex: "041E3C8A2D6B80", readCounterHex: nil as String?, encHex: nil as String?, cmacHex: "0000000000000000")
        #expect(throws: SUNError.missing(.readCounter)) { try authenticator.authenticate(uidOnly, lookup: { _ in nil }) }
        let counterOnly = try SUNMessage(uidHex: nil as String?, readCounterHex: "000006", encHex: nil as String?, cmacHex: "0000000000000000")
        #expect(throws: SUNError.missing(.uid)) { try authenticator.authenticate(counterOnly, lookup: { _ in nil }) }
        let encrypted = try SUNURL(Self.url).message()
        #expect(throws: SUNError.missing(.sdmMetaReadKey)) { try authenticator.authenticate(encrypted, lookup: { _ in nil }) }
    }
}
