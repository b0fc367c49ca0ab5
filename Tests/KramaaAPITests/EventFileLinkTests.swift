@testable import KramaaAPI
import KramaaJSON
import Testing

/// CIDv0 QmT78zSu… (kubo's "hello world\n") is written as its CIDv1, as in $KRAMAA_VECTORS/cid.
@Suite struct EventFileLinkTests {
    @Test func anEventsIpfsURIsAreItsFilesOnceEachAndOtherStringsAreNot() throws {
        let event = try JSON.parse(Array("""
        {"type": "ObjectEvent", "certificationInfo": ["ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
                                                       "https://example.com/cert.pdf"],
         "sensorElementList": [{"sensorReport": [{"uriValue": "ipfs://QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o/report.pdf?x=1"},
                                                  {"uriValue": "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"},
                                                  {"uriValue": "ipfs://not-a-cid"}]}],
         "bizStep": "ipfs"}
        """.utf8))
        #expect(PlatformEndpoints.filesNamed(in: event) == [.string("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"),
                                                           .string("bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby")])
    }
}
