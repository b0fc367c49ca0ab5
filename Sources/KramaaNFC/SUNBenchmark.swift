/// Verification workloads for the bench executable, which times them (this module has no clock).
/// The messages are published examples: AN12196's two worked URLs and sdm-backend's LRP URL.
public enum SUNBenchmark {
    /// One kind of tap, verified over and over.
    public struct Workload: Sendable {
        public let name: String
        let url: String
        let macInputStart: SDMMACInputStart
        let message: SUNMessage
        let keys: SDMKeys
        let includesURLParsing: Bool

        /// Verifies the tap `iterations` times; returns how many verified (all of them, unless broken).
        public func run(iterations: Int) -> Int {
            var valid = 0
            for _ in 0..<iterations {
                do {
                    let message = includesURLParsing ? try SUNURL(url).message(macInputStart: macInputStart) : self.message
                    if try SUNVerifier.verify(message, keys: keys).macIsValid { valid += 1 }
                } catch {
                    return valid
                }
            }
            return valid
        }
    }

    /// AES with empty MAC input, AES with file data, the same from the URL text, and LRP with file data.
    public static func workloads() throws(SUNError) -> [Workload] {
        let zero = [UInt8](repeating: 0, count: 16)
        let aes = try SDMKeys(mode: .aes, metaReadKey: zero, fileReadKey: zero)
        let lrp = try SDMKeys(mode: .lrp, metaReadKey: zero, fileReadKey: zero)
        let specs: [(String, String, SDMMACInputStart, SDMKeys, Bool)] = [
            ("AES, PICCData + MAC", "https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086", .empty, aes, false),
            ("AES, PICCData + 16-byte file data + MAC", "https://www.my424dna.com/?picc_data=FD91EC264309878BE6345CBE53BADF40&enc=CEE9A53E3E463EF1F459635736738962&cmac=ECC1E7F6C6C73BF6", .encFileData, aes, false),
            ("AES, URL parse + verify", "https://www.my424dna.com/?picc_data=FD91EC264309878BE6345CBE53BADF40&enc=CEE9A53E3E463EF1F459635736738962&cmac=ECC1E7F6C6C73BF6", .encFileData, aes, true),
            ("LRP, PICCData + 16-byte file data + MAC", "https://any.domain/?m=65628ED36888CF9C84797E43ECACF114C6ED9A5E101EB592x4ADE304B5AB9474CB40AFFCAB0607A85x87E287E8135BFC06", .afterScheme, lrp, false),
        ]
        var out: [Workload] = []
        for (name, url, start, keys, parsing) in specs {
            out.append(Workload(name: name, url: url, macInputStart: start, message: try SUNURL(url).message(macInputStart: start),
                                keys: keys, includesURLParsing: parsing))
        }
        return out
    }
}
