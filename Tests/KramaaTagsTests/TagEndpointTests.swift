import Foundation
import KramaaJSON
import KramaaNFC
import KramaaPlatform
import KramaaPrimitives
import KramaaTags
import KramaaTestSupport
import Testing

@Suite(.serialized) struct TagEndpointTests {
    /// Vectors whose tap no `/verify` URL can carry, with the reason.
    static let knownExceptions: [String: String] = [
        "custom-keys-encfile-no-param-text": "the MAC input is the file data alone (the MAC follows SDMENCFileData with no parameter name between): no URL of named parameters has that layout",
        "diversified-keys-bulk-kdf1": "the MAC input is the file data alone (sdm-backend's bulk layout): no URL of named parameters has that layout",
    ]

    @Test func everySUNVectorTapIsGenuineOnceThenReplayedOrTampered() async throws {
        var checked = 0
        for tap in try SUNVectorTap.all() {
            guard let sdmmac = tap.sdmmac, let expectedValid = tap.expectedValid else {
                // Decryption and key-derivation examples carry no SDMMAC: they are not taps.
                #expect(tap.macInput == nil || tap.sdmmac == nil, "\(tap.id)")
                continue
            }
            let server = try await TagServer()
            defer { Task { await server.stop() } }
            let target: String
            let start: SDMMACInputStart
            if let url = tap.url {
                (target, start) = ("/verify?url=" + queryEncoded(url), tap.urlStart)
            } else if let made = tap.verifyTarget() {
                (target, start) = made
            } else {
                #expect(Self.knownExceptions[tap.id] != nil, "\(tap.id): no /verify URL carries this tap and it is not a known exception")
                continue
            }
            #expect(Self.knownExceptions[tap.id] == nil, "\(tap.id) is listed as a known exception but verifies")
            guard tap.uid != nil else {
                // The tag mirrors no UID: its PICCData decrypts with a registered meta read key,
                // but there is nothing to look the tag up by.
                try server.store.register(tap.registration(start, uid: "04000000000001"))
                let reply = try await server.get(target)
                #expect(reply.status == 400, "\(tap.id): \(reply.text)")
                #expect(reply.json?["detail"]?.stringValue?.contains("UID") == true, "\(tap.id): \(reply.text)")
                checked += 1
                continue
            }
            try server.store.register(tap.registration(start))
            let uid = try TagUID(hex: try #require(tap.uid))
            let first = try await server.get(target)
            #expect(first.status == 200, "\(tap.id): \(first.text)")
            #expect(first.verdict == (expectedValid ? "genuine" : "tampered"), "\(tap.id): \(first.text) (MAC \(sdmmac))")
            #expect(first.json?["uid"]?.stringValue == uid.description, "\(tap.id)")
            #expect(first.json?["readCounter"]?.numberValue?.uint64 == tap.readCounter.map(UInt64.init), "\(tap.id)")
            #expect(server.store.record(uid)?.lastReadCounter == (expectedValid ? tap.readCounter : nil), "\(tap.id): stored counter")
            let second = try await server.get(target)
            #expect(second.verdict == (expectedValid ? "replayed" : "tampered"), "\(tap.id): \(second.text)")
            // The stored counter survives a restart: the same tap is still refused.
            let reopened = try await TagServer(directory: server.directory)
            let third = try await reopened.get(target)
            #expect(third.verdict == (expectedValid ? "replayed" : "tampered"), "\(tap.id) after reopening: \(third.text)")
            await reopened.stop()
            checked += 1
        }
        #expect(checked >= 10)
    }

    /// AN12196's first example, as a tag programmed with this node's /verify URL writes it.
    static let an12196 = (target: "/verify?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086", uid: "04DE5F1EACC040", counter: 61)

    static func an12196Registration() throws -> TagRegistration {
        try TagRegistration(uid: TagUID(hex: an12196.uid), mode: .aes, metaReadKey: Array(repeating: 0, count: 16),
                            fileReadKey: Array(repeating: 0, count: 16), macInputStart: .empty, organisation: 1)
    }

    @Test func aTamperedCMACIsTamperedAndMovesNoCounter() async throws {
        let server = try await TagServer()
        try server.store.register(Self.an12196Registration())
        let tampered = Self.an12196.target.replacingOccurrences(of: "c=94EED9EE65337086", with: "c=94EED9EE65337087")
        let reply = try await server.get(tampered)
        #expect(reply.status == 200)
        #expect(reply.verdict == "tampered")
        #expect(server.store.record(try TagUID(hex: Self.an12196.uid))?.lastReadCounter == nil)
        // The genuine tap is still accepted afterwards.
        #expect(try await server.get(Self.an12196.target).verdict == "genuine")
        await server.stop()
    }

    @Test func anUnregisteredTagIsUnknown() async throws {
        let server = try await TagServer()
        let reply = try await server.get(Self.an12196.target)
        #expect(reply.status == 200)
        #expect(reply.verdict == "unknown")
        // Plain mirroring names the UID even when the tag is unknown.
        let plain = try await server.get("/verify?uid=041E3C8A2D6B80&ctr=000006&cmac=4B00064004B0B3D3")
        #expect(plain.verdict == "unknown")
        #expect(plain.json?["uid"]?.stringValue == "041E3C8A2D6B80")
        await server.stop()
    }

    @Test(arguments: [
        ("/verify", "no SUN parameters"),
        ("/verify?e=EF963FF7828658A599F3041510671E8Z&c=94EED9EE65337086", "PICC data is not valid hex"),
        ("/verify?e=EF963FF7828658A599F3041510671E&c=94EED9EE65337086", "PICC data"),
        ("/verify?e=EF963FF7828658A599F3041510671E88&c=94EED9EE653370", "SDMMAC must be 8 bytes"),
        ("/verify?e=EF963FF7828658A599F3041510671E88", "no MAC parameter"),
        ("/verify?e=EF963FF7828658A599F3041510671E88&e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086", "appears twice"),
        ("/verify?e=EF963FF7828658A599F3041510671E88&enc=0011&c=94EED9EE65337086", "encrypted file data"),
        ("/verify?qr=not*base64", "not a Kramaa QR payload"),
        ("/verify?qr=AQE", "not a Kramaa QR payload"),
    ])
    func malformedInputIsA400NamingTheProblemAndChangesNothing(target: String, problem: String) async throws {
        let server = try await TagServer()
        try server.store.register(Self.an12196Registration())
        let reply = try await server.get(target)
        #expect(reply.status == 400, "\(reply.text)")
        #expect(reply.headers["content-type"] == "application/problem+json")
        #expect(reply.json?["status"]?.numberValue?.int == 400)
        #expect(reply.json?["detail"]?.stringValue?.contains(problem) == true, "\(reply.text)")
        #expect(server.store.record(try TagUID(hex: Self.an12196.uid))?.lastReadCounter == nil)
        #expect(try await server.get(Self.an12196.target).verdict == "genuine")
        await server.stop()
    }

    @Test func aBrowserGetsAPageWithTheVerdictAndAsset() async throws {
        let epc = "urn:epc:id:sgtin:0614141.107346.2017"
        var assets = FixedAssets()
        assets.byTag[try TagUID(hex: Self.an12196.uid)] = try FixedAssets.summary(epc: epc)
        let server = try await TagServer(assets: assets)
        try server.store.register(Self.an12196Registration())
        let page = try await server.get(Self.an12196.target, accept: "text/html,application/xhtml+xml,*/*;q=0.8")
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains(#"data-verdict="genuine""#))
        #expect(page.text.contains("GTIN 10614141073464, serial 2017"))
        #expect(!page.text.contains("<script"))
        let json = try await server.get(Self.an12196.target)
        #expect(json.verdict == "replayed")
        #expect(json.json?["asset"]?["epc"]?.stringValue == epc)
        #expect(json.json?["asset"]?["digitalLink"]?.stringValue?.contains("/01/") == true)
        #expect(json.json?["lastReadCounter"]?.numberValue?.int == Self.an12196.counter)
        await server.stop()
    }

    @Test func registrationThroughTheAPIStoresTheTagAndNeverShowsItsKeys() async throws {
        var assets = FixedAssets()
        assets.roles[FixedAssets.manufacturer] = OrganizationRoles.manufacturer.rawValue
        let server = try await TagServer(assets: assets)
        let body = #"{"uid":"04de5f1eacc040","mode":"aes","metaReadKey":"00000000000000000000000000000000","fileReadKey":"000000000000000000000000000000AA","macInputStart":"empty","organisation":4,"from":"0x00000000000000000000000000000000000000A1"}"#
        let created = try await server.post("/api/v1/tags", body)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.headers["location"] == "/api/v1/tags/04DE5F1EACC040")
        let shown = try await server.get("/api/v1/tags/04DE5F1EACC040")
        #expect(shown.status == 200)
        #expect(shown.json?["organization"]?.numberValue?.int == 4)  // registered with the old spelling, still read
        #expect(shown.json?["organisation"]?.numberValue?.int == 4)  // and still written, for one release
        #expect(shown.json?["registeredAt"]?.stringValue?.hasSuffix("Z") == true)
        #expect(shown.json?["macInputStart"]?.stringValue == "empty")
        #expect(!shown.text.contains("000000000000000000000000000000AA") && !shown.text.lowercased().contains("key\""))
        #expect(try await server.post("/api/v1/tags", body).status == 409)
        #expect(try await server.get("/api/v1/tags/04DE5F1EACC041").status == 404)
        #expect(try await server.get("/api/v1/tags/nothex").status == 400)
        for (bad, field) in [("{}", "uid"), (#"{"uid":"04DE5F1EACC041","mode":"aes","fileReadKey":"00","organisation":1}"#, "fileReadKey"),
                             (#"{"uid":"04DE5F1EACC041","mode":"des","fileReadKey":"00000000000000000000000000000000","organisation":1}"#, "mode"),
                             (#"{"uid":"04DE5F1EACC041","mode":"aes","fileReadKey":"00000000000000000000000000000000"}"#, "organization"),
                             (#"{"uid":"04DE5F1EACC041","mode":"aes","fileReadKey":"00000000000000000000000000000000","organisation":1,"macInputStart":"middle"}"#, "macInputStart"),
                             ("[1]", "JSON object")] {
            let reply = try await server.post("/api/v1/tags", bad)
            #expect(reply.status == 400, "\(bad): \(reply.text)")
            #expect(reply.json?["detail"]?.stringValue?.contains(field) == true, "\(bad): \(reply.text)")
        }
        #expect(server.store.count == 1)
        await server.stop()
    }

    @Test func signedQRCodesAreGenuineTamperedUnknownOrByAnUnknownSigner() async throws {
        let epc = "urn:epc:id:sgtin:0614141.107346.2018"
        let manufacturer = SigningKey(generating: .p256), stranger = SigningKey(generating: .secp256k1)
        let asset = try FixedAssets.summary(epc: epc)
        var assets = FixedAssets()
        assets.byToken[asset.tokenId] = asset
        assets.roles[manufacturer.publicKey.address] = 1 << 1
        let server = try await TagServer(assets: assets)
        let good = try QRPayload.sign(item: epc, issuedAt: 1_700_000_000, key: manufacturer)
        let reply = try await server.get("/verify?qr=" + good.encoded)
        #expect(reply.verdict == "genuine", "\(reply.text)")
        #expect(reply.json?["qr"]?["item"]?.stringValue == epc)
        #expect(reply.json?["asset"]?["epc"]?.stringValue == epc)
        var bytes = good.bytes
        bytes[bytes.count - 70] ^= 1  // inside the item or nonce: the signature no longer matches
        let altered = try QRPayload(encoded: Base64URLForTests.encode(bytes))
        #expect(try await server.get("/verify?qr=" + altered.encoded).verdict == "tampered")
        let byStranger = try QRPayload.sign(item: epc, issuedAt: 1_700_000_000, key: stranger)
        #expect(try await server.get("/verify?qr=" + byStranger.encoded).verdict == "unknownSigner")
        let other = try QRPayload.sign(item: "urn:epc:id:sgtin:0614141.107346.9999", issuedAt: 1, key: manufacturer)
        #expect(try await server.get("/verify?qr=" + other.encoded).verdict == "unknown")
        await server.stop()
    }

    @Test func qrPayloadsRoundTripForEveryKeyTypeAndRejectTruncation() throws {
        for type in KeyType.allCases {
            let key = SigningKey(generating: type)
            let payload = try QRPayload.sign(item: "urn:epc:id:sscc:0614141.1234567890", issuedAt: 42, key: key, nonce: Array(1...8))
            let decoded = try QRPayload(encoded: payload.encoded)
            #expect(decoded == payload)
            #expect(decoded.signatureIsValid)
            #expect(decoded.signer == key.publicKey)
            for cut in [1, 10, 64] {
                #expect(throws: QRPayloadError.self) { try QRPayload(encoded: Base64URLForTests.encode(Array(payload.bytes.dropLast(cut)))) }
            }
            #expect(throws: QRPayloadError.self) { try QRPayload(encoded: Base64URLForTests.encode(payload.bytes + [0])) }
        }
        #expect(throws: QRPayloadError.self) { try QRPayload.sign(item: "", issuedAt: 0, key: SigningKey(generating: .ed25519)) }
    }
}

/// Base64url without padding, written independently of the module's encoder.
enum Base64URLForTests {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
